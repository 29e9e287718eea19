"""Frozen event records: what happened, as plain immutable values.

These are the currency of the :class:`~tradekit.core.bus.EventBus`, of the journal and of the
store. Timestamps are int nanoseconds UTC (``*_ns``); prices in currency; quantities are
*signed* where a position is meant (long > 0, short < 0) and *positive* on orders and fills,
whose direction is the ``side``. Option quantities are in contracts; ``multiplier`` converts to
currency (100 for listed equity options, 1 for stock).

Conventions for records that reach the store: ``id`` is deterministic (see
:func:`tradekit.core.ids.make_id`), so re-publishing the same event is idempotent.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from tradekit.core.enums import (
    AlertLevel,
    DecisionAction,
    OrderStatus,
    OrderType,
    Right,
    Side,
    TimeframeClass,
    TimeInForce,
    TradeMode,
)
from tradekit.core.records import fast_record

__all__ = [
    "Alert",
    "Bar",
    "Decision",
    "Fill",
    "GateResult",
    "Leg",
    "OptionContract",
    "Order",
    "PositionSnapshot",
    "Setup",
    "Signal",
    "StateChange",
    "to_dict",
]

_EMPTY: Mapping[str, float] = {}
_NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Bar:
    """One closed OHLCV bar. ``ts_ns`` is the bar's **open** time; it closes at
    ``ts_ns + duration_ns``."""

    symbol: str
    timeframe: str
    ts_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    duration_ns: int = 60_000_000_000

    @property
    def close_ts_ns(self) -> int:
        """When the bar closed (and became usable)."""
        return self.ts_ns + self.duration_ns


@dataclass(frozen=True, slots=True)
class Signal:
    """One detector event (SIGNALS.md §0 event record).

    ``ts_ns`` is the open time of the emission bar ``index``: the event is known at that bar's
    close and can be acted on from the next bar's open. ``levels`` holds the kind's own
    prices (FVG ``top``/``bottom``/``mid``, BOS ``level``, sweep ``extreme``...).
    """

    id: str
    symbol: str
    timeframe: str
    kind: str
    ts_ns: int
    index: int
    anchor_index: int
    direction: int
    entry: float
    stop: float
    target: float
    strength: float = 1.0
    tag: str | None = None
    levels: Mapping[str, float] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Setup:
    """A confluence of same-direction signals: the input of the decision engine (SIGNALS.md §5.1)."""

    id: str
    symbol: str
    timeframe: str
    ts_ns: int
    index: int
    direction: int
    entry: float
    stop: float
    tp1: float
    tp2: float
    tp3: float
    confidence: float
    score: float
    confluence_count: int
    active_signals: tuple[str, ...]
    signal_ids: tuple[str, ...] = ()
    htf_bias: int = 0


@dataclass(frozen=True, slots=True)
class GateResult:
    """The verdict of one decision gate, with what it saw and what it compared against."""

    name: str
    passed: bool
    observed: float | str | None
    threshold: float | str | None
    reason: str
    evaluated_after_block: bool = False


@dataclass(frozen=True, slots=True)
class OptionContract:
    """A listed option. ``expiry`` is the expiration date (exchange close, New York)."""

    underlying: str
    expiry: dt.date
    strike: float
    right: Right
    multiplier: float = 100.0

    @property
    def symbol(self) -> str:
        """OCC-style symbol, e.g. ``SPY   250117C00450000``."""
        return _occ_symbol(self)


@lru_cache(maxsize=4096)
def _occ_symbol(c: OptionContract) -> str:
    # a position's symbol is asked for on every bar it is marked: formatted once
    return f"{c.underlying:<6}{c.expiry:%y%m%d}{c.right.value}{round(c.strike * 1000):08d}"


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of an order or structure: ``ratio`` contracts per unit (+1 long, -1 short)."""

    contract: OptionContract
    ratio: int
    price: float = float("nan")
    delta: float = float("nan")


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision engine's verdict on one setup, with every gate's result."""

    id: str
    setup_id: str
    symbol: str
    ts_ns: int
    action: DecisionAction
    gates: tuple[GateResult, ...]
    block_reason: str | None
    direction: int
    quantity: float
    entry: float
    stop: float
    targets: tuple[float, ...]
    mode: TradeMode | None = None
    strategy: str = "stock"
    legs: tuple[Leg, ...] = ()
    timeframe_class: TimeframeClass | None = None
    risk_amount: float = 0.0
    expected_rr: float = _NAN
    score_breakdown: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    config_version: str = ""
    config_hash: str = ""
    processing_time_us: float = 0.0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Order:
    """A snapshot of an order's state (the mutable state machine lives in ``execution``)."""

    id: str
    symbol: str
    side: Side
    quantity: float
    order_type: OrderType
    ts_ns: int
    status: OrderStatus = OrderStatus.NEW
    tif: TimeInForce = TimeInForce.DAY
    limit_price: float | None = None
    stop_price: float | None = None
    filled_qty: float = 0.0
    avg_fill_price: float = _NAN
    multiplier: float = 1.0
    legs: tuple[Leg, ...] = ()
    decision_id: str | None = None
    tag: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution. ``price`` already includes slippage; ``slippage`` is its cost in currency
    (always >= 0, against the trader); ``commission`` is currency paid on this fill."""

    id: str
    order_id: str
    symbol: str
    side: Side
    quantity: float
    price: float
    ts_ns: int
    commission: float = 0.0
    slippage: float = 0.0
    multiplier: float = 1.0
    leg_index: int = 0
    decision_id: str | None = None


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """A position at one instant; ``quantity`` is signed (short < 0). Greeks are position
    Greeks (already multiplied by quantity and multiplier); ``iv`` (annualised, 0.2 = 20 %)
    and ``dte`` (calendar days from the mark's New York date to expiry) are the option
    contract's at the mark (NaN for stock). ``portfolio_*`` are the account's Greek totals at
    the same instant (every open position summed, stock as delta)."""

    ts_ns: int
    symbol: str
    quantity: float
    avg_price: float
    market_price: float
    multiplier: float = 1.0
    unrealized_pnl: float = 0.0
    realized_pnl: float = 0.0
    delta: float = 0.0
    gamma: float = 0.0
    theta: float = 0.0
    vega: float = 0.0
    stop: float | None = None
    targets: tuple[float, ...] = ()
    underlying: str | None = None
    iv: float = math.nan
    dte: float = math.nan
    portfolio_delta: float = 0.0
    portfolio_gamma: float = 0.0
    portfolio_theta: float = 0.0
    portfolio_vega: float = 0.0


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    ts_ns: int
    level: AlertLevel
    source: str
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StateChange:
    """A component changed state (risk ACTIVE→HALTED, trader RUNNING→PAUSED, ...)."""

    ts_ns: int
    component: str
    old: str
    new: str
    reason: str = ""


# -- construction ------------------------------------------------------------------------------
# Records built on the hot paths (several per order in the broker, one per gate in the decision
# engine, one per bar and signal in the feeds and detectors) use ``fast_record``: the same
# frozen dataclass, constructed about three times faster (see ``tradekit.core.records``).
for _cls in (Bar, Signal, Setup, GateResult, Decision, Order, Fill, PositionSnapshot):
    fast_record(_cls)
del _cls


def to_dict(event: Any) -> dict[str, Any]:
    """A JSON-friendly ``dict`` of an event record (enums stay as their str/int values,
    dates become ISO strings, nested records become dicts)."""

    def conv(v: Any) -> Any:
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, Mapping):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v

    return {k: conv(v) for k, v in asdict(event).items()}
