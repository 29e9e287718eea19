"""Fill models: *where* an order fills on a bar; the broker does the bookkeeping (STYLE.md §C.3).

Contract: ``fill(order, bar) -> FillResult | None`` is pure — it reads the order's type, side,
prices and trigger flag and the bar, and says at which reference price the order fills (before
slippage) or None. Volume caps, partial fills, time in force and the ledger are the broker's.

:class:`BarPathFillModel` walks the bar along **O → H → L → C**:

* MARKET fills at the open of the first bar the order may see (the bar *after* the decision).
* STOP: gapped through at the open → the open (worse than the stop, as in reality); else touched
  → the stop price.
* LIMIT: gapped through at the open → the open (better than the limit); else touched → the limit.
* STOP_LIMIT: triggered like a stop, then fills like a limit from the trigger point on along the
  path; once triggered it stays triggered on later bars.

Market and stop fills take liquidity (``taker=True``) and pay slippage; limit fills rest in the
book and fill at their price. Twin kernel: :func:`tradekit.execution.nb.match_price_nb`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tradekit.core.enums import OrderType
from tradekit.core.events import Bar
from tradekit.core.records import fast_record
from tradekit.execution.models.registry import FILL_MODELS
from tradekit.execution.orders import OrderState

__all__ = ["BarPathFillModel", "FillModel", "FillResult"]

_NAN = math.nan


@fast_record
@dataclass(frozen=True, slots=True)
class FillResult:
    """What happened to an order on a bar: ``price`` (currency, before slippage; NaN when a
    stop-limit was only triggered), whether the fill takes liquidity (``taker``: slippage applies)
    and the order's trigger flag afterwards."""

    price: float
    taker: bool
    triggered: bool

    @property
    def filled(self) -> bool:
        """True when the order fills on this bar (``price`` is a number)."""
        return self.price == self.price


@runtime_checkable
class FillModel(Protocol):
    """Anything with a pure ``fill`` method."""

    def fill(self, order: OrderState, bar: Bar) -> FillResult | None:
        """The fill of ``order`` on ``bar``; None when nothing happens on this bar, a result
        with ``price`` NaN when only the trigger flag changed (stop-limit triggered, unfilled).

        Not called for orders that may not see ``bar`` yet (``bar.ts_ns < order.not_before_ns``)
        nor for multi-leg option orders (those fill on quotes).
        """
        ...


def _limit(side: int, limit: float, o: float, h: float, low: float) -> float:
    if side > 0:
        return o if o <= limit else (limit if low <= limit else _NAN)
    return o if o >= limit else (limit if h >= limit else _NAN)


def _stop(side: int, stop: float, o: float, h: float, low: float) -> float:
    if side > 0:
        return o if o >= stop else (stop if h >= stop else _NAN)
    return o if o <= stop else (stop if low <= stop else _NAN)


def _stop_limit(
    side: int, stop: float, limit: float, o: float, h: float, low: float, c: float
) -> tuple[float, bool]:
    if side > 0:
        x = _stop(side, stop, o, h, low)
        if math.isnan(x):
            return _NAN, False
        # the H→L segment follows any trigger on the way up
        return (x if x <= limit else (limit if low <= limit else _NAN)), True
    if o <= stop:
        return (o if o >= limit else (limit if h >= limit else _NAN)), True
    if low <= stop:  # triggered on H→L; only the L→C segment is left
        return (stop if stop >= limit else (limit if c >= limit else _NAN)), True
    return _NAN, False


@FILL_MODELS.register("bar_path")
@dataclass(frozen=True, slots=True)
class BarPathFillModel:
    """The O→H→L→C intrabar fill model (see the module docstring)."""

    @staticmethod
    def match(
        order_type: OrderType,
        side: int,
        stop: float,
        limit: float,
        triggered: bool,
        o: float,
        h: float,
        low: float,
        c: float,
    ) -> tuple[float, bool]:
        """``(price, triggered)`` of one order on one bar; price NaN = no fill.

        Examples
        --------
        >>> BarPathFillModel.match(OrderType.STOP, -1, 95.0, 0.0, False, 92.0, 96.0, 91.0, 93.0)
        (92.0, True)
        """
        if order_type is OrderType.MARKET:
            return o, triggered
        if order_type is OrderType.LIMIT:
            return _limit(side, limit, o, h, low), triggered
        if order_type is OrderType.STOP:
            p = _stop(side, stop, o, h, low)
            return p, not math.isnan(p)
        if triggered:
            return _limit(side, limit, o, h, low), True
        return _stop_limit(side, stop, limit, o, h, low, c)

    def fill(self, order: OrderState, bar: Bar) -> FillResult | None:
        r = order.request
        otype = r.order_type
        if otype is OrderType.MARKET:  # the common case, as ``match`` does it: at the open
            o = bar.open
            return None if o != o else FillResult(o, True, order.triggered)
        stop = r.stop_price if r.stop_price is not None else _NAN
        limit = r.limit_price if r.limit_price is not None else _NAN
        price, trig = self.match(
            otype, int(r.side), stop, limit, order.triggered, bar.open, bar.high, bar.low, bar.close
        )
        if math.isnan(price):
            return FillResult(price, False, True) if trig and not order.triggered else None
        taker = otype is OrderType.MARKET or otype is OrderType.STOP
        return FillResult(price, taker, trig)
