"""Slippage models: the price actually paid, always worse than the reference (STYLE.md §C).

Contract: ``price(side, ref_price, qty, bar) -> float`` is pure; ``side`` is +1 (buy) / -1
(sell), ``ref_price`` the price the fill model found (bar open, stop, ...), ``qty`` the units
filled, ``bar`` the bar being matched (for its volume; may be None). The broker applies the
result to the fill price — and therefore to cash — and records
``Fill.slippage = |price - ref_price| × qty × multiplier`` (currency, ≥ 0).

Each model has a numba twin (:func:`tradekit.execution.nb.slippage_price_nb`) selected by
:meth:`nb_args`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from tradekit.core.events import Bar
from tradekit.errors import ConfigError
from tradekit.execution import nb
from tradekit.execution.models.registry import SLIPPAGE_MODELS

__all__ = [
    "FixedBpsSlippage",
    "FunctionSlippage",
    "HalfSpreadSlippage",
    "NoSlippage",
    "SlippageModel",
    "VolumeSlippage",
    "as_slippage",
]


@runtime_checkable
class SlippageModel(Protocol):
    """Anything with a pure ``price`` method."""

    def price(self, side: int, ref_price: float, qty: float, bar: Bar | None) -> float:
        """Fill price after slippage for ``qty`` units at ``ref_price`` (currency)."""
        ...


def _check_bps(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number of basis points >= 0, got {value!r}")


def _adjust(side: int, ref_price: float, bps: float) -> float:
    return ref_price * (1.0 + side * bps * 1e-4)


@SLIPPAGE_MODELS.register("none")
@dataclass(frozen=True, slots=True)
class NoSlippage:
    """Fill at the reference price."""

    def price(self, side: int, ref_price: float, qty: float, bar: Bar | None) -> float:
        return ref_price

    def nb_args(self) -> tuple[int, float, float, float]:
        """``(kind, bps, impact, max_bps)`` for :func:`~tradekit.execution.nb.slippage_price_nb`."""
        return nb.SLIP_NONE, 0.0, 0.0, 0.0


@SLIPPAGE_MODELS.register("fixed_bps")
@dataclass(frozen=True, slots=True)
class FixedBpsSlippage:
    """A fixed ``bps`` basis points against the trader."""

    bps: float = 1.0

    def __post_init__(self) -> None:
        _check_bps("bps", self.bps)

    def price(self, side: int, ref_price: float, qty: float, bar: Bar | None) -> float:
        return ref_price * (1.0 + side * self.bps * 1e-4)  # _adjust, inlined (per fill)

    def nb_args(self) -> tuple[int, float, float, float]:
        return nb.SLIP_FIXED_BPS, self.bps, 0.0, 0.0


@SLIPPAGE_MODELS.register("volume")
@dataclass(frozen=True, slots=True)
class VolumeSlippage:
    """``impact`` bps per 1 % of the bar's volume taken, capped at ``max_bps``.

    Unknown volume (no bar, volume ≤ 0 or NaN) costs ``max_bps``: the conservative choice.
    """

    impact: float = 10.0
    max_bps: float = 100.0

    def __post_init__(self) -> None:
        _check_bps("impact", self.impact)
        _check_bps("max_bps", self.max_bps)

    def bps_for(self, qty: float, volume: float) -> float:
        """Basis points charged for taking ``qty`` out of ``volume``."""
        if not volume > 0.0:
            return self.max_bps
        return min(self.impact * (qty / volume * 100.0), self.max_bps)

    def price(self, side: int, ref_price: float, qty: float, bar: Bar | None) -> float:
        volume = bar.volume if bar is not None else math.nan
        return _adjust(side, ref_price, self.bps_for(qty, volume))

    def nb_args(self) -> tuple[int, float, float, float]:
        return nb.SLIP_VOLUME, 0.0, self.impact, self.max_bps


@SLIPPAGE_MODELS.register("half_spread")
@dataclass(frozen=True, slots=True)
class HalfSpreadSlippage:
    """Pay half of a quoted spread of ``bps`` basis points (stock fills against bars, which have
    no quote; option fills already cross the real bid/ask)."""

    bps: float = 2.0

    def __post_init__(self) -> None:
        _check_bps("bps", self.bps)

    def price(self, side: int, ref_price: float, qty: float, bar: Bar | None) -> float:
        return _adjust(side, ref_price, 0.5 * self.bps)

    def nb_args(self) -> tuple[int, float, float, float]:
        return nb.SLIP_HALF_SPREAD, self.bps, 0.0, 0.0


@dataclass(frozen=True, slots=True)
class FunctionSlippage:
    """Wrap a plain callable ``fn(side, ref_price, qty, bar) -> price`` as a model.

    The result is clamped so it is never better for the trader than ``ref_price``.
    """

    fn: Callable[[int, float, float, Bar | None], float]

    def price(self, side: int, ref_price: float, qty: float, bar: Bar | None) -> float:
        p = float(self.fn(side, ref_price, qty, bar))
        if not math.isfinite(p):
            raise ValueError(f"slippage function returned {p!r}")
        return max(p, ref_price) if side > 0 else min(p, ref_price)


def as_slippage(x: Any) -> SlippageModel:
    """Coerce shorthand to a slippage model.

    ``None``/``0`` → none; a number → fixed bps; a mapping with ``kind`` or a ``SlippageSpec`` →
    the registry; a model (has ``price``) → itself; a callable → :class:`FunctionSlippage`.

    Examples
    --------
    >>> as_slippage(2.5)
    FixedBpsSlippage(bps=2.5)
    >>> as_slippage({"kind": "volume", "impact": 5.0, "max_bps": 50.0})
    VolumeSlippage(impact=5.0, max_bps=50.0)
    """
    if x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0):
        return NoSlippage()
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        try:
            return FixedBpsSlippage(float(x))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if isinstance(x, (Mapping, BaseModel)):
        model: SlippageModel = SLIPPAGE_MODELS.create(x)
        return model
    if hasattr(x, "price"):
        return x
    if callable(x):
        return FunctionSlippage(x)
    raise ConfigError(f"cannot interpret {x!r} as a slippage model")
