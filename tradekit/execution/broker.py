"""``PaperBroker``: a simulated broker matching orders on bars and option quotes.

Flow per bar (:meth:`PaperBroker.on_bar`, called for every bar the engine sees, *before* the
engine decides on that bar):

1. a new New York trading date expires the DAY orders of earlier dates (EXPIRED);
2. working orders of the bar's symbol that may see this bar (``bar.ts_ns >= not_before_ns``)
   are matched in submission order — stock orders on the O→H→L→C path with a per-bar volume cap
   of ``participation × bar.volume`` shared by all orders on the symbol (no cap when the bar's
   volume is 0, i.e. unknown, as for index bars), option packages on the
   quote source at the bar's open time (buy at ask, sell at bid, all legs or none);
3. the position monitor applies each managed position's :class:`~.exits.ExitPlan`;
4. the ledger is marked at the close (stock: bar close; options: quote mids).

An order submitted at clock time ``T`` may fill on a bar only when the bar opens at or after
both ``T`` and the close of the last bar the broker has seen for the symbol, so an order decided
on bar *t* fills at bar *t+1*'s open at the earliest — never on bar *t*.

Fills during the bar (open, stop, limit, target) carry the bar's open time ``bar.ts_ns``; time
exits and option premium exits carry its close time. The engine must set the clock to the bar
close (or feed the bar to the broker) before submitting orders decided on that bar.

Bad requests never raise: :meth:`submit` returns an :class:`~tradekit.core.events.Order` with
status REJECTED and a ``reason`` (invalid order, market closed, insufficient buying power, no
quote, simulated rejection). Events on the bus, in this order per fill: ``fills.new`` (the
store persists it, critical), then ``orders.<status>``, then ``positions.update``, then
``trades.closed`` when a round trip ended. Order transitions publish ``orders.accepted``,
``orders.rejected``, ``orders.partially_filled``, ``orders.filled``, ``orders.cancelled``,
``orders.expired``.

Examples
--------
>>> from tradekit.config import ExecutionConfig
>>> from tradekit.core.clock import SimClock
>>> from tradekit.core.enums import Side
>>> from tradekit.core.events import Bar
>>> from tradekit.portfolio.ledger import HypotheticalFill, Ledger
>>> cfg = ExecutionConfig(slippage={"kind": "none"}, commission={"kind": "none"})
>>> clock = SimClock(0)
>>> broker = PaperBroker(cfg, clock=clock, ledger=Ledger(10_000.0))
>>> order = broker.submit(OrderRequest("XYZ", Side.BUY, 10, client_id="demo"))
>>> order.status.value
'ACCEPTED'
>>> [f.price for f in broker.on_bar(Bar("XYZ", "1min", 0, 100.0, 101.0, 99.0, 100.5, 1e6))]
[100.0]
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from tradekit.config import ExecutionConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import Clock
from tradekit.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tradekit.core.events import Bar, Decision, Fill, Order
from tradekit.core.ids import make_id, text_id
from tradekit.errors import BrokerError, DataError
from tradekit.execution.base import QuoteSource
from tradekit.execution.exits import ExitPlan
from tradekit.execution.models import (
    BarPathFillModel,
    CommissionModel,
    FillModel,
    SlippageModel,
    as_commission,
    as_slippage,
)
from tradekit.execution.monitor import ExitInstruction, ManagedPosition, PositionMonitor
from tradekit.execution.options_fill import OptionPricer
from tradekit.execution.orders import (
    OrderRequest,
    OrderState,
    deterministic_order_id,
    fill_id,
    order_request_from_decision,
    recorded_quantity,
    validate_request,
)
from tradekit.portfolio._dates import day_bounds_ns, default_session_bounds, ny_date
from tradekit.portfolio.ledger import HypotheticalFill, Ledger

__all__ = ["PaperBroker"]

SessionBounds = Callable[[int], "tuple[int, int] | None"]
_INF = math.inf
_TERMINAL_TOPIC = {s: f"orders.{s.value.lower()}" for s in OrderStatus}

#: A finished stock order as a tuple of plain values (id, symbol, side, quantity, order type,
#: updated ns, status, TIF, limit, stop, filled, average price, decision id, tag, reason).
#: The broker keeps every order for the duplicate-order guard and for queries; a tuple of
#: strings and numbers is untracked by Python's cyclic garbage collector, whereas each live
#: ``OrderState`` and its request are traversed by every full collection: on 100,000 orders
#: that traversal cost more than a tenth of the broker's time.
_Retired = tuple[str, str, int, float, str, int, str, str, "float | None", "float | None",
                 float, float, "str | None", str, str]  # fmt: skip


def _retired(st: OrderState) -> _Retired:
    r = st.request
    # ``_value_``: the member's value without the ``Enum.value`` property (3 per order)
    return (st.id, r.symbol, int(r.side), recorded_quantity(r.quantity), r.order_type._value_,
            st.updated_ns, st.status._value_, r.tif._value_, r.limit_price, r.stop_price,
            st.filled_qty, st.avg_price, r.decision_id, r.tag, st.reason)  # fmt: skip


def _snapshot(st: OrderState | _Retired) -> Order:
    return st.snapshot() if isinstance(st, OrderState) else _retired_order(st)


def _retired_order(row: _Retired) -> Order:
    """The :class:`Order` snapshot of a retired order (what ``OrderState.snapshot`` gave)."""
    (oid, symbol, side, qty, otype, ts, status, tif, limit, stop, filled, avg, decision_id,
     tag, reason) = row  # fmt: skip
    return Order(oid, symbol, Side(side), qty, OrderType(otype), ts, OrderStatus(status),
                 TimeInForce(tif), limit, stop, filled, avg, 1.0, (), decision_id, tag,
                 reason)  # fmt: skip


class PaperBroker:
    """Paper execution against bars and option quotes (see the module docstring).

    Parameters
    ----------
    config:
        ``AlgorithmConfig.execution`` (costs, participation, random partials/rejections,
        scale-out fractions, break-even rule, end-of-day flatten minutes).
    clock:
        Source of "now" for submissions (never the wall clock in a backtest).
    ledger:
        The account the fills are booked into.
    bus:
        Optional event bus for ``orders.*``, ``fills.new``, ``positions.update``,
        ``trades.closed``.
    quotes:
        Option quotes (required to trade or monitor option legs).
    is_open:
        ``is_open(ts_ns)`` session check at submission (e.g. ``MarketCalendar.is_open``);
        None accepts at any time.
    rng:
        Generator for simulated partials/rejections; default ``default_rng(config.seed or 0)``.
    session_bounds:
        ``(open_ns, close_ns)`` of the session containing a time (e.g.
        ``MarketCalendar.session_bounds``) for time exits; default Mon–Fri 09:30–16:00 New York.
    slippage, commission, option_commission, fill_model:
        Override the models built from ``config`` (any shorthand ``as_slippage`` /
        ``as_commission`` accepts).
    """

    def __init__(
        self,
        config: ExecutionConfig,
        *,
        clock: Clock,
        ledger: Ledger,
        bus: EventBus | None = None,
        quotes: QuoteSource | None = None,
        is_open: Callable[[int], bool] | None = None,
        rng: np.random.Generator | None = None,
        session_bounds: SessionBounds | None = None,
        slippage: object = None,
        commission: object = None,
        option_commission: object = None,
        fill_model: FillModel | None = None,
    ) -> None:
        self.config = config
        # the per-order settings as plain attributes (config is frozen; reading a pydantic
        # field goes through its __getattr__ hook, several times per order)
        self._participation = config.participation
        self._reject_prob = config.random_reject_prob
        self._partial_prob = config.random_partial_prob
        self._clock = clock
        self.ledger = ledger
        self._bus = bus
        self._is_open = is_open
        self._rng = rng  # the default generator is created on first use: see _generator
        self.slippage: SlippageModel = as_slippage(
            slippage if slippage is not None else config.slippage
        )
        self.commission: CommissionModel = as_commission(
            commission if commission is not None else config.commission
        )
        opt_comm = as_commission(
            option_commission if option_commission is not None else config.option_commission
        )
        self.fill_model: FillModel = fill_model or BarPathFillModel()
        self._options = OptionPricer(quotes, opt_comm)
        #: every order by id: working ones as ``OrderState``, finished stock orders retired
        #: to plain tuples (see ``_Retired``)
        self._orders: dict[str, OrderState | _Retired] = {}
        self._working: dict[str, list[OrderState]] = {}
        self._monitor = PositionMonitor(
            config.scale_out,
            config.breakeven_after_tp1,
            config.flatten_intraday_minutes_before_close,
            session_bounds or default_session_bounds,
        )
        self._last_close: dict[str, int] = {}
        #: decision id -> (setup id, strategy) of the entries sent, named on their trades
        self._origins: dict[str, tuple[str, str]] = {}
        self._seq = 0
        self._day: dt.date | None = None
        self._day_start_ns = 0
        self._day_end_ns = 0

    def _generator(self) -> np.random.Generator:
        """The generator of simulated partials/rejections, ``default_rng(config.seed or 0)``
        unless one was given; created on the first draw (most configurations never draw, and
        seeding one costs more than building the rest of the broker)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.config.seed or 0)
        return self._rng

    # -- publishing ---------------------------------------------------------------------------
    def _publish_order(self, st: OrderState) -> Order:
        snap = st.snapshot()
        if self._bus is not None:
            self._bus.publish(_TERMINAL_TOPIC[st.status], snap)
        return snap

    def _announce_order(self, st: OrderState) -> None:
        """Publish the order's state when someone listens (its snapshot is built only then)."""
        bus = self._bus
        if bus is not None:
            topic = _TERMINAL_TOPIC[st.status]
            if bus.listens(topic):
                bus.publish(topic, st.snapshot())

    # -- submission ---------------------------------------------------------------------------
    def submit(self, request: OrderRequest, *, exit_plan: ExitPlan | None = None) -> Order:
        """Accept or reject ``request``; returns the order snapshot (never raises for a bad
        request). A request whose deterministic id is already known returns that order
        unchanged (duplicate-order guard). ``exit_plan`` is activated by the first fill."""
        now = self._clock.now_ns()
        st = self._register(request, now)
        if not isinstance(st, OrderState):
            return st  # the same request again: the order it already is
        open_now = False
        try:
            open_now = self._is_open is None or bool(self._is_open(now))
            reason = self._rejection(request, now, open_now)
        except Exception as exc:  # a plug-in (is_open, quotes, model) failed: refuse, don't crash
            reason = f"order check failed: {type(exc).__name__}: {exc}"
        if reason is not None:
            return self._reject(st, reason, now)
        st.transition(OrderStatus.ACCEPTED, now)
        oid = st.id
        if open_now:
            in_day = self._day_start_ns <= now < self._day_end_ns
            st.session_day = self._day if in_day else ny_date(now)
        last_close = self._last_close.get(request.symbol, now)
        st.not_before_ns = last_close if last_close > now else now
        sts = self._working.get(request.symbol)
        if sts is None:
            sts = self._working[request.symbol] = []
        sts.append(st)
        if exit_plan is not None:
            self._monitor.attach(oid, exit_plan)
        return self._publish_order(st)

    def open_position(
        self,
        decision: Decision,
        exit_plan: ExitPlan | None = None,
        *,
        order_type: OrderType = OrderType.MARKET,
        tif: TimeInForce = TimeInForce.DAY,
        limit_price: float | None = None,
    ) -> Order:
        """Submit the entry of an ENTER ``decision`` with its exit plan.

        Without ``exit_plan``, a stock decision's positive finite ``stop`` and the ``targets``
        beyond the entry in the trade's direction become the plan. The order id is ``make_id("ord", decision.id, "entry")``.
        """
        req = order_request_from_decision(
            decision, order_type=order_type, tif=tif, limit_price=limit_price
        )
        self._origins[decision.id] = (decision.setup_id, decision.strategy)
        if exit_plan is None and not decision.legs:
            d, e = decision.direction, decision.entry
            ok = [t for t in decision.targets if math.isfinite(t) and t > 0 and d * (t - e) > 0]
            stop = decision.stop if math.isfinite(decision.stop) and decision.stop > 0 else None
            exit_plan = ExitPlan(stop=stop, targets=tuple(ok)) if (stop or ok) else None
        return self.submit(req, exit_plan=exit_plan)

    def record_rejection(self, request: OrderRequest, reason: str) -> Order:
        """Record an order refused *before* it reached the broker (e.g. a risk denial) as a
        REJECTED order with ``reason``, published on ``orders.rejected`` like any rejection.
        The id is the request's deterministic id, so a later identical submission is
        recognised as the same (rejected) order."""
        now = self._clock.now_ns()
        st = self._register(request, now)
        return self._reject(st, reason, now) if isinstance(st, OrderState) else st

    def _register(self, request: OrderRequest, now: int) -> OrderState | Order:
        """A new ``NEW`` order for ``request``, or the snapshot of the order its deterministic
        id already names (the duplicate-order guard)."""
        oid = self._new_id(request, now)
        existing = self._orders.get(oid)
        if existing is not None:
            return _snapshot(existing)
        st = self._orders[oid] = OrderState(oid, request, now)
        return st

    def _reject(self, st: OrderState, reason: str, now: int) -> Order:
        st.reject(reason, now)
        self._retire(st)
        return self._publish_order(st)

    def _new_id(self, request: OrderRequest, now: int) -> str:
        decision_id, client_id = request.decision_id, request.client_id
        if decision_id is not None or client_id is not None:  # order_id_for, inlined
            return deterministic_order_id(decision_id, client_id, request.tag)
        self._seq += 1  # no decision/client id: unique within this broker's run
        return make_id("ord", "seq", self._seq, request.symbol, now)

    def _rejection(self, req: OrderRequest, now: int, open_now: bool) -> str | None:
        reason = validate_request(req)
        if reason is not None:
            return reason
        if req.tif in (TimeInForce.IOC, TimeInForce.FOK) and not open_now:
            return "market closed"  # an immediate order cannot wait for the next session
        if req.legs and not self._options.available:
            return "no quote source for option legs"
        p = self._reject_prob
        if p > 0.0 and self._generator().random() < p:
            return "rejected by the venue (simulated random rejection)"
        return self._buying_power_reason(req, now)

    def _buying_power_reason(self, req: OrderRequest, now: int) -> str | None:
        side = int(req.side)
        if req.legs:
            priced = self._options.price(req.legs, side, now)
            if priced is None:
                return "no quote available for an option leg"
            return self._bp_shortfall(
                self._options.hypothetical(req.legs, side, req.quantity, priced)
            )
        ref = req.limit_price or req.stop_price or self.ledger.last_price(req.symbol)
        if ref != ref:  # no price known yet: checked again at fill time
            return None
        px = self.slippage.price(side, ref, req.quantity, None)
        comm = self.commission.cost(req.quantity, px, 1.0)
        return self._stock_shortfall(req.symbol, side * req.quantity, px, comm)

    def _stock_shortfall(
        self, symbol: str, signed_qty: float, px: float, comm: float
    ) -> str | None:
        """:meth:`_bp_shortfall` of one stock fill (the common case, without the list)."""
        ledger = self.ledger
        q = ledger.position_qty(symbol)  # ledger.is_reducing(symbol, signed_qty), inlined
        if q != 0 and (q > 0) != (signed_qty > 0) and abs(signed_qty) <= abs(q) + 1e-9:
            return None
        after = ledger.stock_buying_power_after(symbol, signed_qty, px, comm)
        if after < -1e-9:
            return f"insufficient buying power (short by {-after:.2f})"
        return None

    def _bp_shortfall(self, hypo: list[HypotheticalFill]) -> str | None:
        ledger = self.ledger
        for h in hypo:
            if not ledger.is_reducing(h[0], h[1]):
                break
        else:
            return None
        after = ledger.buying_power_after(hypo)
        if after < -1e-9:
            return f"insufficient buying power (short by {-after:.2f})"
        return None

    # -- cancel / queries ---------------------------------------------------------------------
    def cancel(self, order_id: str, reason: str = "cancelled by request") -> Order:
        """Cancel a working order (a finished order is returned unchanged).

        Raises :class:`~tradekit.errors.BrokerError` for an unknown id.
        """
        st = self._orders.get(order_id)
        if st is None:
            raise BrokerError(f"unknown order id {order_id!r}")
        if not isinstance(st, OrderState) or not st.is_working:
            return _snapshot(st)
        self._finish(st, OrderStatus.CANCELLED, self._clock.now_ns(), reason)
        return st.snapshot()

    def cancel_all(self, reason: str = "cancel all") -> list[Order]:
        """Cancel every working order (the kill switch calls this); returns them."""
        now = self._clock.now_ns()
        out = []
        for sts in list(self._working.values()):
            for st in list(sts):
                self._finish(st, OrderStatus.CANCELLED, now, reason)
                out.append(st.snapshot())
        return out

    def _finish(self, st: OrderState, status: OrderStatus, ts: int, reason: str) -> None:
        st.transition(status, ts, reason)
        self._retire(st)
        self._announce_order(st)

    def _retire(self, st: OrderState) -> None:
        """Take a finished order off the working list (and its exit plan if it never
        filled); keep a stock order as a plain tuple from now on."""
        if st.status is not OrderStatus.REJECTED:  # a rejected order never worked
            sts = self._working.get(st.request.symbol)
            if sts and st in sts:
                sts.remove(st)
        if st.filled_qty == 0:
            self._monitor.drop_plan(st.id)
        r = st.request
        plain = type(r.order_type) is OrderType and type(r.tif) is TimeInForce
        if plain and type(r.side) is Side and not r.legs:  # else kept as it is (exact snapshot)
            self._orders[st.id] = _retired(st)

    def open_orders(self) -> list[Order]:
        """Snapshots of every working order, in submission order per symbol."""
        return [st.snapshot() for sts in self._working.values() for st in sts]

    def get_order(self, order_id: str) -> Order | None:
        st = self._orders.get(order_id)
        return _snapshot(st) if st is not None else None

    def orders(self) -> list[Order]:
        """Snapshots of every order this broker has seen."""
        return [_snapshot(st) for st in self._orders.values()]

    def managed_positions(self, symbol: str | None = None) -> list[ManagedPosition]:
        """Positions under an exit plan, of ``symbol`` or all (read them; do not mutate)."""
        return self._monitor.positions(symbol)

    @property
    def idle(self) -> bool:
        """True when no order is working and no exit plan waits for its entry fill: then a
        bar can only mark positions and run their exit rules."""
        return not self._monitor.pending and not any(self._working.values())

    @property
    def day_window(self) -> tuple[int, int]:
        """``[start, end)`` (int ns UTC) of the New York date of the last bar; a bar outside it
        starts a new day (DAY orders expire)."""
        return self._day_start_ns, self._day_end_ns

    @property
    def quote_source(self) -> QuoteSource | None:
        """Where option legs are priced, filled and marked (None: stock only)."""
        return self._options.quotes

    def note_quiet_bars(
        self,
        symbol: str,
        close_ts_ns: int,
        option_marks: Mapping[str, tuple[float, Sequence[float]]] | None = None,
    ) -> None:
        """Bars of ``symbol`` up to the one closing at ``close_ts_ns`` were fast-forwarded
        (:mod:`tradekit.runtime.quiet`; the ledger is marked at that bar's close): mark the
        option positions on ``symbol`` at that close's quotes and remember the close, as
        :meth:`on_bar` would have. ``option_marks`` gives, per option position (by contract
        symbol: every open one on ``symbol``, each with a valid quote), the quote mid and
        Greeks at that close when the caller priced them already (the same quotes)."""
        if option_marks is not None:
            for contract_symbol, (mid, greeks) in option_marks.items():
                self.ledger.mark(contract_symbol, mid, close_ts_ns, greeks=greeks)
        elif self._options.quotes is not None:
            self._options.mark(self.ledger, symbol, close_ts_ns)
        self._last_close[symbol] = close_ts_ns

    def restore_orders(self, orders: Iterable[Order]) -> None:
        """Re-learn orders after a restart (e.g. from the store) so resubmissions of the same
        deterministic ids are recognised; working ones resume matching."""
        for o in orders:
            if o.id in self._orders:
                continue
            req = OrderRequest(o.symbol, o.side, o.quantity, o.order_type, o.tif, o.limit_price,
                               o.stop_price, o.legs, o.decision_id, o.tag)  # fmt: skip
            st = OrderState(o.id, req, o.ts_ns)
            st.status, st.filled_qty, st.avg_price, st.reason = (
                o.status,
                o.filled_qty,
                o.avg_fill_price,
                o.reason,
            )
            self._orders[o.id] = st
            if st.is_working:
                self._working.setdefault(o.symbol, []).append(st)
            else:
                self._retire(st)

    def end_session(self, ts_ns: int) -> list[Order]:
        """Expire every working DAY order submitted at or before ``ts_ns`` (call at the session
        close); returns them."""
        return self._expire_day_orders(lambda st: st.submitted_ns <= ts_ns, ts_ns)

    def _expire_day_orders(self, pick: Callable[[OrderState], bool], ts_ns: int) -> list[Order]:
        out = []
        for sts in list(self._working.values()):
            for st in [s for s in sts if s.request.tif is TimeInForce.DAY and pick(s)]:
                self._finish(st, OrderStatus.EXPIRED, ts_ns, "DAY order expired at session end")
                out.append(st.snapshot())
        return out

    # -- bars ---------------------------------------------------------------------------------
    def on_bar(self, bar: Bar) -> list[Fill]:
        """Match, monitor and mark on ``bar``; returns the fills it produced (see the module
        docstring). Raises :class:`~tradekit.errors.DataError` for a bar with non-finite or
        non-positive prices."""
        # chained comparisons are False for NaN: "low > 0, high and open + close finite"
        if not (bar.low > 0 and -_INF < bar.high < _INF and -_INF < bar.open + bar.close < _INF):
            raise DataError(f"invalid bar {bar!r}", rule="bar_prices")
        fills: list[Fill] = []
        if not (self._day_start_ns <= bar.ts_ns < self._day_end_ns):
            self._new_day(bar.ts_ns)
        day = self._day
        assert day is not None
        if self._working.get(bar.symbol):
            self._match(bar, fills)
        if self._monitor.watching(bar.symbol):
            self._run_monitor(bar, day, fills)
        close_ts = bar.ts_ns + bar.duration_ns  # bar.close_ts_ns
        self.ledger.mark(bar.symbol, bar.close, close_ts)
        if self._options.quotes is not None:
            self._options.mark(self.ledger, bar.symbol, close_ts)
        self._last_close[bar.symbol] = close_ts
        return fills

    def _new_day(self, ts_ns: int) -> None:
        day = ny_date(ts_ns)
        if self._day is not None and day != self._day:
            # only orders of earlier trading dates: one sent before today's first bar stays
            self._expire_day_orders(
                lambda st: st.session_day is not None and st.session_day < day, ts_ns
            )
        for sts in self._working.values():  # orders queued while closed join this session
            for st in sts:
                if st.session_day is None:
                    st.session_day = day
        self._day = day
        self._day_start_ns, self._day_end_ns = day_bounds_ns(ts_ns)

    def _match(self, bar: Bar, fills: list[Fill]) -> None:
        vol = bar.volume
        cap = self._participation * vol if vol > 0 else math.inf
        used = 0.0
        sts = self._working[bar.symbol]
        # matching may retire orders from the list: iterate over a copy (a single order
        # needs none: removing the element being visited ends the loop, as it should)
        for st in sts if len(sts) == 1 else list(sts):
            if st.not_before_ns > bar.ts_ns:
                continue
            if st.request.legs:
                self._match_option(st, bar, fills)
            else:
                used += self._match_stock(st, bar, cap - used, fills)

    def _partial(self, qty: float) -> float:
        p = self._partial_prob
        if p > 0.0 and qty > 1:
            rng = self._generator()
            if rng.random() < p:
                return float(max(1, math.floor(rng.random() * qty)))
        return qty

    def _match_stock(self, st: OrderState, bar: Bar, avail: float, fills: list[Fill]) -> float:
        res = self.fill_model.fill(st, bar)
        req = st.request
        tif = req.tif
        if res is not None:
            st.triggered = res.triggered
        if res is None or res.price != res.price:  # not res.filled
            if tif is TimeInForce.IOC or tif is TimeInForce.FOK:
                self._finish(st, OrderStatus.CANCELLED, bar.ts_ns, f"{tif} not marketable")
            return 0.0
        remaining = req.quantity - st.filled_qty
        qty = float(math.floor((avail if avail < remaining else remaining) + 1e-9))
        if tif is TimeInForce.FOK and qty < remaining:
            self._finish(st, OrderStatus.CANCELLED, bar.ts_ns, "FOK: not fillable in full")
            return 0.0
        if self._partial_prob > 0.0 and tif is not TimeInForce.FOK:
            qty = self._partial(qty)
        if qty < 1:
            if tif is TimeInForce.IOC:
                self._finish(st, OrderStatus.CANCELLED, bar.ts_ns, "IOC: no volume available")
            return 0.0
        side = int(req.side)
        px = self.slippage.price(side, res.price, qty, bar) if res.taker else res.price
        comm = self.commission.cost(qty, px, 1.0)
        reason = self._stock_shortfall(req.symbol, side * qty, px, comm)
        if reason is not None:
            self._finish(st, OrderStatus.CANCELLED, bar.ts_ns, reason + " at fill")
            return 0.0
        # positional: (id, order_id, symbol, side, qty, price, ts, commission, slippage, mult, leg)
        fill = Fill(
            fill_id(st.id, st.fill_seq + 1, 0),
            st.id,
            req.symbol,
            req.side,
            qty,
            px,
            bar.ts_ns,
            comm,
            abs(px - res.price) * qty,
            1.0,
            0,
            req.decision_id,
        )
        self._book(st, [fill], qty, px, bar.ts_ns, fills)
        if tif is TimeInForce.IOC and st.is_working:
            self._finish(st, OrderStatus.CANCELLED, bar.ts_ns, "IOC remainder cancelled")
        return qty

    def _match_option(self, st: OrderState, bar: Bar, fills: list[Fill]) -> None:
        req, tif = st.request, st.request.tif
        side = int(req.side)
        priced = self._options.price(req.legs, side, bar.ts_ns)
        ok = priced is not None and (
            req.limit_price is None
            or (priced.net <= req.limit_price if side > 0 else priced.net >= req.limit_price)
        )
        if priced is None or not ok:
            if tif is TimeInForce.IOC or tif is TimeInForce.FOK:
                self._finish(st, OrderStatus.CANCELLED, bar.ts_ns, f"{tif} not marketable")
            return
        qty = self._partial(st.remaining) if tif is not TimeInForce.FOK else st.remaining
        hypo = self._options.hypothetical(req.legs, side, qty, priced)
        reason = self._bp_shortfall(hypo)
        if reason is not None:
            self._finish(st, OrderStatus.CANCELLED, bar.ts_ns, reason + " at fill")
            return
        leg_fills = self._options.fills(st, qty, priced, bar.ts_ns)
        self._book(st, leg_fills, qty, priced.net, bar.ts_ns, fills)

    def _book(
        self, st: OrderState, new: list[Fill], qty: float, net: float, ts: int, out: list[Fill]
    ) -> None:
        """Publish the fills, book them, update the order and managed positions, publish."""
        req = st.request
        bus, ledger, legs = self._bus, self.ledger, req.legs
        n_closed = ledger.closed_count
        st.add_fill(qty, net, ts)
        origin = self._origins.get(req.decision_id) if req.decision_id else None
        setup_id, strategy = origin if origin is not None else (None, None)
        for f in new:
            if bus is not None:
                bus.publish("fills.new", f)
            ledger.apply_fill(f, contract=legs[f.leg_index].contract if legs else None,
                              tag=req.tag, setup_id=setup_id, strategy=strategy)  # fmt: skip
        out.extend(new)
        if st.status is OrderStatus.FILLED:  # a fill leaves FILLED or PARTIALLY_FILLED
            self._retire(st)
        if self._monitor.pending:  # an exit plan waits for its entry's fill
            self._on_filled(st, qty, net)
        self._announce_order(st)
        if bus is not None:  # (snapshots are built only for a topic someone listens to)
            if bus.listens("positions.update"):
                for f in new:
                    snap = ledger.position_snapshot(f.symbol)
                    if snap is not None:
                        bus.publish("positions.update", snap)
            if ledger.closed_count > n_closed:
                for t in ledger.closed_since(n_closed):
                    bus.publish("trades.closed", t)

    # -- exit plans ---------------------------------------------------------------------------
    def _on_filled(self, st: OrderState, qty: float, net: float) -> None:
        req = st.request
        m = self._monitor.on_entry_fill(st.id, req, qty, net, not st.is_working)
        if m is None:
            return
        plan = m.plan
        if not req.legs:
            self.ledger.set_stop(req.symbol, m.stop, plan.targets)
        elif len(req.legs) == 1 and plan.premium_stop_pct is not None:
            premium = abs(m.entry_price)
            risk = premium * plan.premium_stop_pct
            stop = premium - risk if int(req.side) * req.legs[0].ratio > 0 else premium + risk
            self.ledger.set_risk_per_unit(req.legs[0].contract.symbol, risk, stop)
        elif plan.premium_stop_pct is not None:
            # a package (vertical...): its premium stop risks |net| x pct per package unit;
            # each leg's round trip carries its share by |ratio|, so the legs' risks sum to
            # the package's (no per-leg price stop exists: initial_stop stays None)
            risk = abs(m.entry_price) * plan.premium_stop_pct
            total = sum(abs(leg.ratio) for leg in req.legs)
            for leg in req.legs:
                share = risk / total  # per contract of the leg (ratio contracts per unit)
                self.ledger.set_risk_per_unit(leg.contract.symbol, share)

    def _run_monitor(self, bar: Bar, day: dt.date, fills: list[Fill]) -> None:
        for m, ins in self._monitor.exits(bar, day, self._options.mark_net):
            self._exit(m, ins, bar, fills)
        for m in self._monitor.positions(bar.symbol):
            if not m.legs:
                self.ledger.set_stop(m.symbol, m.stop)

    def _exit(self, m: ManagedPosition, ins: ExitInstruction, bar: Bar, fills: list[Fill]) -> None:
        """Close ``ins.qty`` units of ``m`` now (clamped to what the ledger still holds)."""
        qty = min(ins.qty, self._held_units(m))
        if qty < 1:
            m.qty = 0.0
            return
        m.exit_seq += 1
        side = Side(-m.side)
        otype = (
            OrderType.STOP
            if ins.tag == "stop"
            else (OrderType.LIMIT if ins.tag.startswith("tp") else OrderType.MARKET)
        )
        price = None if otype is OrderType.MARKET else ins.price
        lim, stp = (price, None) if otype is OrderType.LIMIT else (None, price)
        req = OrderRequest(m.symbol, side, qty, otype, TimeInForce.IOC, lim, stp, m.legs,
                           m.decision_id, f"exit:{ins.tag}")  # fmt: skip
        oid = text_id("ord", f"{m.key}\x1f{ins.tag}\x1f{m.exit_seq}")  # make_id's
        st = OrderState(oid, req, bar.ts_ns)
        st.exit_key = m.key
        self._orders[oid] = st
        st.accept(bar.ts_ns)
        self._announce_order(st)
        if m.legs:
            ts = bar.close_ts_ns
            priced = self._options.price(m.legs, int(side), ts)
            if priced is None:  # no quote: try again next bar
                self._finish(st, OrderStatus.CANCELLED, ts, "no quote for exit")
                return
            self._book(st, self._options.fills(st, qty, priced, ts), qty, priced.net, ts, fills)
        else:
            timed = ins.price != ins.price
            ref, ts = (bar.close, bar.close_ts_ns) if timed else (ins.price, bar.ts_ns)
            px = self.slippage.price(int(side), ref, qty, bar) if ins.taker else ref
            comm = self.commission.cost(qty, px, 1.0)
            slip = abs(px - ref) * qty
            fill = Fill(fill_id(oid, 1, 0), oid, m.symbol, side, qty, px, ts, comm, slip,
                        1.0, 0, m.decision_id)  # fmt: skip
            self._book(st, [fill], qty, px, ts, fills)
        m.qty = min(m.qty - qty, self._held_units(m))

    def _held_units(self, m: ManagedPosition) -> float:
        if not m.legs:
            q = self.ledger.position_qty(m.symbol)
            return abs(q) if q * m.side > 0 else 0.0
        units = math.inf
        for leg in m.legs:
            q = self.ledger.position_qty(leg.contract.symbol)
            want = m.side * leg.ratio
            units = min(units, abs(q) / abs(leg.ratio) if q * want > 0 else 0.0)
        return float(math.floor(units + 1e-9))

    def __repr__(self) -> str:
        n = sum(len(v) for v in self._working.values())
        return f"PaperBroker(orders={len(self._orders)}, working={n}, ledger={self.ledger!r})"
