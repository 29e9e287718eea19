"""One engine, two clocks: a replay through the asyncio LiveRunner decides and fills exactly like
run_backtest, and truncating the future never changes a past signal, decision or fill."""

from __future__ import annotations

import asyncio
from functools import lru_cache

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.events import to_dict
from tradekit.data.datasets import load, synthetic_intraday
from tradekit.data.feeds import ReplayFeed
from tradekit.runtime.backtest import EventRecorder, run_backtest
from tradekit.runtime.kernel import Engine
from tradekit.runtime.live import LiveRunner, RunnerState

VIX = 18.0


def _vix(ts_ns: int) -> float:
    return VIX


@lru_cache(maxsize=1)
def _intraday() -> pd.DataFrame:
    return synthetic_intraday("SPY", start="2024-03-04", days=3, seed=11)


CASES = {
    "aapl_daily": (
        lambda: load("aapl").iloc[:900],
        AlgorithmConfig(symbols=("AAPL",), timeframe="1D"),
    ),
    "spy_synthetic_1min": (_intraday, AlgorithmConfig(symbols=("SPY",), timeframe="1min")),
}


def _records(frame: pd.DataFrame, drop: tuple[str, ...] = ("processing_time_us",)) -> list[dict]:
    if frame.empty:
        return []
    return frame.drop(columns=[c for c in drop if c in frame]).to_dict("records")


@pytest.mark.parametrize("case", sorted(CASES))
def test_live_runner_replay_equals_backtest(case: str) -> None:
    data_fn, cfg = CASES[case]
    bars = data_fn()
    bt_bus = EventBus()
    bt_rec = EventRecorder(bt_bus)
    bt = run_backtest(bars, cfg, market=_vix, bus=bt_bus)

    async def live() -> EventRecorder:
        clock, bus = SimClock(), EventBus()
        engine = Engine(cfg, clock=clock, bus=bus, market=_vix)
        rec = EventRecorder(bus)
        feed = ReplayFeed(bars, clock=clock, symbol=cfg.symbols[0], timeframe=cfg.timeframe)
        runner = LiveRunner(engine, feed)
        runner.start()
        await runner.wait()
        assert runner.state is RunnerState.STOPPED and runner.errors == 0
        assert runner.bars == len(bars)
        return rec

    rec = asyncio.run(live())
    assert bt.summary["decisions"] > 0, "the case must exercise the decision engine"
    strip = lambda d: {k: v for k, v in to_dict(d).items() if k != "processing_time_us"}  # noqa: E731
    assert [strip(d) for d in rec.decisions] == [strip(d) for d in bt_rec.decisions]
    assert rec.fills == bt_rec.fills
    assert rec.orders == bt_rec.orders
    assert rec.signals == bt_rec.signals and rec.setups == bt_rec.setups


@pytest.mark.parametrize("case", sorted(CASES))
def test_truncating_the_future_changes_nothing_in_the_past(case: str) -> None:
    data_fn, cfg = CASES[case]
    bars = data_fn()

    def run(frame: pd.DataFrame) -> tuple[EventRecorder, pd.Series]:
        bus = EventBus()
        rec = EventRecorder(bus)
        res = run_backtest(frame, cfg, market=_vix, bus=bus)
        return rec, res.equity

    full, full_eq = run(bars)
    kinds = {topic.split(".")[0] for _, topic, _ in full.log}
    assert {"signals", "setups", "decisions"} <= kinds
    n = len(bars)
    strip = lambda e: {k: v for k, v in to_dict(e).items() if k != "processing_time_us"}  # noqa: E731
    for k in (n // 3, n // 2, (4 * n) // 5):
        part, part_eq = run(bars.iloc[:k])
        horizon = part_eq.index[-1].value  # close of the last kept bar
        past = [(t, topic, strip(e)) for t, topic, e in full.log if t <= horizon]
        assert past == [(t, topic, strip(e)) for t, topic, e in part.log], k
        assert (full_eq.iloc[:k].to_numpy() == part_eq.to_numpy()).all()
