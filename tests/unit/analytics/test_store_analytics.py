"""Analytics read back from the DuckDB store equal those of the BacktestResult."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

import tradekit
from tradekit.analytics import (
    RunData,
    gate_analytics,
    performance,
    signal_analytics,
    store_analytics,
    trade_distribution,
)
from tradekit.data.datasets import load
from tradekit.errors import DataError
from tradekit.store import Store


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[Store, tradekit.BacktestResult, pd.DataFrame]]:
    bars = load("aapl").iloc[:1500]
    with Store.open(":memory:") as store:
        res = tradekit.backtest(bars, market=lambda ts: 18.0, store=store)
        yield store, res, bars


def test_recorded_run_reads_back_the_same(
    recorded: tuple[Store, tradekit.BacktestResult, pd.DataFrame],
) -> None:
    store, res, bars = recorded
    runs = store.backtest_runs().set_index("run_id")
    row = runs.loc[res.run_id]
    assert row["status"] == "done" and row["results"]["stats"]["trades"] == res.stats["trades"]
    run = RunData.from_store(store, res.run_id, bars=bars)
    assert run.equity.tolist() == res.equity.tolist() and run.initial_equity == 100_000.0
    assert performance(run.equity, run.trades, initial_equity=run.initial_equity).equals(res.stats)
    a = signal_analytics(run)
    b = signal_analytics(res)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    ga, gb = gate_analytics(run), gate_analytics(res)
    pd.testing.assert_frame_equal(ga.by_gate, gb.by_gate, check_dtype=False)
    assert ga.blocked["cf_r"].tolist() == pytest.approx(gb.blocked["cf_r"].tolist())
    ta, tb = trade_distribution(run), trade_distribution(res)
    pd.testing.assert_frame_equal(ta.by_weekday, tb.by_weekday, check_dtype=False)
    everything = store_analytics(store, res.run_id, bars=bars)
    assert {"performance", "signals", "gates", "blocked", "trades_streaks"} <= set(everything)


def test_equity_fallbacks_without_marks(
    recorded: tuple[Store, tradekit.BacktestResult, pd.DataFrame],
) -> None:
    store, res, _ = recorded
    store.query("DELETE FROM equity_curve WHERE run_id = ?", [res.run_id])  # as a live run
    run = RunData.from_store(store, res.run_id)
    t = res.trades.sort_values("exit_ts_ns")
    assert run.equity.tolist() == pytest.approx((100_000.0 + t["pnl"].cumsum()).tolist())
    assert run.initial_equity == 100_000.0  # from the run's saved configuration
    assert signal_analytics(run)["fwd_1"].isna().all()  # no bars: no forward returns


def test_a_failing_backtest_is_recorded_failed() -> None:
    bars = load("aapl").iloc[:50].copy()
    bars.iloc[10, bars.columns.get_loc("high")] = -1.0
    with Store.open(":memory:") as store:
        with pytest.raises(DataError):
            tradekit.backtest(bars, store=store, run_id="bad")
        row = store.backtest_runs().set_index("run_id").loc["bad"]
        assert row["status"] == "failed" and "DataError" in row["error"]
