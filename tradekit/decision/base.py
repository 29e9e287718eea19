"""Contracts of the decision layer: what it may ask of the market and the calendar.

The engines never reach into a concrete data service. They depend on two small protocols:

* :class:`MarketView` gives the VIX level known at a bar (``vix(ts_ns)``); the options-aware
  engine also needs :class:`OptionsMarketView` (IV rank and the option chain at that time). The
  options engineer's ``tradekit.data.market.MarketDataService`` satisfies both; tests pass a
  tiny object, and :class:`VixFunction` adapts a plain callable.
* :class:`SessionCalendar` gives the exchange session that contains a timestamp
  (``session_bounds(ts_ns) -> (open_ns, close_ns) | None``), which is how holidays and half
  days reach the session gate. ``tradekit.data.calendar.MarketCalendar`` satisfies it.

Every time argument is int nanoseconds UTC of the **bar** being decided, never the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tradekit._typing import FloatArray
from tradekit.errors import DataError

__all__ = [
    "MarketView",
    "OptionsMarketView",
    "SessionCalendar",
    "VixFunction",
    "as_market_view",
    "check_setup_types",
    "clean_levels",
    "default_calendar",
    "finite_float",
    "reachable_targets",
]


@runtime_checkable
class MarketView(Protocol):
    """Market data the directional engine reads (only what was known at ``ts_ns``)."""

    def vix(self, ts_ns: int, /) -> float | None:
        """The last VIX value known at ``ts_ns`` (index points), or ``None`` when unknown."""
        ...


@runtime_checkable
class OptionsMarketView(MarketView, Protocol):
    """Market data the options-aware engine reads."""

    def iv_rank(self, symbol: str, ts_ns: int, /) -> float | None:
        """IV rank of ``symbol`` in percent [0, 100] known at ``ts_ns`` (``None`` if unknown)."""
        ...

    def option_chain(self, symbol: str, ts_ns: int, /) -> Any:
        """The option chain of ``symbol`` at ``ts_ns`` (an ``OptionChain``; ``None`` if none)."""
        ...


@runtime_checkable
class SessionCalendar(Protocol):
    """An exchange calendar: the session containing a timestamp, or ``None`` outside any."""

    def session_bounds(self, ts_ns: int, /) -> tuple[int, int] | None:
        """``(open_ns, close_ns)`` of the session containing ``ts_ns``; ``None`` when closed."""
        ...


@dataclass(frozen=True, slots=True)
class VixFunction:
    """Adapt a callable ``fn(ts_ns) -> float | None`` to :class:`MarketView`.

    NaN and non-positive values are reported as missing (``None``), so a broken feed can never
    pass the volatility gate by accident.

    Examples
    --------
    >>> VixFunction(lambda ts: 18.5).vix(0)
    18.5
    >>> VixFunction(lambda ts: float("nan")).vix(0) is None
    True
    """

    fn: Callable[[int], float | None]

    def vix(self, ts_ns: int) -> float | None:
        return clean_level(self.fn(ts_ns))


def finite_float(value: object) -> float | None:
    """``float(value)`` when it is a finite number, else ``None`` (a missing market value:
    ``None``, NaN, infinity, or something that is not a number at all)."""
    if value is None:
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def clean_level(value: object) -> float | None:
    """``float(value)`` when it is a finite positive number, else ``None`` (missing)."""
    x = finite_float(value)
    return x if x is not None and x > 0 else None


def clean_levels(values: FloatArray) -> FloatArray:
    """:func:`clean_level` over an array: the finite positive values, NaN for the rest."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(x) & (x > 0), x, np.nan)


def as_market_view(market: MarketView | Callable[[int], float | None] | None) -> MarketView | None:
    """Coerce a callable to :class:`VixFunction`; pass a :class:`MarketView` through."""
    if market is None or isinstance(market, MarketView):
        return market
    if callable(market):
        return VixFunction(market)
    raise TypeError(f"market must be a MarketView or a callable, got {type(market).__name__}")


def default_calendar(name: str) -> SessionCalendar:
    """The data layer's exchange calendar ``name`` (``"XNYS"``), imported lazily.

    Raises
    ------
    ConfigError
        When ``tradekit.data.calendar`` is unavailable or does not know ``name``.
    """
    from tradekit.errors import ConfigError

    try:
        from tradekit.data import calendar as _cal
    except ImportError as exc:  # pragma: no cover - depends on install
        raise ConfigError(f"no market calendar available ({exc}); pass calendar=") from None
    getter = getattr(_cal, "get_calendar", None)
    try:
        cal = getter(name) if getter is not None else _cal.MarketCalendar(name)
    except Exception as exc:
        raise ConfigError(f"cannot build market calendar {name!r}: {exc}") from None
    if not isinstance(cal, SessionCalendar):  # pragma: no cover - defensive
        raise ConfigError(f"calendar {name!r} has no session_bounds(ts_ns)")
    return cal


_NUMBER_FIELDS = ("entry", "stop", "tp1", "tp2", "tp3", "confidence", "score")
_INT_FIELDS = ("ts_ns", "direction", "confluence_count")


def check_setup_types(setup: Any) -> None:
    """Raise :class:`~tradekit.errors.DataError` (rule ``setup_fields``) when a field of
    ``setup`` has a type no gate can compare: a price that is not a number, a time or count
    that is not an integer, signal kinds that are not strings.

    Values are the gates' business (a NaN entry fails gate 1 with its reason); types are not:
    a ``None`` entry from a hand-made setup would otherwise fail deep inside scoring.
    """
    s = setup
    if (  # the common case, in one test: floats, ints and a tuple, as the pipeline makes them
        type(s.entry) is float
        and type(s.stop) is float
        and type(s.tp1) is float
        and type(s.tp2) is float
        and type(s.tp3) is float
        and type(s.confidence) is float
        and type(s.score) is float
        and type(s.ts_ns) is int
        and type(s.direction) is int
        and type(s.confluence_count) is int
        and type(s.active_signals) is tuple
    ):
        return
    for name in _NUMBER_FIELDS:
        v = getattr(setup, name, None)
        if type(v) is not float and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
            _bad_setup(setup, name, v, "is not a number")
    for name in _INT_FIELDS:
        v = getattr(setup, name, None)
        if type(v) is not int and not (isinstance(v, int) and not isinstance(v, bool)):
            _bad_setup(setup, name, v, "is not an integer")
    kinds = getattr(setup, "active_signals", None)
    if not isinstance(kinds, (tuple, list)) or not all(isinstance(k, str) for k in kinds):
        _bad_setup(setup, "active_signals", kinds, "is not a sequence of signal kinds")


def _bad_setup(setup: Any, name: str, value: object, why: str) -> None:
    raise DataError(
        f"malformed setup {getattr(setup, 'id', '?')!r}: {name} {value!r} {why}",
        rule="setup_fields",
    )


def reachable_targets(setup: Any) -> tuple[float, ...]:
    """TP1..TP3 of a setup that a price can reach: finite, > 0 and beyond the entry in the
    trade's direction. A short on a $1 stock can have an R-multiple TP3 below zero; such a
    level is dropped rather than recorded (the origin system stored impossible levels)."""
    d, entry = setup.direction, setup.entry
    out = []  # a plain loop: a generator or comprehension costs more for three levels
    for t in (setup.tp1, setup.tp2, setup.tp3):
        if _isfinite(t) and t > 0 and d * (t - entry) > 0:
            out.append(float(t))
    return tuple(out)


_isfinite = math.isfinite
