"""Round trips, idempotency, validation and atomicity of the Store's batched writes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.core.enums import (
    AlertLevel,
    DecisionAction,
    OrderStatus,
    OrderType,
    Right,
    Side,
    TimeframeClass,
    TradeMode,
)
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
)
from tradekit.errors import StoreError
from tradekit.portfolio.position import ClosedTrade
from tradekit.store import CalendarEvent, DailyPerformance, Store

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC
MIN = 60_000_000_000


def sig(i: int, **kw: object) -> Signal:
    base: dict[str, object] = dict(
        id=f"sig-{i}",
        symbol="SPY",
        timeframe="1min",
        kind="FVG",
        ts_ns=T0 + i * MIN,
        index=i,
        anchor_index=i - 1,
        direction=1,
        entry=100.0 + i,
        stop=99.0,
        target=103.0,
        strength=0.7,
        tag=None,
        levels={"top": 100.5, "bottom": 100.1, "mid": 100.3},
    )
    base.update(kw)
    return Signal(**base)  # type: ignore[arg-type]


def setup(i: int = 0) -> Setup:
    return Setup(
        id=f"set-{i}",
        symbol="SPY",
        timeframe="1min",
        ts_ns=T0 + i * MIN,
        index=i,
        direction=-1,
        entry=100.0,
        stop=101.0,
        tp1=98.0,
        tp2=97.0,
        tp3=95.0,
        confidence=7.5,
        score=8.0,
        confluence_count=2,
        active_signals=("FVG", "BOS"),
        signal_ids=("sig-1", "sig-2"),
        htf_bias=-1,
    )


def contract() -> OptionContract:
    return OptionContract("SPY", dt.date(2024, 1, 19), 450.0, Right.CALL)


def decision(i: int = 0, **kw: object) -> Decision:
    gates = (
        GateResult("integrity", True, 7.5, 5.5, "ok"),
        GateResult("session", False, float("nan"), 30.0, "VIX missing"),
        GateResult("factorization", True, 7.5, 6.0, "ok", evaluated_after_block=True),
    )
    base: dict[str, object] = dict(
        id=f"dec-{i}",
        setup_id=f"set-{i}",
        symbol="SPY",
        ts_ns=T0 + i * MIN,
        action=DecisionAction.SKIP,
        gates=gates,
        block_reason="VIX missing",
        direction=1,
        quantity=0.0,
        entry=100.0,
        stop=99.0,
        targets=(102.0, 103.0, float("nan")),
        mode=TradeMode.TREND,
        strategy="long_call",
        legs=(Leg(contract(), 1, 2.5, 0.5),),
        timeframe_class=TimeframeClass.INTRADAY,
        risk_amount=250.0,
        expected_rr=2.0,
        score_breakdown={"structure": 2.5, "order_flow": 3.0},
        config_version="1.0.0",
        config_hash="abc",
        processing_time_us=12.5,
        warnings=("FOMC tomorrow",),
    )
    base.update(kw)
    return Decision(**base)  # type: ignore[arg-type]


def order(status: OrderStatus = OrderStatus.NEW, ts: int = T0, **kw: object) -> Order:
    base: dict[str, object] = dict(
        id="ord-1",
        symbol="SPY",
        side=Side.BUY,
        quantity=2.0,
        order_type=OrderType.LIMIT,
        ts_ns=ts,
        status=status,
        limit_price=2.5,
        multiplier=100.0,
        legs=(Leg(contract(), 1),),
        decision_id="dec-0",
    )
    base.update(kw)
    return Order(**base)  # type: ignore[arg-type]


def fill(i: int = 0, **kw: object) -> Fill:
    base: dict[str, object] = dict(
        id=f"fil-{i}",
        order_id="ord-1",
        symbol="SPY",
        side=Side.SELL,
        quantity=1.0,
        price=2.55,
        ts_ns=T0 + i,
        commission=0.65,
        slippage=0.05,
        multiplier=100.0,
        decision_id="dec-0",
    )
    base.update(kw)
    return Fill(**base)  # type: ignore[arg-type]


@pytest.fixture
def store() -> Store:
    s = Store.open(":memory:", clock=SimClock(T0))
    yield s  # type: ignore[misc]
    s.close()


class TestSignalsRoundTrip:
    def test_fields_and_utc_timestamps(self, store: Store) -> None:
        store.write_signals(
            [sig(1), sig(2, tag="CHOCH", direction=-1)],
            run_id="r1",
            config_hash="h",
            algorithm_version="1.0.0",
        )
        df = store.signals()
        assert list(df["id"]) == ["sig-1", "sig-2"]
        assert str(df["ts"].dt.tz) == "UTC"
        assert df["ts"].iloc[0] == pd.Timestamp(T0 + MIN, unit="ns", tz="UTC")
        assert df["ts"].iloc[0].value == T0 + MIN  # nanosecond exact
        assert df["levels"].iloc[0] == {"top": 100.5, "bottom": 100.1, "mid": 100.3}
        assert df["direction"].tolist() == [1, -1]
        assert df["tag"].iloc[1] == "CHOCH" and df["config_hash"].iloc[0] == "h"
        assert df["index"].tolist() == [1, 2] and df["anchor_index"].tolist() == [0, 1]

    def test_filters(self, store: Store) -> None:
        store.write_signals([sig(i, kind="BOS" if i % 2 else "FVG") for i in range(10)])
        store.write_signals([sig(i, symbol="QQQ") for i in range(3)], run_id="other")
        assert len(store.signals(kind="BOS")) == 5
        assert len(store.signals(symbol="QQQ")) == 3
        assert len(store.signals(symbol=["QQQ", "SPY"])) == 13
        start = pd.Timestamp(T0 + 2 * MIN, unit="ns", tz="UTC")
        got = store.signals(symbol="SPY", start=start, end=T0 + 5 * MIN)
        assert got["index"].tolist() == [2, 3, 4]  # half-open [start, end)
        assert len(store.signals(run_id="other")) == 3

    def test_nan_levels_become_null(self, store: Store) -> None:
        store.write_signals([sig(1, levels={"level": float("nan")}, entry=float("nan"))])
        row = store.signals().iloc[0]
        assert row["levels"] == {"level": None} and math.isnan(row["entry"])

    def test_same_signals_twice_same_count(self, store: Store) -> None:
        batch = [sig(i) for i in range(50)]
        assert store.write_signals(batch) == 50
        assert store.write_signals(batch) == 0
        assert len(store.signals()) == 50

    def test_same_id_in_two_runs_is_two_rows(self, store: Store) -> None:
        store.write_signals([sig(1)], run_id="a")
        store.write_signals([sig(1)], run_id="b")
        assert sorted(store.signals()["run_id"]) == ["a", "b"]

    def test_setups_share_table_but_not_reads(self, store: Store) -> None:
        store.write_signals([sig(1)])
        store.write_setups([setup(1)])
        assert store.signals()["id"].tolist() == ["sig-1"]
        row = store.setups().iloc[0]
        assert (row["tp1"], row["tp2"], row["tp3"]) == (98.0, 97.0, 95.0)
        assert list(row["active_signals"]) == ["FVG", "BOS"]
        assert row["confidence"] == 7.5 and row["confluence_count"] == 2
        assert row["kind"] == "SETUP" and bool(row["is_setup"])


class TestValidation:
    def test_nan_in_not_null_column_is_refused(self, store: Store) -> None:
        with pytest.raises(StoreError, match=r"fills\.price: row 1 \(id='fil-1'\)"):
            store.write_fills([fill(0), fill(1, price=float("nan"))])
        assert store.fills().empty

    def test_none_in_not_null_string(self, store: Store) -> None:
        with pytest.raises(StoreError, match=r"auto_signals\.symbol"):
            store.write_signals([sig(1, symbol=None)])

    def test_wrong_record_type(self, store: Store) -> None:
        with pytest.raises(StoreError, match="write_fills expects Fill records; item 1 is Signal"):
            store.write_fills([fill(0), sig(1)])  # type: ignore[list-item]

    def test_non_number_in_float_column(self, store: Store) -> None:
        with pytest.raises(StoreError, match="expected a number"):
            store.write_signals([sig(1, entry="high")])

    def test_levels_must_map_names_to_numbers(self, store: Store) -> None:
        with pytest.raises(StoreError, match=r"levels: row 1 \(id='sig-2'\)"):
            store.write_signals([sig(1), sig(2, levels={"top": "high"})])

    def test_integral_floats_accepted_fractional_refused(self, store: Store) -> None:
        store.write_signals([sig(1, direction=1.0, index=np.int64(1))])
        assert store.signals()["direction"].tolist() == [1]
        with pytest.raises(StoreError, match="expected an integer"):
            store.write_signals([sig(2, index=2.5)])
        with pytest.raises(StoreError, match="expected an integer"):
            store.write_signals([sig(3, index=True)])
        with pytest.raises(StoreError, match="expected int nanoseconds"):
            store.write_signals([sig(4, ts_ns=float(T0))])

    def test_database_constraint_becomes_store_error(self, store: Store) -> None:
        with pytest.raises(StoreError, match="auto_signals"):
            store.write_signals([sig(1, direction=0)])

    def test_read_only_refuses_writes(self, tmp_path: object) -> None:
        path = f"{tmp_path}/ro.duckdb"
        Store.open(path).close()
        with Store.open(path, read_only=True) as ro, pytest.raises(StoreError, match="read-only"):
            ro.write_signals([sig(1)])


class TestAtomicity:
    def test_failing_batch_in_transaction_writes_nothing(self, store: Store) -> None:
        with pytest.raises(StoreError), store.transaction():
            store.write_signals([sig(i) for i in range(5)])
            store.write_decisions([decision(0)])
            store.write_fills([fill(0, quantity=-1.0)])  # CHECK (quantity > 0) fails in DuckDB
        assert store.signals().empty and store.decisions().empty and store.fills().empty

    def test_exception_in_block_rolls_back_journal_seq(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            store.append_journal([("signals.fvg", sig(1))])
            raise RuntimeError("boom")
        assert store.append_journal([("signals.fvg", sig(2))]) == [1]
        assert store.journal()["seq"].tolist() == [1]


class TestDecisionsOrdersFills:
    def test_decision_round_trip(self, store: Store) -> None:
        store.write_decisions([decision(0)], run_id="bt")
        row = store.decisions(run_id="bt").iloc[0]
        assert row["action"] == "SKIP" and row["blocked_by"] == "session"
        assert row["gates_passed"] == 2
        gates = row["gate_results"]
        assert [g["name"] for g in gates] == ["integrity", "session", "factorization"]
        assert gates[1]["observed"] is None and gates[2]["evaluated_after_block"] is True
        assert row["legs"][0]["contract"]["expiry"] == "2024-01-19"
        assert row["legs"][0]["contract"]["right"] == "C"
        assert list(row["targets"][:2]) == [102.0, 103.0] and row["targets"][2] is None
        assert row["score_breakdown"] == {"structure": 2.5, "order_flow": 3.0}
        assert list(row["warnings"]) == ["FOMC tomorrow"]
        assert row["mode"] == "TREND" and row["timeframe_class"] == "INTRADAY"

    def test_order_upsert_keeps_latest_and_first_ts(self, store: Store) -> None:
        store.upsert_orders([order(OrderStatus.NEW, T0), order(OrderStatus.ACCEPTED, T0 + 5)])
        store.upsert_orders(
            [order(OrderStatus.FILLED, T0 + 9, filled_qty=2.0, avg_fill_price=2.51)]
        )
        store.upsert_orders([order(OrderStatus.ACCEPTED, T0 + 5)])  # stale: ignored
        df = store.orders()
        assert len(df) == 1
        row = df.iloc[0]
        assert row["status"] == "FILLED" and row["filled_qty"] == 2.0
        assert row["first_ts"].value == T0 and row["ts"].value == T0 + 9
        assert row["side"] == 1 and row["legs"][0]["ratio"] == 1
        assert store.orders(open_only=True).empty

    def test_same_fill_twice_one_row(self, store: Store) -> None:
        assert store.write_fills([fill(0)]) == 1
        assert store.write_fills([fill(0)]) == 0
        assert store.write_fills([fill(0), fill(0)]) == 0
        df = store.fills(order_id="ord-1")
        assert len(df) == 1
        assert df.iloc[0][["side", "price", "commission", "multiplier"]].tolist() == [
            -1,
            2.55,
            0.65,
            100.0,
        ]


class TestOtherTables:
    def test_snapshots_upsert(self, store: Store) -> None:
        p = PositionSnapshot(
            T0,
            "SPY",
            -2.0,
            2.5,
            2.4,
            100.0,
            20.0,
            0.0,
            -50.0,
            1.0,
            3.0,
            -4.0,
            stop=3.0,
            targets=(2.0, 1.5),
        )
        store.write_snapshots([p])
        store.write_snapshots([PositionSnapshot(T0, "SPY", -1.0, 2.5, 2.3, 100.0, 20.0, 10.0)])
        df = store.snapshots(symbol="SPY")
        assert len(df) == 1 and df.iloc[0]["quantity"] == -1.0 and df.iloc[0]["realized"] == 10.0

    def test_trades_from_the_ledger_record(self, store: Store) -> None:
        t = ClosedTrade(
            id="trd-1",
            symbol="SPY   240119P00450000",
            underlying="SPY",
            direction=-1,
            quantity=2.0,
            entry_ts_ns=T0,
            exit_ts_ns=T0 + MIN,
            entry_price=2.5,
            exit_price=2.0,
            pnl=99.0,
            gross_pnl=100.0,
            commission=1.0,
            multiplier=100.0,
            r_multiple=1.5,
        )
        assert store.write_trades([t, t]) == 1
        tr = store.trades().iloc[0]
        assert tr["direction"] == -1 and tr["pnl"] == 99.0 and tr["exit_ts"].value == T0 + MIN
        assert tr["underlying"] == "SPY" and tr["gross_pnl"] == 100.0
        assert math.isnan(tr["mae"]) and math.isnan(tr["initial_stop"])
        assert tr["slippage"] == 0.0  # optional attribute absent: default

    def test_trade_missing_attributes(self, store: Store) -> None:
        with pytest.raises(StoreError, match="item 0 \\(Fill\\) lacks direction"):
            store.write_trades([fill(0)])  # type: ignore[list-item]

    def test_daily(self, store: Store) -> None:
        d = DailyPerformance(dt.date(2024, 1, 2), 1e5, 1.01e5, 1000.0, 0.01, 3, 2, 1)
        store.write_daily([d], run_id="bt")
        store.write_daily(
            [DailyPerformance(dt.date(2024, 1, 2), 1e5, 1.02e5, 2000.0, 0.02)], run_id="bt"
        )
        daily = store.daily_performance(run_id="bt")
        assert len(daily) == 1 and daily.iloc[0]["pnl"] == 2000.0
        assert len(store.daily_performance(start="2024-01-03")) == 0

    def test_alerts_and_acknowledge(self, store: Store) -> None:
        a = Alert("alr-1", T0, AlertLevel.CRITICAL, "risk", "halted", {"day": dt.date(2024, 1, 2)})
        store.write_alerts([a, Alert("alr-2", T0 + 1, AlertLevel.INFO, "feed", "ok")])
        assert len(store.alerts(unacknowledged_only=True)) == 2
        assert store.alerts(level="CRITICAL").iloc[0]["data"] == {"day": "2024-01-02"}
        assert store.acknowledge_alert("alr-1") is True
        assert store.acknowledge_alert("nope") is False
        left = store.alerts(unacknowledged_only=True)
        assert left["id"].tolist() == ["alr-2"]
        acked = store.alerts().set_index("id").loc["alr-1"]
        assert bool(acked["acknowledged"]) and acked["acknowledged_at"].value == T0

    def test_state(self, store: Store) -> None:
        assert store.get_state("trading_state", "ACTIVE") == "ACTIVE"
        store.set_state("trading_state", "HALTED", reason="daily loss")
        store.set_state("limits", {"max": 5, "nan": float("nan")}, run_id="bt")
        assert store.get_state("trading_state") == "HALTED"
        assert store.get_state("limits", run_id="bt") == {"max": 5, "nan": None}
        assert store.get_state("limits") is None
        assert store.states(run_id="live")["reason"].tolist() == ["daily loss"]

    def test_calendar(self, store: Store) -> None:
        evs = [
            CalendarEvent(dt.date(2024, 1, 31), "FOMC", "FOMC decision"),
            CalendarEvent(dt.date(2024, 2, 1), "earnings", "AAPL Q1", "AAPL"),
        ]
        assert store.write_calendar(evs) == 2
        assert store.calendar(symbol="SPY")["kind"].tolist() == ["FOMC"]
        assert len(store.calendar(start="2024-01-01", end="2024-03-01", symbol="AAPL")) == 2
        with pytest.raises(StoreError, match="kind 'Fed'"):
            store.write_calendar([CalendarEvent(dt.date(2024, 1, 1), "Fed", "x")])
        store.delete_calendar_event(evs[0].id)
        assert store.calendar()["kind"].tolist() == ["earnings"]


class TestConfigsAndRuns:
    def test_save_load_config(self, store: Store) -> None:
        cfg = AlgorithmConfig(name="alpha", version="1.0.0")
        cid = store.save_config(cfg)
        assert cid == cfg.content_hash and store.save_config(cfg) == cid
        assert store.load_config(cid) == cfg
        assert store.load_config(("alpha", "1.0.0")) == cfg
        changed = cfg.with_overrides({"decision.max_vix": 25.0})
        with pytest.raises(StoreError, match="bump the version"):
            store.save_config(changed)
        with pytest.raises(StoreError, match="no saved config"):
            store.load_config("missing")

    def test_backtest_run_lifecycle(self, store: Store) -> None:
        rid = store.start_backtest_run("cfg1", {"symbols": ["SPY"]})
        store.finish_backtest_run(rid, {"sharpe": 1.2, "nan": float("nan")})
        row = store.backtest_runs().iloc[0]
        assert row["status"] == "done" and row["results"] == {"sharpe": 1.2, "nan": None}
        assert row["params"] == {"symbols": ["SPY"]} and row["started_at"].value == T0
        with pytest.raises(StoreError, match="from 'done' to 'failed'"):
            store.fail_backtest_run(rid, "late")

    def test_pending_then_failed(self, store: Store) -> None:
        rid = store.create_backtest_run("cfg1", run_id="bt-1")
        assert store.backtest_runs(status="pending")["run_id"].tolist() == ["bt-1"]
        store.start_backtest_run(run_id=rid)
        store.fail_backtest_run(rid, ValueError("bad data"))
        row = store.backtest_runs().iloc[0]
        assert row["status"] == "failed" and row["error"] == "ValueError: bad data"
        with pytest.raises(StoreError, match="already exists"):
            store.create_backtest_run(run_id="bt-1")


ids = st.integers(min_value=0, max_value=40)
prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)


@pytest.fixture(scope="module")
def shared_store() -> Store:
    s = Store.open(":memory:")  # one schema for all examples; each example writes its own run
    yield s  # type: ignore[misc]
    s.close()


class TestProperties:
    runs = iter(range(1_000_000))

    @settings(max_examples=30, deadline=None)
    @given(rows=st.lists(st.tuples(ids, prices, st.sampled_from([1, -1])), max_size=30))
    def test_write_is_idempotent_and_lossless(
        self, shared_store: Store, rows: list[tuple[int, float, int]]
    ) -> None:
        s, run = shared_store, f"p{next(self.runs)}"
        batch = [sig(i, entry=p, direction=d) for i, p, d in rows]
        s.write_signals(batch, run_id=run)
        assert s.write_signals(batch, run_id=run) == 0
        df = s.signals(run_id=run)
        first: dict[str, Signal] = {}
        for b in batch:
            first.setdefault(b.id, b)
        assert sorted(df["id"]) == sorted(first)
        got = dict(zip(df["id"], df["entry"], strict=True))
        assert all(got[k] == v.entry for k, v in first.items())
        assert df["ts"].is_monotonic_increasing


class TestJson:
    def test_numpy_values_and_nan_inside_json(self) -> None:
        from tradekit.store.convert import dumps_json

        assert dumps_json({"n": np.int64(3), "a": np.array([1.0, np.nan])}) == (
            '{"n":3,"a":[1.0,null]}'
        )
        assert dumps_json({"x": float("inf"), "d": {"y": np.float64("nan")}}) == (
            '{"x":null,"d":{"y":null}}'
        )
        with pytest.raises(StoreError, match="not JSON-serialisable"):
            dumps_json({"o": object()})

    def test_gate_observed_numpy_int(self, store: Store) -> None:
        gates = (GateResult("daily_limits", False, np.int64(5), 5, "5 trades today"),)
        store.write_decisions([decision(1, gates=gates)])
        assert store.decisions().iloc[0]["gate_results"][0]["observed"] == 5
