"""AutoTrader: states persisted and published, runs and their ids, operator actions, status."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tradekit.core.events import StateChange
from tradekit.errors import TraderError
from tradekit.runtime.autotrader import TRADER_KEY, AutoTrader, TraderState
from tradekit.runtime.replay import ReplayInputs, replay_inputs, replay_trader
from tradekit.store import Store

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def inputs() -> ReplayInputs:
    return replay_inputs("synthetic", days=2, history_days=20, seed=5)


async def until_bars(t: AutoTrader, n: int) -> None:
    while t.bars_seen < n:
        await asyncio.sleep(0)


def trader(inputs: ReplayInputs, db: str | Store | None = None, **kw: object) -> AutoTrader:
    return replay_trader(inputs=inputs, db=db, **kw)  # type: ignore[arg-type]


async def test_start_pause_resume_wait_and_every_state_is_stored(inputs: ReplayInputs) -> None:
    t = trader(inputs)
    seen: list[StateChange] = []
    t.bus.subscribe("state.trader", lambda topic, ev: seen.append(ev))
    assert t.status().state == "STOPPED"
    task = t.start()
    assert not task.done() and t.state is TraderState.RUNNING
    await until_bars(t, 10)
    t.pause()
    assert t.store.get_state(TRADER_KEY, run_id=t.run_id) == "PAUSED"
    n = t.bars_seen
    await asyncio.sleep(0.05)
    assert t.bars_seen <= n + 1  # at most the bar in flight
    t.resume()
    await t.wait()
    assert t.state is TraderState.STOPPED
    assert t.bars_seen == len(inputs.bars)
    assert [c.new for c in seen] == ["RUNNING", "PAUSED", "RUNNING", "STOPPED"]
    assert all(c.ts_ns > 1_500_000_000 * 10**9 for c in seen)  # real times, not 1970
    row = t.store.live_run(t.run_id)
    assert row is not None and row.status == "done" and row.data_label == inputs.data_label
    assert row.results is not None and row.results["bars"] == len(inputs.bars)


async def test_status_is_typed_and_adds_up(inputs: ReplayInputs) -> None:
    t = trader(inputs)
    t.start()
    await t.wait()
    st = t.status()
    d = st.to_dict()
    assert d["state"] == "STOPPED" and d["symbols"] == ["SPY"] and d["mode"] == "PAPER"
    assert (
        st.bars_seen == len(inputs.bars)
        and st.last_bar_ts_ns == inputs.bars.index[-1].value + 60 * 10**9
    )
    assert st.equity == pytest.approx(t.engine.ledger.equity)
    assert st.max_trades == t.config.decision.max_trades_per_day
    assert st.max_daily_loss == pytest.approx(
        t.config.decision.daily_loss_limit * t.engine.ledger.start_of_day_equity
    )
    assert st.day_loss == max(0.0, -st.day_pnl)


async def test_kill_halts_persists_and_reset_records_who(inputs: ReplayInputs) -> None:
    store = Store.open(":memory:")
    t = trader(inputs, db=store)
    t.start()
    await until_bars(t, 100)
    t.kill("operator test", flatten=True)
    assert t.state is TraderState.HALTED
    assert store.get_state("risk.trading_state")["state"] == "HALTED"
    orders_at_kill = len(t.engine.broker.orders())
    await asyncio.sleep(0.05)
    entries = [o for o in t.engine.broker.orders()[orders_at_kill:] if o.tag not in ("flatten",)]
    assert all(o.status.value == "REJECTED" for o in entries)
    t.reset("alice", "checked")
    assert t.state is TraderState.RUNNING
    assert "alice" in store.get_state("risk.trading_state")["reason"]
    await t.stop()
    assert t.state is TraderState.STOPPED


async def test_a_new_run_gets_a_new_id_an_interrupted_one_continues(
    inputs: ReplayInputs, tmp_path: Path
) -> None:
    db = str(tmp_path / "t.duckdb")
    t1 = trader(inputs, db=db)
    t1.start()
    await until_bars(t1, 100)
    await t1.stop()  # stopped, not finished: resumable
    rid = t1.run_id
    t1.store.close()
    t2 = trader(inputs, db=db)
    assert t2.run_id == rid and t2.bars_seen == t1.bars_seen
    t2.start()
    await t2.wait()
    assert t2.bars_seen == len(inputs.bars)
    t2.store.close()
    t3 = trader(inputs, db=db)  # the run finished: a new one begins
    assert t3.run_id != rid and t3.bars_seen == 0
    t3.store.close()


async def test_start_twice_and_restart_without_a_feed_factory_are_clear_errors(
    inputs: ReplayInputs,
) -> None:
    t = trader(inputs)
    t.start()
    with pytest.raises(TraderError, match="already running"):
        t.start()
    await t.stop()
    t.feed_factory = None
    with pytest.raises(TraderError, match="feed"):
        t.start()


async def test_start_after_stop_continues_with_a_fresh_feed(inputs: ReplayInputs) -> None:
    t = trader(inputs)
    t.start()
    await until_bars(t, 100)
    await t.stop()
    n = t.bars_seen
    t.start()
    await t.wait()
    assert n < t.bars_seen == len(inputs.bars)


async def test_close_position_needs_an_open_position(inputs: ReplayInputs) -> None:
    t = trader(inputs)
    with pytest.raises(TraderError, match="no open position"):
        t.close_position("SPY")
