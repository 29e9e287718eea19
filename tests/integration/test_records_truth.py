"""Acceptance of issue #13: after a short ``tradekit run`` (the ``make run`` job) and a
``tradekit backtest`` into one file database, every table the seed names holds real, linked
rows, and option snapshots carry non-zero Greeks.

The run replays two synthetic sessions; a second run with the kill flag set adds the halt, its
alert and decisions blocked by it; a backtest adds its ``backtest_runs`` row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pandas as pd
import pytest

from tradekit.cli import main
from tradekit.store import Store

SEED_TABLES = ("algorithm_configs", "auto_signals", "auto_decisions", "position_snapshots",
               "daily_performance", "backtest_runs", "alerts", "auto_trade_state", "orders",
               "fills", "trades")  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    tmp = tmp_path_factory.mktemp("truth")
    db, flag = str(tmp / "tk.duckdb"), tmp / "KILL"
    common = ["--db", db, "--kill-flag", str(flag), "--quiet"]
    assert main(["run", "--days", "2", *common]) == 0
    flag.write_text("acceptance test kill")
    # history from 2023-03-27: the replayed session is a later one than the first run's
    assert main(["run", "--days", "1", "--start", "2023-03-27", *common]) == 0
    assert main(["backtest", "--data", "ibm", "--db", db]) == 0
    with Store.open(db, read_only=True) as s:
        yield s


def _q(store: Store, sql: str) -> pd.DataFrame:
    return store.query(sql)


@pytest.mark.parametrize("table", [t for t in SEED_TABLES if t != "daily_performance"])
def test_every_seed_table_has_rows(store: Store, table: str) -> None:
    assert int(_q(store, f"SELECT count(*) AS n FROM {table}")["n"].iloc[0]) > 0, table


def test_decisions_name_their_setups_and_orders_their_decisions(store: Store) -> None:
    orphans = _q(store, """
        SELECT count(*) AS n FROM auto_decisions d LEFT JOIN auto_signals s
          ON s.run_id = d.run_id AND s.id = d.setup_id AND s.is_setup
        WHERE s.id IS NULL""")  # fmt: skip
    assert orphans["n"].iloc[0] == 0
    orphans = _q(store, """
        SELECT count(*) AS n FROM orders o LEFT JOIN auto_decisions d
          ON d.run_id = o.run_id AND d.id = o.decision_id
        WHERE o.decision_id IS NOT NULL AND d.id IS NULL""")  # fmt: skip
    assert orphans["n"].iloc[0] == 0
    orphans = _q(store, """
        SELECT count(*) AS n FROM fills f LEFT JOIN orders o ON o.run_id = f.run_id
          AND o.id = f.order_id WHERE o.id IS NULL""")  # fmt: skip
    assert orphans["n"].iloc[0] == 0


def test_every_closed_trade_keeps_its_links(store: Store) -> None:
    trades = _q(store, "SELECT * FROM trades")
    assert len(trades) > 0
    for col in ("decision_id", "setup_id", "strategy", "entry_order_id", "exit_order_id",
                "exit_reason"):  # fmt: skip
        assert trades[col].notna().all(), col
    options = trades[trades["multiplier"] == 100.0]
    assert len(options) > 0  # the synthetic SPY replay trades options
    for col in ("initial_stop", "initial_risk", "r_multiple", "mae", "mfe"):
        assert options[col].map(math.isfinite).all(), col
    assert (trades["mae"] <= 0).all() and (trades["mfe"] >= 0).all()
    linked = _q(store, """
        SELECT count(*) AS n FROM trades t
        JOIN auto_decisions d ON d.run_id = t.run_id AND d.id = t.decision_id
          AND d.setup_id = t.setup_id AND d.strategy = t.strategy
        JOIN orders e ON e.run_id = t.run_id AND e.id = t.entry_order_id
        JOIN orders x ON x.run_id = t.run_id AND x.id = t.exit_order_id""")  # fmt: skip
    assert linked["n"].iloc[0] == len(trades)


def test_option_snapshots_carry_greeks(store: Store) -> None:
    # open option positions (a snapshot taken as one goes flat has zero Greeks, rightly)
    snaps = _q(store, "SELECT * FROM position_snapshots WHERE multiplier = 100 AND quantity != 0")
    assert len(snaps) > 0
    for col in ("delta", "gamma", "theta", "vega"):
        assert (snaps[col] != 0.0).all(), col
    assert (snaps["iv"] > 0).all() and (snaps["dte"] >= 0).all()
    assert (snaps["underlying"] == "SPY").all()
    assert (snaps["portfolio_delta"] != 0.0).all() and (snaps["portfolio_vega"] != 0.0).all()


def test_the_halt_is_stored_with_its_alert_and_its_decisions_say_so(store: Store) -> None:
    alerts = _q(store, "SELECT * FROM alerts")
    assert alerts["message"].str.contains("acceptance test kill").any()
    state = _q(store, "SELECT * FROM auto_trade_state")
    assert state["value"].astype(str).str.contains("HALTED").any()
    # the second run replays sessions after the first run's (2024-03-11 and 12)
    blocked = _q(store, "SELECT * FROM auto_decisions WHERE ts >= '2024-03-13'")
    assert len(blocked) > 0 and (blocked["action"] != "ENTER").all()
    gates = blocked["gate_results"].astype(str)
    assert gates.str.contains('"trading_state"').all() and gates.str.contains("HALTED").all()


def test_the_backtest_run_row_and_the_calendar(store: Store) -> None:
    runs = _q(store, "SELECT * FROM backtest_runs WHERE kind = 'backtest'")
    (run,) = runs.itertuples()
    assert run.status == "done" and run.config_id and "IBM" in run.data_label
    assert "final_equity" in run.results
    n = _q(store, f"SELECT count(*) AS n FROM auto_decisions WHERE run_id = '{run.run_id}'")
    assert n["n"].iloc[0] > 0
    cal = _q(store, "SELECT * FROM event_calendar WHERE kind = 'OPEX'")
    dates = set(pd.to_datetime(cal["date"]).dt.date.astype(str))
    assert "2024-03-15" in dates  # the monthly OPEX inside the replayed week


def test_no_event_is_stamped_1970(store: Store) -> None:
    first = _q(store, "SELECT min(ts) AS t FROM events")["t"].iloc[0]
    assert pd.Timestamp(first) > pd.Timestamp("2000-01-01")


def test_first_decision_latency_is_not_the_compile(store: Store) -> None:
    d = _q(store, "SELECT ts, processing_time_us FROM auto_decisions ORDER BY ts")
    assert d["processing_time_us"].iloc[0] < 250_000  # the cold compile was 1,311,515 µs


def test_daily_performance_and_the_live_run_row(store: Store) -> None:
    daily = _q(store, "SELECT * FROM daily_performance")
    assert len(daily) >= 3  # one row per replayed session
    live_runs = _q(store, "SELECT * FROM backtest_runs")
    assert len(live_runs) >= 3  # the two live runs and the backtest each have a run row
