"""EquityTracker: the engine's equity per bar close, equal to the backtest's curve."""

from __future__ import annotations

import pytest

from tradekit.analytics import EquityTracker, RunData, performance
from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.data.datasets import load
from tradekit.data.feeds import ReplayFeed
from tradekit.runtime.backtest import run_backtest
from tradekit.runtime.kernel import Engine
from tradekit.store import Store

CFG = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")


def test_tracker_marks_equal_the_backtest_equity_and_reach_the_store() -> None:
    bars = load("aapl").iloc[:600]
    res = run_backtest(bars, CFG, market=lambda ts: 18.0)
    clock = SimClock()
    eng = Engine(CFG, clock=clock, market=lambda ts: 18.0)
    with Store.open(":memory:") as store:
        tr = EquityTracker(eng, store, batch=50)
        feed = ReplayFeed(bars, clock=clock, symbol="AAPL", timeframe="1D")  # sets the clock
        for i, bar in enumerate(feed):
            eng.on_bar(bar)
            if i == 99:  # the mark of bar 99 is taken when bar 100 arrives; 99 are written
                assert len(store.equity("live")) == 50 and len(tr.equity) == 99
        assert len(tr.equity) == len(res.equity) - 1  # the last close is marked by flush
        tr.close()
        assert tr.equity.tolist() == res.equity.tolist()
        assert (tr.equity.index == res.equity.index).all()
        stored = store.equity("live")
        assert stored.tolist() == pytest.approx(res.equity.tolist())
        run = RunData.from_store(store, "live", initial_equity=100_000.0)
        assert performance(run.equity, res.trades, initial_equity=100_000.0)["sharpe"] == (
            pytest.approx(res.stats["sharpe"])
        )
        tr.close()  # idempotent
        assert len(store.equity("live")) == len(res.equity)


def test_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch"):
        EquityTracker(Engine(CFG), batch=0)
