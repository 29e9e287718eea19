"""PaperBroker scenarios with hand-computed numbers (stocks)."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest

from tradekit.config import ExecutionConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tradekit.core.events import Bar
from tradekit.errors import BrokerError, DataError
from tradekit.execution import ExitPlan, OrderRequest, PaperBroker
from tradekit.portfolio import AccountView, Ledger

BASE = 1_709_564_400_000_000_000  # Monday 2024-03-04 15:00 UTC = 10:00 New York
MIN = 60_000_000_000
DAY = 24 * 60 * MIN
FREE: dict[str, Any] = {"slippage": {"kind": "none"}, "commission": {"kind": "none"}}


def make(**cfg: Any) -> SimpleNamespace:
    extra = {k: cfg.pop(k) for k in ("is_open", "rng") if k in cfg}
    config = ExecutionConfig(**{**FREE, **cfg})
    clock = SimClock(BASE)
    bus = EventBus()
    events: list[tuple[str, Any]] = []
    bus.subscribe("*", lambda t, e: events.append((t, e)))
    ledger = Ledger.from_config(config)
    broker = PaperBroker(config, clock=clock, ledger=ledger, bus=bus, **extra)
    return SimpleNamespace(clock=clock, bus=bus, events=events, ledger=ledger, broker=broker)


def bar(i: int, o: float, h: float, lo: float, c: float, v: float = 1e6, sym: str = "XYZ") -> Bar:
    return Bar(sym, "1min", BASE + i * MIN, o, h, lo, c, v)


def step(w: SimpleNamespace, b: Bar) -> list:
    """The engine's order: time moves to the bar close, the broker sees the bar, then decides."""
    w.clock.set_time(b.close_ts_ns)
    return w.broker.on_bar(b)


def req(side: Side = Side.BUY, qty: float = 100, **kw: Any) -> OrderRequest:
    kw.setdefault("client_id", f"c{side}{qty}{kw.get('order_type', '')}{kw.get('tag', '')}")
    return OrderRequest("XYZ", side, qty, **kw)


class TestLongAndShortWithCosts:
    """10 bps slippage and $0.01/share (min $1) on both sides, numbers by hand."""

    costs: ClassVar[dict[str, Any]] = {
        "slippage": {"kind": "fixed_bps", "bps": 10.0},
        "commission": {"kind": "per_share", "per_share": 0.01, "minimum": 1.0},
    }

    def test_long_round_trip(self) -> None:
        w = make(**self.costs)
        step(w, bar(0, 50, 50, 50, 50))
        w.broker.submit(req(Side.BUY, 100, decision_id="d1", tag="entry"))
        (buy,) = step(w, bar(1, 50, 51, 49, 50.5))
        assert buy.price == pytest.approx(50.05)  # slippage applied to the price
        assert buy.slippage == pytest.approx(5.0) and buy.commission == pytest.approx(1.0)
        assert w.ledger.cash == pytest.approx(100_000 - 5005 - 1)  # ... and to cash
        w.broker.submit(req(Side.SELL, 100, decision_id="d1", tag="exit"))
        (sell,) = step(w, bar(2, 52, 53, 51, 52))
        assert sell.price == pytest.approx(51.948)
        assert sell.commission == pytest.approx(1.0)  # commission on the sell too
        assert w.ledger.cash == pytest.approx(100_187.8)
        assert w.ledger.realized_pnl == pytest.approx(187.8)
        (trade,) = w.ledger.closed_trades
        assert trade.pnl == pytest.approx(187.8) and trade.commission == pytest.approx(2.0)
        assert trade.direction == 1 and trade.quantity == 100

    def test_short_round_trip_is_negative_quantity(self) -> None:
        w = make(**self.costs)
        step(w, bar(0, 50, 50, 50, 50))
        w.broker.submit(req(Side.SELL, 100, decision_id="d2", tag="entry"))
        (s,) = step(w, bar(1, 50, 50.5, 49, 49.5))
        assert s.price == pytest.approx(49.95)
        assert w.ledger.position_qty("XYZ") == -100  # shorts are stored negative
        assert w.ledger.cash == pytest.approx(104_994.0)
        w.broker.submit(req(Side.BUY, 100, decision_id="d2", tag="exit"))
        (b,) = step(w, bar(2, 48, 48.5, 47.5, 48))
        assert b.price == pytest.approx(48.048)
        assert w.ledger.position_qty("XYZ") == 0
        assert w.ledger.realized_pnl == pytest.approx(188.2)
        assert w.ledger.cash == pytest.approx(100_188.2)
        assert w.ledger.closed_trades[0].direction == -1


class TestNoLookAhead:
    def test_market_order_fills_at_next_bar_open_never_the_deciding_bar(self) -> None:
        w = make()
        b0 = bar(0, 10, 11, 9, 10.5)
        w.clock.set_time(b0.close_ts_ns)  # decided after bar 0 closed, broker not yet fed bar 0
        w.broker.submit(req())
        assert w.broker.on_bar(b0) == []  # a late delivery of bar 0 cannot fill it
        (f,) = step(w, bar(1, 10.7, 11, 10, 10.2))
        assert f.price == 10.7 and f.ts_ns == BASE + MIN

    def test_order_after_on_bar_waits_for_next_bar(self) -> None:
        w = make()
        w.broker.on_bar(bar(0, 10, 11, 9, 10.5))  # clock still at the bar's open time
        w.broker.submit(req())  # the broker knows bar 0 closed: it cannot fill on bar 0
        assert w.broker.on_bar(bar(0, 10, 11, 9, 10.5)) == []
        assert [f.price for f in step(w, bar(1, 12, 12, 12, 12))] == [12]


class TestStopsAndLimits:
    def test_sell_stop_gap_through_fills_at_open(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        w.broker.submit(req(Side.BUY, 10, tag="e"))
        step(w, bar(1, 100, 100, 100, 100))
        w.broker.submit(req(Side.SELL, 10, order_type=OrderType.STOP, stop_price=95.0))
        (f,) = step(w, bar(2, 92, 93, 90, 91))
        assert f.price == 92.0  # the open, not the stop price

    def test_sell_stop_touched_fills_at_stop(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        w.broker.submit(req(Side.SELL, 10, order_type=OrderType.STOP, stop_price=95.0))
        assert step(w, bar(1, 99, 100, 96, 97)) == []
        (f,) = step(w, bar(2, 97, 98, 94, 96))
        assert f.price == 95.0

    def test_buy_limit_gap_through_fills_at_open(self) -> None:
        w = make()
        step(w, bar(0, 101, 101, 101, 101))
        w.broker.submit(req(order_type=OrderType.LIMIT, limit_price=100.0))
        (f,) = step(w, bar(1, 98, 99, 97, 98))
        assert f.price == 98.0  # better than the limit

    def test_limit_touched_fills_at_limit_without_slippage(self) -> None:
        w = make(slippage={"kind": "fixed_bps", "bps": 50.0})
        step(w, bar(0, 101, 101, 101, 101))
        w.broker.submit(req(order_type=OrderType.LIMIT, limit_price=100.0))
        (f,) = step(w, bar(1, 101, 102, 99.5, 100))
        assert f.price == 100.0 and f.slippage == 0.0

    def test_stop_limit_triggers_then_rests_as_limit(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        r = req(order_type=OrderType.STOP_LIMIT, stop_price=102.0, limit_price=101.0)
        o = w.broker.submit(r)
        assert step(w, bar(1, 100, 103, 101.5, 102.5)) == []  # triggered, limit not reached
        (f,) = step(w, bar(2, 102, 102, 100.5, 101))
        assert f.price == 101.0
        assert w.broker.get_order(o.id).status is OrderStatus.FILLED


class TestPartialsAndTimeInForce:
    def test_partial_fill_rests_and_fills(self) -> None:
        w = make(participation=0.1)
        step(w, bar(0, 10, 10, 10, 10, v=500))
        o = w.broker.submit(req(qty=120))
        f1 = step(w, bar(1, 10, 10, 10, 10, v=500))
        assert [f.quantity for f in f1] == [50]
        assert w.broker.get_order(o.id).status is OrderStatus.PARTIALLY_FILLED
        step(w, bar(2, 10, 10, 10, 10, v=500))
        (f3,) = step(w, bar(3, 11, 11, 11, 11, v=500))
        assert f3.quantity == 20
        snap = w.broker.get_order(o.id)
        assert snap.status is OrderStatus.FILLED and snap.filled_qty == 120
        assert snap.avg_fill_price == pytest.approx((100 * 10 + 20 * 11) / 120)
        assert w.ledger.position_qty("XYZ") == 120

    def test_volume_cap_is_shared_by_orders_on_the_symbol(self) -> None:
        w = make(participation=0.1)
        step(w, bar(0, 10, 10, 10, 10, v=500))
        a = w.broker.submit(req(qty=40, tag="a"))
        b = w.broker.submit(req(qty=40, tag="b"))
        fills = step(w, bar(1, 10, 10, 10, 10, v=500))
        assert [(f.order_id, f.quantity) for f in fills] == [(a.id, 40), (b.id, 10)]

    def test_ioc_cancels_remainder_and_fok_is_all_or_nothing(self) -> None:
        w = make(participation=0.1)
        step(w, bar(0, 10, 10, 10, 10, v=500))
        ioc = w.broker.submit(req(qty=80, tif=TimeInForce.IOC, tag="ioc"))
        fok = w.broker.submit(req(qty=30, tif=TimeInForce.FOK, tag="fok"))
        fills = step(w, bar(1, 10, 10, 10, 10, v=500))
        assert [f.quantity for f in fills] == [50]
        assert w.broker.get_order(ioc.id).status is OrderStatus.CANCELLED
        assert w.broker.get_order(ioc.id).filled_qty == 50
        assert w.broker.get_order(fok.id).status is OrderStatus.CANCELLED
        assert w.broker.get_order(fok.id).filled_qty == 0

    def test_day_expires_at_new_trading_date_gtc_rests(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        day = w.broker.submit(req(order_type=OrderType.LIMIT, limit_price=90.0, tag="day"))
        gtc = w.broker.submit(
            req(order_type=OrderType.LIMIT, limit_price=90.0, tif=TimeInForce.GTC, tag="gtc")
        )
        step(w, bar(1, 100, 100, 99, 100))
        step(w, bar(DAY // MIN, 100, 100, 99, 100))
        assert w.broker.get_order(day.id).status is OrderStatus.EXPIRED
        assert w.broker.get_order(gtc.id).status is OrderStatus.ACCEPTED
        assert ("orders.expired", w.broker.get_order(day.id)) in w.events

    def test_day_order_sent_before_first_bar_of_the_day_survives_rollover(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        nxt = bar(DAY // MIN, 100, 100, 100, 100)
        w.clock.set_time(nxt.ts_ns - MIN)  # next day, before its first bar reaches the broker
        o = w.broker.submit(req(tag="early"))
        w.clock.set_time(nxt.close_ts_ns)
        assert [f.order_id for f in w.broker.on_bar(nxt)] == [o.id]

    def test_random_partials_come_from_injected_generator(self) -> None:
        def run(seed: int) -> list[float]:
            w = make(random_partial_prob=1.0, rng=np.random.default_rng(seed))
            step(w, bar(0, 10, 10, 10, 10))
            w.broker.submit(req(qty=100, tif=TimeInForce.GTC))
            return [f.quantity for i in range(1, 6) for f in step(w, bar(i, 10, 10, 10, 10))]

        a, b = run(7), run(7)
        assert a == b and len(a) > 1 and sum(a) <= 100


class TestRejections:
    @pytest.mark.parametrize(
        ("kw", "fragment"),
        [
            ({"quantity": 0}, "quantity"),
            ({"quantity": -5}, "quantity"),
            ({"quantity": math.nan}, "quantity"),
            ({"quantity": 1.5}, "quantity"),
            ({"order_type": OrderType.LIMIT}, "limit"),
            ({"order_type": OrderType.LIMIT, "limit_price": math.nan}, "limit"),
            ({"order_type": OrderType.STOP, "stop_price": -1.0}, "stop"),
            ({"limit_price": 10.0}, "takes no limit"),
        ],
    )
    def test_invalid_order_is_rejected_with_reason(self, kw: dict, fragment: str) -> None:
        w = make()
        base: dict[str, Any] = {"symbol": "XYZ", "side": Side.BUY, "quantity": 10}
        o = w.broker.submit(OrderRequest(**{**base, **kw}))
        assert o.status is OrderStatus.REJECTED and fragment in o.reason
        assert w.events[-1] == ("orders.rejected", o)

    def test_market_closed_rejects_immediate_orders(self) -> None:
        w = make(is_open=lambda ts: False)
        for tif in (TimeInForce.IOC, TimeInForce.FOK):
            o = w.broker.submit(req(tif=tif, tag=tif.value))
            assert o.status is OrderStatus.REJECTED and o.reason == "market closed"

    def test_day_order_sent_while_closed_waits_for_the_next_session(self) -> None:
        w = make(is_open=lambda ts: False)
        o = w.broker.submit(req())
        assert o.status is OrderStatus.ACCEPTED
        fills = step(w, bar(DAY // MIN, 10, 11, 9, 10.5))  # next NY date: joins it and fills
        assert [f.price for f in fills] == [10.0]

    def test_insufficient_buying_power(self) -> None:
        w = make(initial_cash=1_000.0)
        step(w, bar(0, 50, 50, 50, 50))
        o = w.broker.submit(req(qty=100))
        assert o.status is OrderStatus.REJECTED and "buying power" in o.reason
        assert w.broker.submit(req(qty=19, tag="small")).status is OrderStatus.ACCEPTED

    def test_reducing_order_needs_no_buying_power(self) -> None:
        w = make(initial_cash=1_000.0)
        step(w, bar(0, 50, 50, 50, 50))
        w.broker.submit(req(qty=19, tag="in"))
        step(w, bar(1, 50, 50, 50, 50))
        assert w.broker.submit(req(Side.SELL, 19, tag="out")).status is OrderStatus.ACCEPTED

    def test_short_sale_needs_half_its_value(self) -> None:
        w = make(initial_cash=1_000.0)
        step(w, bar(0, 50, 50, 50, 50))
        assert w.broker.submit(req(Side.SELL, 41, tag="a")).status is OrderStatus.REJECTED
        assert w.broker.submit(req(Side.SELL, 40, tag="b")).status is OrderStatus.ACCEPTED

    def test_failing_session_plugin_rejects_instead_of_raising(self) -> None:
        def boom(ts: int) -> bool:
            raise RuntimeError("calendar down")

        o = make(is_open=boom).broker.submit(req())
        assert o.status is OrderStatus.REJECTED and "calendar down" in o.reason

    def test_simulated_random_rejection(self) -> None:
        w = make(random_reject_prob=1.0)
        o = w.broker.submit(req())
        assert o.status is OrderStatus.REJECTED and "simulated" in o.reason

    def test_risk_denial_recorded_as_rejected_order(self) -> None:
        w = make()
        r = OrderRequest("XYZ", Side.BUY, 10, decision_id="d", tag="entry")
        o = w.broker.record_rejection(r, "risk: max open positions")
        assert o.status is OrderStatus.REJECTED and o.reason == "risk: max open positions"
        assert w.events[-1] == ("orders.rejected", o)
        assert w.broker.submit(r).status is OrderStatus.REJECTED  # same id: no second order

    def test_bad_bar_is_a_data_error(self) -> None:
        w = make()
        with pytest.raises(DataError):
            w.broker.on_bar(bar(0, math.nan, 1, 1, 1))


class TestIdsCancelAndEvents:
    def test_duplicate_submission_returns_existing_order(self) -> None:
        w = make()
        step(w, bar(0, 10, 10, 10, 10))
        r = OrderRequest("XYZ", Side.BUY, 5, decision_id="dec-9", tag="entry")
        a = w.broker.submit(r)
        b = w.broker.submit(r)
        assert a.id == b.id and len(w.broker.orders()) == 1
        assert len(step(w, bar(1, 10, 10, 10, 10))) == 1
        assert w.broker.submit(r).status is OrderStatus.FILLED
        assert w.ledger.position_qty("XYZ") == 5

    def test_restored_orders_are_recognised_after_restart(self) -> None:
        w = make()
        r = OrderRequest("XYZ", Side.BUY, 5, decision_id="dec-7", tag="entry")
        first = w.broker.submit(r)
        fresh = make()
        fresh.broker.restore_orders(w.broker.orders())
        assert fresh.broker.submit(r).id == first.id
        assert len(fresh.broker.orders()) == 1 and len(fresh.broker.open_orders()) == 1

    def test_finished_orders_read_back_exactly_as_last_published(self) -> None:
        """Finished stock orders are kept compactly; every query still returns the very
        snapshot published at their last transition (filled, cancelled, rejected, expired,
        refused by risk, invalid with a plain-string type)."""
        w = make(is_open=lambda ts: True)
        step(w, bar(0, 10, 10, 10, 10))
        filled = w.broker.submit(req(Side.BUY, 5, tag="f"))
        resting = w.broker.submit(
            req(Side.BUY, 5, order_type=OrderType.LIMIT, limit_price=1.0, tag="c")
        )
        day = w.broker.submit(
            req(Side.BUY, 5, order_type=OrderType.LIMIT, limit_price=2.0, tag="d")
        )
        broke = w.broker.submit(req(Side.BUY, 1e6, tag="bp"))
        odd = w.broker.submit(OrderRequest("XYZ", Side.BUY, 5, "BOGUS", client_id="odd"))  # type: ignore[arg-type]
        denied = w.broker.record_rejection(req(Side.SELL, 3, tag="risk"), "risk denied: test")
        step(w, bar(1, 10, 10, 10, 10))
        w.broker.cancel(resting.id, "by test")
        w.broker.end_session(w.clock.now_ns())
        assert broke.status is OrderStatus.REJECTED and odd.status is OrderStatus.REJECTED
        last: dict[str, Any] = {}
        for topic, e in w.events:
            if topic.startswith("orders."):
                last[e.id] = e
        ids = [filled.id, resting.id, day.id, broke.id, odd.id, denied.id]
        assert [last[i].status for i in ids] == [
            OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED,
            OrderStatus.REJECTED, OrderStatus.REJECTED, OrderStatus.REJECTED,
        ]  # fmt: skip
        for i in ids:
            assert w.broker.get_order(i) == last[i]
            assert w.broker.cancel(i) == last[i]  # finished: returned unchanged
        assert {o.id: o for o in w.broker.orders()} == {i: last[i] for i in ids}
        again = w.broker.submit(req(Side.BUY, 5, tag="f"))  # the duplicate guard still knows it
        assert again == last[filled.id]

    def test_cancel_and_cancel_all(self) -> None:
        w = make()
        a = w.broker.submit(req(order_type=OrderType.LIMIT, limit_price=1.0, tag="a"))
        w.broker.submit(req(order_type=OrderType.LIMIT, limit_price=1.0, tag="b"))
        assert w.broker.cancel(a.id).status is OrderStatus.CANCELLED
        assert w.broker.cancel(a.id).status is OrderStatus.CANCELLED  # idempotent
        assert len(w.broker.cancel_all()) == 1 and w.broker.open_orders() == []
        with pytest.raises(BrokerError):
            w.broker.cancel("ord-unknown")

    def test_fill_published_before_position(self) -> None:
        w = make()
        seen: list[float] = []
        w.bus.subscribe(
            "fills.*", lambda t, e: seen.append(w.ledger.position_qty("XYZ")), critical=True
        )
        step(w, bar(0, 10, 10, 10, 10))
        w.broker.submit(req(qty=3))
        w.events.clear()
        step(w, bar(1, 10, 10, 10, 10))
        assert [t for t, _ in w.events] == ["fills.new", "orders.filled", "positions.update"]
        assert seen == [0.0]  # persisted before the ledger/position moved
        assert w.events[-1][1].quantity == 3

    def test_ledger_is_an_account_view(self) -> None:
        w = make()
        assert isinstance(w.ledger, AccountView)
        assert w.ledger.summary().equity == 100_000.0


class TestExitPlanStocks:
    def test_stop_wins_when_bar_touches_stop_and_target(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        w.broker.submit(req(qty=10), exit_plan=ExitPlan(stop=95.0, targets=(105.0,)))
        step(w, bar(1, 100, 100, 100, 100))
        (f,) = step(w, bar(2, 100, 106, 94, 100))
        assert f.price == 95.0 and f.quantity == 10
        assert w.ledger.position_qty("XYZ") == 0

    def test_protective_stop_gap_fills_at_open(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        w.broker.submit(req(qty=10), exit_plan=ExitPlan(stop=95.0))
        step(w, bar(1, 100, 100, 100, 100))
        (f,) = step(w, bar(2, 92, 93, 91, 92))
        assert f.price == 92.0

    def test_tp1_tp2_then_breakeven_stop(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        plan = ExitPlan(stop=95.0, targets=(105.0, 110.0, 115.0))
        w.broker.submit(req(qty=100, decision_id="d", tag="entry"), exit_plan=plan)
        step(w, bar(1, 100, 101, 99, 100))
        (tp1,) = step(w, bar(2, 101, 106, 100.5, 104))
        assert (tp1.quantity, tp1.price) == (40, 105.0)
        assert w.ledger.position("XYZ").stop == 100.0  # break-even after TP1
        (tp2,) = step(w, bar(3, 106, 111, 105, 109))
        assert (tp2.quantity, tp2.price) == (40, 110.0)
        (be,) = step(w, bar(4, 104, 104, 99, 100))
        assert (be.quantity, be.price) == (20, 100.0)
        assert w.ledger.position_qty("XYZ") == 0  # closing never opens a short
        (trade,) = w.ledger.closed_trades
        assert trade.pnl == pytest.approx(600.0)
        assert trade.r_multiple == pytest.approx(600.0 / (5.0 * 100))
        assert trade.initial_stop == 95.0

    def test_all_three_targets_and_short_side(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        plan = ExitPlan(stop=105.0, targets=(95.0, 90.0, 85.0))
        w.broker.submit(req(Side.SELL, 10), exit_plan=plan)
        step(w, bar(1, 100, 100, 100, 100))
        fills = step(w, bar(2, 99, 99, 84, 86))
        assert [(f.side, f.quantity, f.price) for f in fills] == [
            (Side.BUY, 4, 95.0),
            (Side.BUY, 4, 90.0),
            (Side.BUY, 2, 85.0),
        ]
        assert w.ledger.position_qty("XYZ") == 0

    def test_stop_and_targets_stored_as_given_never_zero(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        w.broker.submit(req(qty=10, tag="plan"), exit_plan=ExitPlan(stop=95.0, targets=(110.0,)))
        step(w, bar(1, 100, 100, 100, 100))
        (snap,) = w.ledger.snapshot()
        assert snap.stop == 95.0 and snap.targets == (110.0,)
        plain = make()
        step(plain, bar(0, 100, 100, 100, 100))
        plain.broker.submit(req(qty=1))
        step(plain, bar(1, 100, 100, 100, 100))
        (bare,) = plain.ledger.snapshot()
        assert bare.stop is None and bare.targets == ()  # unknown, not 0
        with pytest.raises(ValueError):
            plain.ledger.set_stop("XYZ", 0.0)

    def test_exit_never_exceeds_the_position(self) -> None:
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        w.broker.submit(req(qty=10, tag="in"), exit_plan=ExitPlan(stop=95.0))
        step(w, bar(1, 100, 100, 100, 100))
        w.broker.submit(req(Side.SELL, 6, tag="manual"))
        step(w, bar(2, 100, 100, 100, 100))
        (f,) = step(w, bar(3, 96, 96, 94, 95))
        assert f.quantity == 4 and w.ledger.position_qty("XYZ") == 0

    def test_eod_flatten(self) -> None:
        w = make(flatten_intraday_minutes_before_close=5.0)
        step(w, bar(0, 100, 100, 100, 100))
        w.broker.submit(req(qty=10), exit_plan=ExitPlan(flatten_eod=True))
        step(w, bar(1, 100, 100, 100, 100))
        assert step(w, bar(353, 101, 101, 101, 101)) == []  # 15:53–15:54, 6 minutes left
        (f,) = step(w, bar(354, 102, 102, 102, 102.5))  # closes 15:55
        assert f.price == 102.5 and w.ledger.position_qty("XYZ") == 0

    def test_open_position_from_decision(self) -> None:
        from tradekit.core.enums import DecisionAction
        from tradekit.core.events import Decision

        d = Decision(
            id="dec-1",
            setup_id="s",
            symbol="XYZ",
            ts_ns=BASE,
            action=DecisionAction.ENTER,
            gates=(),
            block_reason=None,
            direction=1,
            quantity=10,
            entry=100.0,
            stop=95.0,
            targets=(110.0,),
        )
        w = make()
        step(w, bar(0, 100, 100, 100, 100))
        o = w.broker.open_position(d)
        assert o.decision_id == "dec-1" and o.side is Side.BUY
        step(w, bar(1, 100, 100, 100, 100))
        (f,) = step(w, bar(2, 100, 111, 100, 105))
        assert (f.quantity, f.price) == (10, 110.0)
