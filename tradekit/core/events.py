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
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
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
        return (
            f"{self.underlying:<6}{self.expiry:%y%m%d}{self.right.value}"
            f"{round(self.strike * 1000):08d}"
        )


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
    Greeks (already multiplied by quantity and multiplier)."""

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


# -- fast constructors --------------------------------------------------------------------------
# The broker builds several of these records per order (an order snapshot per transition, the
# fill, the position snapshot) and the decision engine one GateResult per gate, so their
# construction is on the hot path. A frozen dataclass ``__init__`` writes every field through
# ``object.__setattr__`` (a global lookup and a generic call per field); writing through the
# slot's own member descriptor (``Fill.price.__set__``) does the same store about twice as
# fast. The hand-written ``__init__`` functions below replace the generated ones on the hot
# records: same parameters, order and defaults (a test compares them with the dataclass
# ones), and the frozen ``__setattr__`` guard, ``__eq__``, ``__hash__``, ``__repr__``,
# ``dataclasses.replace``/``asdict`` and pickling are untouched.

_Setter = Callable[[object, Any], None]


def _slot_setters(cls: type) -> tuple[_Setter, ...]:
    """The ``__set__`` of each slot of the slotted dataclass ``cls``, in field order."""
    return tuple(getattr(cls, f.name).__set__ for f in fields(cls))


_GATE_SET = _slot_setters(GateResult)


def _gate_result_init(
    self: GateResult,
    name: str,
    passed: bool,
    observed: float | str | None,
    threshold: float | str | None,
    reason: str,
    evaluated_after_block: bool = False,
) -> None:
    s_name, s_passed, s_observed, s_threshold, s_reason, s_after = _GATE_SET
    s_name(self, name)
    s_passed(self, passed)
    s_observed(self, observed)
    s_threshold(self, threshold)
    s_reason(self, reason)
    s_after(self, evaluated_after_block)


_DECISION_SET = _slot_setters(Decision)


def _decision_init(
    self: Decision,
    id: str,
    setup_id: str,
    symbol: str,
    ts_ns: int,
    action: DecisionAction,
    gates: tuple[GateResult, ...],
    block_reason: str | None,
    direction: int,
    quantity: float,
    entry: float,
    stop: float,
    targets: tuple[float, ...],
    mode: TradeMode | None = None,
    strategy: str = "stock",
    legs: tuple[Leg, ...] = (),
    timeframe_class: TimeframeClass | None = None,
    risk_amount: float = 0.0,
    expected_rr: float = _NAN,
    score_breakdown: Mapping[str, float] = _EMPTY,
    config_version: str = "",
    config_hash: str = "",
    processing_time_us: float = 0.0,
    warnings: tuple[str, ...] = (),
) -> None:
    (
        s_id, s_setup_id, s_symbol, s_ts_ns, s_action, s_gates, s_block_reason, s_direction,
        s_quantity, s_entry, s_stop, s_targets, s_mode, s_strategy, s_legs, s_timeframe_class,
        s_risk_amount, s_expected_rr, s_score_breakdown, s_config_version, s_config_hash,
        s_processing_time_us, s_warnings,
    ) = _DECISION_SET  # fmt: skip
    s_id(self, id)
    s_setup_id(self, setup_id)
    s_symbol(self, symbol)
    s_ts_ns(self, ts_ns)
    s_action(self, action)
    s_gates(self, gates)
    s_block_reason(self, block_reason)
    s_direction(self, direction)
    s_quantity(self, quantity)
    s_entry(self, entry)
    s_stop(self, stop)
    s_targets(self, targets)
    s_mode(self, mode)
    s_strategy(self, strategy)
    s_legs(self, legs)
    s_timeframe_class(self, timeframe_class)
    s_risk_amount(self, risk_amount)
    s_expected_rr(self, expected_rr)
    s_score_breakdown(self, score_breakdown)  # the dataclass default_factory returns _EMPTY
    s_config_version(self, config_version)
    s_config_hash(self, config_hash)
    s_processing_time_us(self, processing_time_us)
    s_warnings(self, warnings)


_ORDER_SET = _slot_setters(Order)


def _order_init(
    self: Order,
    id: str,
    symbol: str,
    side: Side,
    quantity: float,
    order_type: OrderType,
    ts_ns: int,
    status: OrderStatus = OrderStatus.NEW,
    tif: TimeInForce = TimeInForce.DAY,
    limit_price: float | None = None,
    stop_price: float | None = None,
    filled_qty: float = 0.0,
    avg_fill_price: float = _NAN,
    multiplier: float = 1.0,
    legs: tuple[Leg, ...] = (),
    decision_id: str | None = None,
    tag: str = "",
    reason: str = "",
) -> None:
    (
        s_id, s_symbol, s_side, s_quantity, s_order_type, s_ts_ns, s_status, s_tif,
        s_limit_price, s_stop_price, s_filled_qty, s_avg_fill_price, s_multiplier, s_legs,
        s_decision_id, s_tag, s_reason,
    ) = _ORDER_SET  # fmt: skip
    s_id(self, id)
    s_symbol(self, symbol)
    s_side(self, side)
    s_quantity(self, quantity)
    s_order_type(self, order_type)
    s_ts_ns(self, ts_ns)
    s_status(self, status)
    s_tif(self, tif)
    s_limit_price(self, limit_price)
    s_stop_price(self, stop_price)
    s_filled_qty(self, filled_qty)
    s_avg_fill_price(self, avg_fill_price)
    s_multiplier(self, multiplier)
    s_legs(self, legs)
    s_decision_id(self, decision_id)
    s_tag(self, tag)
    s_reason(self, reason)


_FILL_SET = _slot_setters(Fill)


def _fill_init(
    self: Fill,
    id: str,
    order_id: str,
    symbol: str,
    side: Side,
    quantity: float,
    price: float,
    ts_ns: int,
    commission: float = 0.0,
    slippage: float = 0.0,
    multiplier: float = 1.0,
    leg_index: int = 0,
    decision_id: str | None = None,
) -> None:
    (
        s_id, s_order_id, s_symbol, s_side, s_quantity, s_price, s_ts_ns, s_commission,
        s_slippage, s_multiplier, s_leg_index, s_decision_id,
    ) = _FILL_SET  # fmt: skip
    s_id(self, id)
    s_order_id(self, order_id)
    s_symbol(self, symbol)
    s_side(self, side)
    s_quantity(self, quantity)
    s_price(self, price)
    s_ts_ns(self, ts_ns)
    s_commission(self, commission)
    s_slippage(self, slippage)
    s_multiplier(self, multiplier)
    s_leg_index(self, leg_index)
    s_decision_id(self, decision_id)


_POSITION_SET = _slot_setters(PositionSnapshot)


def _position_snapshot_init(
    self: PositionSnapshot,
    ts_ns: int,
    symbol: str,
    quantity: float,
    avg_price: float,
    market_price: float,
    multiplier: float = 1.0,
    unrealized_pnl: float = 0.0,
    realized_pnl: float = 0.0,
    delta: float = 0.0,
    gamma: float = 0.0,
    theta: float = 0.0,
    vega: float = 0.0,
    stop: float | None = None,
    targets: tuple[float, ...] = (),
) -> None:
    (
        s_ts_ns, s_symbol, s_quantity, s_avg_price, s_market_price, s_multiplier,
        s_unrealized_pnl, s_realized_pnl, s_delta, s_gamma, s_theta, s_vega, s_stop, s_targets,
    ) = _POSITION_SET  # fmt: skip
    s_ts_ns(self, ts_ns)
    s_symbol(self, symbol)
    s_quantity(self, quantity)
    s_avg_price(self, avg_price)
    s_market_price(self, market_price)
    s_multiplier(self, multiplier)
    s_unrealized_pnl(self, unrealized_pnl)
    s_realized_pnl(self, realized_pnl)
    s_delta(self, delta)
    s_gamma(self, gamma)
    s_theta(self, theta)
    s_vega(self, vega)
    s_stop(self, stop)
    s_targets(self, targets)


#: Records whose generated ``__init__`` is replaced by the hand-written one above (tests
#: check each against the dataclass-generated signature and behaviour).
FAST_INIT: dict[type, Callable[..., None]] = {
    GateResult: _gate_result_init,
    Decision: _decision_init,
    Order: _order_init,
    Fill: _fill_init,
    PositionSnapshot: _position_snapshot_init,
}
for _cls, _init in FAST_INIT.items():
    _init.__qualname__ = f"{_cls.__qualname__}.__init__"
    setattr(_cls, "__init__", _init)  # noqa: B010 (mypy: keep the dataclass signature)
del _cls, _init


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
