"""AutoTrader: PAPER/SHADOW switched between sessions, and the alerts it raises (daily loss,
stale feed, bar errors), each stored in ``alerts`` and published on the bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.events import Alert, Bar
from tradekit.runtime.autotrader import AutoTrader, TraderState
from tradekit.runtime.replay import ReplayInputs, replay_inputs, replay_trader

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def three_days() -> ReplayInputs:
    return replay_inputs("synthetic", days=3, history_days=20, seed=5)


def _decisions_by_day(t: AutoTrader) -> pd.DataFrame:
    d = t.store.query("SELECT ts, action, algorithm_version FROM auto_decisions WHERE run_id = ?",
                      [t.run_id])  # fmt: skip
    d["day"] = pd.to_datetime(d["ts"]).dt.tz_localize(None).dt.date
    return d


async def test_shadow_then_paper_switch_at_the_next_session(three_days: ReplayInputs) -> None:
    t = replay_trader(inputs=three_days)
    t.start()
    while t.bars_seen < 60:
        await asyncio.sleep(0)
    t.set_mode("SHADOW")  # inside session 1: it must wait for session 2
    while t.bars_seen < 390 + 60:
        await asyncio.sleep(0)
    t.set_mode("PAPER")  # inside session 2: back to the original version from session 3
    await t.wait()
    assert t.state is TraderState.STOPPED and t.bars_seen == len(three_days.bars)
    d = _decisions_by_day(t)
    days = sorted(d["day"].unique())
    assert len(days) == 3
    by_day = {day: set(g["algorithm_version"]) for day, g in d.groupby("day")}
    assert by_day[days[0]] == {"1.0.0"} and by_day[days[1]] == {"1.0.0+shadow"}
    assert by_day[days[2]] == {"1.0.0"}, "switching back must find the stored PAPER version"
    actions = {day: set(g["action"]) for day, g in d.groupby("day")}
    assert "ENTER" in actions[days[0]] and "ENTER" not in actions[days[1]]
    assert "SHADOW" not in actions[days[0]] | actions[days[2]]
    orders = t.store.query("SELECT ts FROM orders WHERE run_id = ?", [t.run_id])
    order_days = set(pd.to_datetime(orders["ts"]).dt.tz_localize(None).dt.date)
    assert days[1] not in order_days, "SHADOW placed an order"
    versions = t.store.configs()
    assert {"1.0.0", "1.0.0+shadow"} <= set(versions["version"])
    assert (versions.groupby("config_id")["version"].nunique() == 1).all()  # no duplicate params
    msgs = list(t.store.alerts()["message"])
    assert any("v1.0.0+shadow" in m and "mode SHADOW" in m for m in msgs)
    assert any("v1.0.0 " in m and "mode PAPER" in m for m in msgs)


async def test_a_daily_loss_breach_is_an_alert(three_days: ReplayInputs) -> None:
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min").with_overrides(
        {"decision.daily_loss_limit": 0.0002}
    )
    t = replay_trader(inputs=three_days, config=cfg)
    seen: list[Alert] = []
    t.bus.subscribe("alerts.*", lambda _topic, a: seen.append(a))
    t.start()
    await t.wait()
    stored = t.store.alerts()
    loss = stored[stored["message"].str.startswith("daily-loss limit")]
    assert len(loss) >= 1 and set(loss["level"]) == {"WARNING"}
    assert any(a.message.startswith("daily-loss limit") for a in seen)


class _StallingFeed:
    """Two bars, then silence until cancelled (a data source that stopped sending)."""

    def __init__(self, bars: list[Bar]) -> None:
        self.bars = bars

    def __aiter__(self) -> AsyncIterator[Bar]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[Bar]:
        for b in self.bars:
            yield b
        await asyncio.sleep(3600)


async def test_a_stale_feed_is_one_alert_while_running(three_days: ReplayInputs) -> None:
    from tradekit.data.feeds import ReplayFeed

    bars = [b async for b in ReplayFeed(three_days.bars.iloc[:2], symbol="SPY")]
    t = AutoTrader(AlgorithmConfig(symbols=("SPY",), timeframe="1min"), feed=_StallingFeed(bars),
                   store=None, market=lambda _ts: 18.0, heartbeat_s=0.05, stale_feed_s=0.2)  # fmt: skip
    t.start()
    while t.bars_seen < 2:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.6)
    await t.stop()
    stale = [m for m in t.store.alerts()["message"] if m.startswith("stale feed")]
    assert len(stale) == 1, stale  # once per stall, not once per heartbeat


async def test_repeated_bar_errors_halt_with_a_critical_alert(three_days: ReplayInputs) -> None:
    t = replay_trader(inputs=three_days, max_errors=3)

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("signal kernel blew up")

    t.start()
    while t.bars_seen < 5:
        await asyncio.sleep(0)
    t.engine.on_bar = broken  # type: ignore[method-assign]
    await t.wait()
    alerts = t.store.alerts()
    crit = alerts[alerts["level"] == "CRITICAL"]
    assert any("bar errors" in m for m in crit["message"]), list(alerts["message"])


async def test_a_fill_bar_is_checkpointed_before_the_next_bar(three_days: ReplayInputs) -> None:
    """The checkpoint after a bar with fills is deferred to just after the bar (so event-stream
    writers go first) but is always committed before the next bar reaches the engine."""
    t = replay_trader(inputs=three_days)
    t.feed.yield_every = 10**9  # type: ignore[attr-defined]  # a feed that never lets the loop run
    fill_bars: list[int] = []
    late: list[tuple[int, int | None]] = []
    last_close = [0]

    def on_bar(_topic: str, bar: Bar) -> None:  # the next bar, as it reaches the engine
        if fill_bars and fill_bars[-1] == last_close[0]:
            cp = t.store.load_checkpoint(t.run_id)
            if cp is None or cp.bar_ts_ns < fill_bars[-1]:
                late.append((fill_bars[-1], None if cp is None else cp.bar_ts_ns))
        last_close[0] = bar.close_ts_ns

    t.bus.subscribe("bars.*", on_bar, priority=1_000)
    t.bus.subscribe("fills.*", lambda _t, f: fill_bars.append(last_close[0]), priority=1_000)
    t.start()
    await t.wait()
    assert len(fill_bars) >= 3 and not late, late
