"""LiveRunner: runs inside an existing event loop, is controllable, and survives bad bars."""

from __future__ import annotations

import asyncio

import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.core.enums import TradingState
from tradekit.core.events import Alert, Bar
from tradekit.data.datasets import synthetic_intraday
from tradekit.data.schema import bars_to_events
from tradekit.runtime.kernel import Engine
from tradekit.runtime.live import LiveRunner, RunnerState
from tradekit.testing import FakeFeed

CFG = AlgorithmConfig(symbols=("SPY",), timeframe="1min")


def engine() -> Engine:
    return Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)


def bars(n: int = 60) -> list[Bar]:
    df = synthetic_intraday("SPY", start="2024-03-04", days=1, seed=2).iloc[:n]
    return bars_to_events(df, "SPY", "1min")


def alerts(eng: Engine) -> list[Alert]:
    got: list[Alert] = []
    eng.bus.subscribe("alerts.*", lambda t, e: got.append(e))
    return got


async def test_start_returns_at_once_and_runs_in_the_current_loop() -> None:
    eng = engine()
    runner = LiveRunner(eng, FakeFeed(bars(30)))
    task = runner.start()
    assert runner.state is RunnerState.RUNNING and not task.done()
    await runner.wait()
    assert runner.state is RunnerState.STOPPED and runner.bars == 30
    assert eng.counts["bars"] == 30


async def test_pause_resume_stop() -> None:
    eng = engine()
    runner = LiveRunner(eng, FakeFeed(bars(200), delay_s=0.001))
    runner.start()
    await asyncio.sleep(0.02)
    runner.pause()
    assert runner.state is RunnerState.PAUSED
    await asyncio.sleep(0.01)
    frozen = runner.bars
    await asyncio.sleep(0.03)
    assert runner.bars <= frozen + 1  # at most the bar in flight when paused
    runner.resume()
    for _ in range(200):  # bounded wait: at most 2 s on a loaded machine
        if runner.bars > frozen:
            break
        await asyncio.sleep(0.01)
    assert runner.bars > frozen
    await runner.stop()
    assert runner.state is RunnerState.STOPPED and runner.bars < 200


async def test_starting_twice_is_refused() -> None:
    runner = LiveRunner(engine(), FakeFeed(bars(50), delay_s=0.001))
    runner.start()
    with pytest.raises(RuntimeError, match="already running"):
        runner.start()
    await runner.stop()


async def test_a_bad_bar_is_alerted_and_the_runner_goes_on() -> None:
    eng = engine()
    got = alerts(eng)
    items = bars(40)
    items.insert(20, items[10])  # an out-of-order (old) bar in the middle of the stream
    runner = LiveRunner(eng, FakeFeed(items))
    runner.start()
    await runner.wait()
    assert runner.state is RunnerState.STOPPED
    assert runner.errors == 1 and runner.bars == 40
    assert any("bar processing failed" in a.message for a in got)
    assert eng.risk.trading_state is TradingState.ACTIVE


async def test_repeated_failures_trip_the_kill_switch_and_stop() -> None:
    eng = engine()
    got = alerts(eng)
    items = bars(10)
    items = items[:5] + [items[0]] * 8 + items[5:]  # eight stale bars in a row
    runner = LiveRunner(eng, FakeFeed(items), max_errors=3)
    runner.start()
    await runner.wait()
    assert runner.state is RunnerState.FAILED
    assert eng.risk.trading_state is TradingState.HALTED
    assert runner.errors == 4 and runner.bars == 5
    assert any(a.source == "killswitch" for a in got)


async def test_restarting_a_stopped_runner_is_a_clear_error() -> None:
    from tradekit.errors import TraderError

    runner = LiveRunner(engine(), FakeFeed(bars(10)))
    runner.start()
    await runner.wait()
    assert runner.state is RunnerState.STOPPED
    with pytest.raises(TraderError, match="build a new LiveRunner"):
        runner.start()
    assert runner.state is RunnerState.STOPPED  # not a RUNNING that never runs
