"""StoreSubscriber: batching, synchronous fills/state, journal order, and failure handling."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import AlertLevel, DecisionAction, OrderStatus, OrderType, Right, Side
from tradekit.core.events import (
    Alert,
    Decision,
    Fill,
    GateResult,
    Leg,
    OptionContract,
    Order,
    PositionSnapshot,
    Setup,
    Signal,
    StateChange,
    to_dict,
)
from tradekit.errors import StoreError
from tradekit.portfolio.position import ClosedTrade
from tradekit.store import Store, StoreSubscriber
from tradekit.store.convert import record_payload

T0 = 1_700_000_000_000_000_000


def sig(i: int, **kw: Any) -> Signal:
    base: dict[str, Any] = dict(
        id=f"sig-{i}",
        symbol="SPY",
        timeframe="1min",
        kind="FVG",
        ts_ns=T0 + i,
        index=i,
        anchor_index=i - 1,
        direction=1,
        entry=10.0,
        stop=9.0,
        target=12.0,
        levels={"top": 10.0},
    )
    base.update(kw)
    return Signal(**base)


def fill(i: int = 0, **kw: Any) -> Fill:
    base: dict[str, Any] = dict(
        id=f"fil-{i}",
        order_id="ord-1",
        symbol="SPY",
        side=Side.BUY,
        quantity=1.0,
        price=10.0,
        ts_ns=T0 + i,
    )
    base.update(kw)
    return Fill(**base)


def all_records() -> list[tuple[str, Any]]:
    leg = Leg(OptionContract("SPY", dt.date(2024, 1, 19), 450.0, Right.PUT), -1, 1.2, -0.3)
    return [
        ("signals.fvg", sig(1)),
        (
            "setups.spy",
            Setup(
                "set-1",
                "SPY",
                "1min",
                T0,
                1,
                1,
                10.0,
                9.0,
                12.0,
                13.0,
                14.0,
                6.5,
                7.0,
                2,
                ("FVG", "BOS"),
            ),
        ),
        (
            "decisions.spy",
            Decision(
                "dec-1",
                "set-1",
                "SPY",
                T0,
                DecisionAction.ENTER,
                (GateResult("integrity", True, 6.5, 5.5, "ok"),),
                None,
                1,
                1.0,
                10.0,
                9.0,
                (12.0,),
                legs=(leg,),
            ),
        ),
        (
            "orders.submitted",
            Order("ord-1", "SPY", Side.BUY, 1.0, OrderType.MARKET, T0, legs=(leg,)),
        ),
        (
            "orders.filled",
            Order(
                "ord-1",
                "SPY",
                Side.BUY,
                1.0,
                OrderType.MARKET,
                T0 + 1,
                OrderStatus.FILLED,
                filled_qty=1.0,
                avg_fill_price=10.0,
            ),
        ),
        ("fills.spy", fill(1)),
        ("positions.spy", PositionSnapshot(T0 + 1, "SPY", 1.0, 10.0, 10.0)),
        (
            "alerts.risk",
            Alert("alr-1", T0 + 2, AlertLevel.WARNING, "risk", "near limit", {"pct": 0.9}),
        ),
        ("state.risk", StateChange(T0 + 3, "risk", "ACTIVE", "HALTED", "daily loss")),
    ]


@pytest.fixture
def env() -> tuple[Store, EventBus, SimClock]:
    clock = SimClock(T0)
    store = Store.open(":memory:", clock=clock)
    yield store, EventBus(), clock  # type: ignore[misc]
    store.close()


class TestRouting:
    def test_every_record_type_lands_in_its_table(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        store, bus, clock = env
        sub = StoreSubscriber(store, bus, run_id="bt", clock=clock, flush_interval_s=None)
        for topic, ev in all_records():
            bus.publish(topic, ev)
        sub.close()
        assert bus.errors == []
        assert store.signals(run_id="bt")["id"].tolist() == ["sig-1"]
        assert store.setups(run_id="bt")["id"].tolist() == ["set-1"]
        assert store.decisions(run_id="bt")["legs"].iloc[0][0]["ratio"] == -1
        orders = store.orders(run_id="bt")
        assert orders["status"].tolist() == ["FILLED"]
        assert orders["first_ts"].iloc[0].value == T0
        assert store.fills(run_id="bt")["id"].tolist() == ["fil-1"]
        assert len(store.snapshots(run_id="bt")) == 1
        assert store.alerts(run_id="bt")["data"].iloc[0] == {"pct": 0.9}
        assert store.get_state("risk", run_id="bt") == "HALTED"
        assert store.get_state("risk") is None  # a backtest never touches live state
        journal = store.journal(run_id="bt")
        assert journal["topic"].tolist() == [t for t, _ in all_records()]
        assert journal["seq"].is_monotonic_increasing
        assert journal["type"].iloc[3] == "Order"
        assert journal["payload"].iloc[4]["status"] == "FILLED"  # status history is journaled
        assert len(store.journal(topic="orders.*")) == 2

    def test_payload_equals_to_dict(self) -> None:
        for _, ev in all_records():
            assert record_payload(ev) == to_dict(ev)

    def test_extra_record_types_via_extra_topics(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        store, bus, _ = env
        sub = StoreSubscriber(store, bus, topics=("trades.*",), flush_interval_s=None)
        t = ClosedTrade("trd-1", "SPY", "SPY", 1, 1.0, T0, T0 + 5, 10.0, 11.0, 1.0, 1.0, 0.0)
        bus.publish("trades.closed", t)
        sub.close()
        assert store.trades()["id"].tolist() == ["trd-1"]


class TestRiskTopics:
    def test_risk_state_is_sync_and_denials_are_journaled(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        @dataclasses.dataclass(frozen=True)
        class Denied:
            ts_ns: int
            reason: str

        store, bus, _ = env
        sub = StoreSubscriber(store, bus, batch_size=100, flush_interval_s=None)
        bus.publish("risk.denied", Denied(T0, "max positions"))
        assert sub.pending == 1
        bus.publish("risk.state", StateChange(T0 + 1, "risk", "ACTIVE", "HALTED", "loss"))
        assert store.get_state("risk") == "HALTED" and sub.pending == 0  # written at once
        sub.close()
        journal = store.journal()
        assert journal["topic"].tolist() == ["risk.denied", "risk.state"]  # each exactly once
        assert journal["payload"].iloc[0] == {"ts_ns": T0, "reason": "max positions"}


class TestBatching:
    def test_buffers_until_batch_size(self, env: tuple[Store, EventBus, SimClock]) -> None:
        store, bus, clock = env
        sub = StoreSubscriber(store, bus, batch_size=3, clock=clock, flush_interval_s=None)
        bus.publish("signals.fvg", sig(1))
        bus.publish("signals.fvg", sig(2))
        assert sub.pending == 2 and store.signals().empty
        bus.publish("signals.fvg", sig(3))
        assert sub.pending == 0 and len(store.signals()) == 3
        sub.close()

    def test_flush_interval_uses_the_clock(self, env: tuple[Store, EventBus, SimClock]) -> None:
        store, bus, clock = env
        sub = StoreSubscriber(store, bus, batch_size=100, clock=clock, flush_interval_s=2.0)
        bus.publish("signals.fvg", sig(1))
        clock.advance(1_000_000_000)
        bus.publish("signals.fvg", sig(2))
        assert store.signals().empty
        clock.advance(1_000_000_000)
        bus.publish("signals.fvg", sig(3))
        assert len(store.signals()) == 3
        sub.close()

    def test_close_flushes_and_unsubscribes(self, env: tuple[Store, EventBus, SimClock]) -> None:
        store, bus, _ = env
        with StoreSubscriber(store, bus, flush_interval_s=None):
            bus.publish("signals.fvg", sig(1))
        bus.publish("signals.fvg", sig(2))
        assert store.signals()["id"].tolist() == ["sig-1"]


class TestSynchronousTopics:
    def test_fill_is_persisted_before_later_subscribers_run(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        store, bus, _ = env
        seen: list[int] = []

        def ledger(topic: str, ev: Any) -> None:  # default priority 0: runs after the store
            seen.append(len(store.fills()))
            bus.publish("positions.spy", PositionSnapshot(ev.ts_ns, "SPY", 1.0, 10.0, 10.0))

        bus.subscribe("fills.*", ledger, critical=True)
        sub = StoreSubscriber(store, bus, batch_size=1000, flush_interval_s=None)
        bus.publish("signals.fvg", sig(1))
        bus.publish("fills.spy", fill(1))
        assert seen == [1]
        assert len(store.signals()) == 1  # buffered events went first, journal order kept
        assert store.snapshots().empty and sub.pending == 1  # the position is batched
        sub.close()
        assert store.journal()["topic"].tolist() == ["signals.fvg", "fills.spy", "positions.spy"]

    def test_halted_survives_restart(self, tmp_path: Any) -> None:
        path = tmp_path / "state.duckdb"
        store = Store.open(path)
        bus = EventBus()
        StoreSubscriber(store, bus, batch_size=1000, flush_interval_s=None)
        bus.publish("state.risk", StateChange(T0, "trading_state", "ACTIVE", "HALTED", "kill"))
        store.close()  # no flush of the subscriber: the state was written synchronously
        with Store.open(path) as again:
            assert again.get_state("trading_state") == "HALTED"

    def test_failing_fill_write_reaches_the_publisher(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        store, bus, _ = env
        StoreSubscriber(store, bus)
        with pytest.raises(StoreError, match=r"fills\.price"):
            bus.publish("fills.spy", fill(1, price=float("nan")))


class TestFailures:
    def test_unknown_type_is_refused_on_publish(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        store, bus, _ = env
        StoreSubscriber(store, bus)
        bus.publish("signals.weird", object())
        assert len(bus.errors) == 1 and isinstance(bus.errors[0].error, StoreError)
        with pytest.raises(StoreError, match="cannot store an event of type object"):
            bus.publish("fills.spy", object())

    def test_a_bad_event_does_not_hold_back_its_batch(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        """The batch's transaction fails on the bad signal; the batch is then written event
        by event: the good ones land, only the bad one is kept in ``failed``."""
        store, bus, _ = env
        sub = StoreSubscriber(store, bus, batch_size=10, flush_interval_s=None)
        bus.publish("signals.fvg", sig(1))
        bus.publish("signals.fvg", sig(2, stop=float("nan"), entry=float("nan"), direction=0))
        bus.publish("signals.fvg", sig(3))
        with pytest.raises(StoreError, match=r"1 of 3 events could not be written.*auto_signals"):
            sub.flush()
        assert store.signals()["id"].tolist() == ["sig-1", "sig-3"]
        assert len(store.journal()) == 2
        assert [ev.id for _, ev in sub.failed] == ["sig-2"]
        assert sub.written == 2

    def test_a_failed_single_event_is_kept_not_dropped(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        store, bus, _ = env
        sub = StoreSubscriber(store, bus, batch_size=10, flush_interval_s=None)
        bus.publish("signals.fvg", sig(2, stop=float("nan"), entry=float("nan"), direction=0))
        with pytest.raises(StoreError, match="auto_signals"):
            sub.flush()
        assert store.signals().empty and store.journal().empty
        assert [ev.id for _, ev in sub.failed] == ["sig-2"]

    def test_bad_batch_does_not_block_a_fill(self, env: tuple[Store, EventBus, SimClock]) -> None:
        store, bus, _ = env
        sub = StoreSubscriber(store, bus, batch_size=10, flush_interval_s=None)
        bus.publish("signals.fvg", sig(1, direction=0))
        bus.publish("fills.spy", fill(1))
        assert store.fills()["id"].tolist() == ["fil-1"]
        assert len(sub.errors) == 1 and len(sub.failed) == 1

    def test_journal_only_for_unknown_dataclass_and_dicts(
        self, env: tuple[Store, EventBus, SimClock]
    ) -> None:
        store, bus, _ = env
        sub = StoreSubscriber(store, bus, topics=("heartbeat",), flush_interval_s=None)
        bus.publish("heartbeat", {"ts_ns": T0, "ok": True})
        sub.close()
        row = store.journal(topic="heartbeat").iloc[0]
        assert row["type"] == "dict" and row["payload"] == {"ts_ns": T0, "ok": True}
        assert row["ts"].value == T0

    def test_read_only_store_refused(self, tmp_path: Any) -> None:
        path = tmp_path / "ro.duckdb"
        Store.open(path).close()
        with Store.open(path, read_only=True) as ro, pytest.raises(StoreError, match="writable"):
            StoreSubscriber(ro, EventBus())

    def test_parameters_checked(self, env: tuple[Store, EventBus, SimClock]) -> None:
        store, bus, _ = env
        with pytest.raises(ValueError, match="batch_size"):
            StoreSubscriber(store, bus, batch_size=0)
        with pytest.raises(ValueError, match="flush_interval_s"):
            StoreSubscriber(store, bus, flush_interval_s=0)


@pytest.fixture(scope="module")
def shared_store() -> Store:
    s = Store.open(":memory:")
    yield s  # type: ignore[misc]
    s.close()


class TestJournalOrderProperty:
    runs = iter(range(1_000_000))

    @settings(max_examples=30, deadline=None)
    @given(
        events=st.lists(st.tuples(st.booleans(), st.integers(0, 15)), max_size=25),
        batch_size=st.integers(1, 6),
    )
    def test_journal_is_publish_order_and_tables_hold_distinct_ids(
        self, shared_store: Store, events: list[tuple[bool, int]], batch_size: int
    ) -> None:
        run, bus = f"p{next(self.runs)}", EventBus()
        sub = StoreSubscriber(
            shared_store, bus, run_id=run, batch_size=batch_size, flush_interval_s=None
        )
        published = []
        for is_fill, i in events:
            topic, ev = ("fills.new", fill(i)) if is_fill else ("signals.fvg", sig(i))
            bus.publish(topic, ev)
            published.append(topic)
        sub.close()
        journal = shared_store.journal(run_id=run)
        assert journal["topic"].tolist() == published
        assert journal["seq"].is_monotonic_increasing and journal["seq"].is_unique
        fills = {f"fil-{i}" for f, i in events if f}
        sigs = {f"sig-{i}" for f, i in events if not f}
        assert set(shared_store.fills(run_id=run)["id"]) == fills
        assert set(shared_store.signals(run_id=run)["id"]) == sigs
