"""Order requests, the order state machine and deterministic order ids.

An :class:`OrderRequest` is what the engine (after risk approval) asks the broker to do; it is
immutable and carries no state. The broker wraps it in a mutable :class:`OrderState`, the only
place an order's status changes, always through the transition table below; every change can be
published as an immutable :class:`~tradekit.core.events.Order` snapshot.

Legal transitions::

    NEW              → ACCEPTED | REJECTED
    ACCEPTED         → PARTIALLY_FILLED | FILLED | CANCELLED | EXPIRED
    PARTIALLY_FILLED → PARTIALLY_FILLED | FILLED | CANCELLED | EXPIRED

Anything else raises :class:`~tradekit.errors.IllegalTransition`. Terminal states are FILLED,
CANCELLED, REJECTED and EXPIRED.

Order ids are deterministic (:func:`order_id_for`): ``make_id("ord", decision_id, tag)``, so the
same decision resubmitted after a restart gets the same id and the broker's duplicate-order guard
recognises it.

Multi-leg option orders: ``symbol`` is the underlying, ``legs`` the contracts with signed ratios
(+1 long, -1 short per unit), ``quantity`` the number of units (contracts per ratio 1). The whole
package fills or nothing does. Prices of a multi-leg order are *net per unit*:
``Σ ratio × leg price`` — positive is a debit (paid), negative a credit (received). A BUY limit
fills when the net is ``<= limit`` (a credit spread limit of -1.50 means "receive at least 1.50");
a SELL (closing the package, every leg reversed) fills when the net is ``>= limit``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from tradekit.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tradekit.core.events import Decision, Leg, OptionContract, Order
from tradekit.core.ids import make_id
from tradekit.core.records import fast_record
from tradekit.errors import IllegalTransition

__all__ = [
    "LEGAL_TRANSITIONS",
    "OrderRequest",
    "OrderState",
    "closing_request",
    "deterministic_order_id",
    "fill_id",
    "order_id_for",
    "order_request_from_decision",
    "validate_request",
]

_S = OrderStatus
#: The order state machine (source status → allowed target statuses).
LEGAL_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.NEW: frozenset({_S.ACCEPTED, _S.REJECTED}),
    _S.ACCEPTED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}),
    _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}),
    _S.FILLED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
}


@fast_record
@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What to trade; validated by the broker (:func:`validate_request`), not at construction,
    so a bad request becomes a REJECTED order with a reason instead of an exception.

    Parameters
    ----------
    symbol:
        Stock symbol, or the underlying of a multi-leg option order.
    side:
        BUY or SELL (for legs: BUY = the ratios as given, SELL = every ratio reversed).
    quantity:
        Positive whole number of shares / units.
    order_type, tif:
        MARKET/LIMIT/STOP/STOP_LIMIT and DAY/GTC/IOC/FOK.
    limit_price, stop_price:
        Currency; for legs the limit is the net per unit (negative = credit).
    legs:
        Option legs (empty for stock).
    decision_id, tag:
        Make the id deterministic: ``make_id("ord", decision_id, tag)``.
    client_id:
        Alternative id seed when there is no decision (manual orders).
    """

    symbol: str
    side: Side
    quantity: float
    order_type: OrderType = OrderType.MARKET
    tif: TimeInForce = TimeInForce.DAY
    limit_price: float | None = None
    stop_price: float | None = None
    legs: tuple[Leg, ...] = ()
    decision_id: str | None = None
    tag: str = ""
    client_id: str | None = None

    @property
    def multiplier(self) -> float:
        """Currency per point per unit: the legs' contract multiplier, 1 for stock."""
        return float(self.legs[0].contract.multiplier) if self.legs else 1.0

    @property
    def is_option(self) -> bool:
        return bool(self.legs)


def order_id_for(request: OrderRequest) -> str | None:
    """The deterministic id of ``request`` (None when it has neither decision nor client id).

    Examples
    --------
    >>> r = OrderRequest("SPY", Side.BUY, 10, decision_id="dec-1", tag="entry")
    >>> order_id_for(r) == order_id_for(r)
    True
    """
    if request.decision_id is None and request.client_id is None:
        return None
    return deterministic_order_id(request.decision_id, request.client_id, request.tag)


def deterministic_order_id(decision_id: object, client_id: object, tag: object) -> str:
    """``make_id("ord", decision_id, tag)``, else ``make_id("ord", "client", client_id, tag)``.

    Not memoised: the risk engine and the broker both derive the id of an order, but hashing
    it twice (about 0.5 µs each) is cheaper than a memo lookup that mostly misses."""
    if decision_id is not None:
        return make_id("ord", decision_id, tag)
    return make_id("ord", "client", client_id, tag)


def fill_id(order_id: str, seq: int, leg_index: int = 0) -> str:
    """Deterministic id of the ``seq``-th fill (1-based) of ``order_id``, leg ``leg_index``.

    Derived from the (already deterministic) order id, so a replay yields the same fill ids
    and the ledger/store de-duplicate them.

    Examples
    --------
    >>> fill_id("ord-00ff", 2, 1)
    'fil-00ff-2-1'
    """
    return f"fil-{order_id.removeprefix('ord-')}-{seq}-{leg_index}"


_INF = math.inf


def recorded_quantity(q: object) -> float:
    """The quantity as an :class:`~tradekit.core.events.Order` record holds it: a float, NaN
    when a (rejected) request carried something that is not a number."""
    return float(q) if isinstance(q, (int, float)) else math.nan


def _finite_pos(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0.0


def _validate_legs(req: OrderRequest) -> str | None:
    for i, leg in enumerate(req.legs):
        if leg.ratio == 0:
            return f"leg {i} has ratio 0"
        if leg.contract.underlying != req.symbol:
            return f"leg {i} underlying {leg.contract.underlying!r} != order symbol {req.symbol!r}"
        if not _finite_pos(leg.contract.multiplier) or not _finite_pos(leg.contract.strike):
            return f"leg {i} has an invalid strike or multiplier"
    if len({leg.contract.multiplier for leg in req.legs}) > 1:
        return "legs with different multipliers"
    if len({leg.contract.symbol for leg in req.legs}) != len(req.legs):
        return "the same contract appears in two legs"
    if req.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        return "stop orders on option legs are not supported (use ExitPlan premium stops)"
    if req.limit_price is not None and not math.isfinite(req.limit_price):
        return "limit price is not finite"
    return None


def validate_request(req: OrderRequest) -> str | None:
    """Why ``req`` is invalid, or None when it is well formed.

    Checks: known side/type/TIF, whole positive finite quantity, a finite positive limit for
    LIMIT/STOP_LIMIT, a finite positive stop for STOP/STOP_LIMIT, no stray prices, legs that
    belong to the order's underlying.
    """
    otype, q = req.order_type, req.quantity
    if (  # the common case, a plain whole-share market order, in one test
        otype is OrderType.MARKET
        and (type(q) is float or type(q) is int)
        and 0.0 < q < _INF
        and q == q.__floor__()
        and req.limit_price is None
        and req.stop_price is None
        and not req.legs
        and type(req.side) is Side
        and type(req.tif) is TimeInForce
        and req.symbol
    ):
        return None
    enums_ok = type(req.side) is Side and type(otype) is OrderType
    if not enums_ok or type(req.tif) is not TimeInForce:
        try:
            Side(req.side)
            otype = OrderType(req.order_type)
            TimeInForce(req.tif)
        except ValueError as exc:
            return f"invalid order: {exc}"
    if not isinstance(q, (int, float)) or not math.isfinite(q) or q <= 0 or q != int(q):
        return f"invalid order: quantity must be a positive whole number, got {q!r}"
    if not req.symbol:
        return "invalid order: empty symbol"
    if req.legs:
        reason = _validate_legs(req)
        if reason is None and otype is OrderType.LIMIT and req.limit_price is None:
            reason = "limit price missing"
        return None if reason is None else f"invalid order: {reason}"
    needs_limit = otype in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = otype in (OrderType.STOP, OrderType.STOP_LIMIT)
    if needs_limit and not _finite_pos(req.limit_price):
        return f"invalid order: {otype} needs a finite limit price > 0, got {req.limit_price!r}"
    if needs_stop and not _finite_pos(req.stop_price):
        return f"invalid order: {otype} needs a finite stop price > 0, got {req.stop_price!r}"
    if not needs_limit and req.limit_price is not None:
        return f"invalid order: {otype} takes no limit price"
    if not needs_stop and req.stop_price is not None:
        return f"invalid order: {otype} takes no stop price"
    return None


class OrderState:
    """The mutable life of one order; status changes only through :meth:`transition`.

    ``not_before_ns`` is the earliest bar open time this order may fill at (the broker sets it to
    the later of the submission time and the close of the last bar it has seen for the symbol),
    which is what forbids filling at the bar that produced the decision.
    """

    __slots__ = (
        "avg_price",
        "exit_key",
        "fill_seq",
        "filled_qty",
        "id",
        "not_before_ns",
        "reason",
        "request",
        "session_day",
        "status",
        "submitted_ns",
        "triggered",
        "updated_ns",
    )

    def __init__(self, order_id: str, request: OrderRequest, ts_ns: int) -> None:
        self.id = order_id
        self.request = request
        self.status = OrderStatus.NEW
        self.submitted_ns = ts_ns
        self.not_before_ns = ts_ns
        self.updated_ns = ts_ns
        self.filled_qty = 0.0
        self.avg_price = math.nan
        self.reason = ""
        self.fill_seq = 0
        self.triggered = False
        self.exit_key: str | None = None
        #: New York trading date whose session a DAY order belongs to; None while it waits
        #: for the next session (sent while the market was closed).
        self.session_day: dt.date | None = None

    @property
    def remaining(self) -> float:
        """Quantity still to fill (units)."""
        return self.request.quantity - self.filled_qty

    @property
    def is_working(self) -> bool:
        """ACCEPTED or PARTIALLY_FILLED: may still fill."""
        return self.status is OrderStatus.ACCEPTED or self.status is OrderStatus.PARTIALLY_FILLED

    def transition(self, new: OrderStatus, ts_ns: int, reason: str = "") -> None:
        """Move to ``new``; raises :class:`IllegalTransition` when the table forbids it."""
        if new not in LEGAL_TRANSITIONS[self.status]:
            raise IllegalTransition(f"order {self.id}: {self.status} → {new} is not allowed")
        self.status = new
        self.updated_ns = ts_ns
        if reason:
            self.reason = reason

    def accept(self, ts_ns: int) -> None:
        self.transition(OrderStatus.ACCEPTED, ts_ns)

    def reject(self, reason: str, ts_ns: int) -> None:
        self.transition(OrderStatus.REJECTED, ts_ns, reason)

    def cancel(self, reason: str, ts_ns: int) -> None:
        self.transition(OrderStatus.CANCELLED, ts_ns, reason)

    def expire(self, ts_ns: int, reason: str = "session ended") -> None:
        self.transition(OrderStatus.EXPIRED, ts_ns, reason)

    def add_fill(self, qty: float, price: float, ts_ns: int) -> None:
        """Record ``qty`` units filled at ``price`` (net per unit) and move to
        PARTIALLY_FILLED or FILLED."""
        remaining = self.request.quantity - self.filled_qty
        if not (qty > 0.0) or qty > remaining + 1e-9:
            raise IllegalTransition(f"order {self.id}: fill of {qty} with {remaining} left")
        done = qty >= remaining - 1e-9
        self.transition(OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED, ts_ns)
        prev = self.filled_qty
        self.filled_qty = prev + qty
        self.avg_price = (
            price if prev == 0.0 else (self.avg_price * prev + price * qty) / (prev + qty)
        )
        self.fill_seq += 1

    def snapshot(self) -> Order:
        """An immutable :class:`~tradekit.core.events.Order` of the current state."""
        r = self.request
        mult = r.multiplier if r.legs else 1.0  # skip the property call for stock
        qty = recorded_quantity(r.quantity)
        # positional (keyword parsing of 17 fields costs more than building the record):
        # id, symbol, side, quantity, order_type, ts_ns, status, tif, limit, stop, filled_qty,
        # avg_fill_price, multiplier, legs, decision_id, tag, reason
        return Order(self.id, r.symbol, r.side, qty, r.order_type, self.updated_ns,
                     self.status, r.tif, r.limit_price, r.stop_price, self.filled_qty,
                     self.avg_price, mult, r.legs, r.decision_id, r.tag,
                     self.reason)  # fmt: skip

    def __repr__(self) -> str:
        r = self.request  # a rejected request may hold anything: repr must not fail on it
        side = r.side.name if isinstance(r.side, Side) else repr(r.side)
        qty = f"{r.quantity:g}" if isinstance(r.quantity, (int, float)) else repr(r.quantity)
        return (
            f"OrderState({self.id}, {r.symbol} {side} {qty} {r.order_type}, "
            f"{self.status}, filled={self.filled_qty:g})"
        )


def order_request_from_decision(
    decision: Decision,
    *,
    order_type: OrderType = OrderType.MARKET,
    tif: TimeInForce = TimeInForce.DAY,
    limit_price: float | None = None,
    tag: str = "entry",
) -> OrderRequest:
    """The entry order of an ENTER decision.

    Stock: BUY for direction +1, SELL (short) for -1, ``decision.quantity`` shares. Options:
    BUY the structure in ``decision.legs`` (its ratios already encode long/short legs; a bearish
    long put is a BUY of a +1 put), ``decision.quantity`` units.
    """
    legs = decision.legs
    side = Side.SELL if not legs and decision.direction < 0 else Side.BUY
    # positional: symbol, side, quantity, order_type, tif, limit_price, stop_price, legs,
    # decision_id, tag
    return OrderRequest(decision.symbol, side, float(decision.quantity), order_type, tif,
                        limit_price, None, legs, decision.id, tag)  # fmt: skip


def closing_request(
    symbol: str,
    qty: float,
    contract: OptionContract | None,
    underlying: str,
    *,
    client_id: str,
    tag: str,
) -> OrderRequest:
    """A market order closing a position of signed ``qty`` in ``symbol``: a stock position
    is sold (or bought back), an option position is reversed as one leg of its underlying."""
    side = Side.SELL if qty > 0 else Side.BUY
    legs = (Leg(contract, 1),) if contract is not None else ()
    return OrderRequest(
        underlying if legs else symbol,
        side,
        abs(qty),
        legs=legs,
        client_id=client_id,
        tag=tag,
    )
