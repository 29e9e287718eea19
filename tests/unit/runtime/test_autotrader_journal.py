"""The fill journal of the auto-trader: every fill is on disk before anybody hears of it; after
a crash between a fill and its commit, the re-fed bars must give back each journaled fill,
identical — and a fill that comes back different halts the trader with an alert."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pandas as pd
import pytest

from tradekit.core.enums import TradingState
from tradekit.runtime.autotrader import AutoTrader, TraderState
from tradekit.runtime.replay import ReplayInputs, replay_inputs, replay_trader
from tradekit.store import Store

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def inputs() -> ReplayInputs:
    return replay_inputs("synthetic", days=2, history_days=20, seed=5)


def _trader(inputs: ReplayInputs, db: str) -> AutoTrader:
    return replay_trader(inputs=inputs, db=db)


def _fills(db: str) -> pd.DataFrame:
    with Store.open(db, read_only=True) as store:
        return store.query("SELECT * EXCLUDE (run_id) FROM fills ORDER BY id")


async def _crash_after_fills(inputs: ReplayInputs, db: str, n_fills: int) -> AutoTrader:
    """Run until ``n_fills`` fills were booked after the commits stopped: the state on disk of
    a process killed right after those fills (journal written, checkpoint not)."""
    t = _trader(inputs, db)
    seen: list[str] = []
    t.bus.subscribe("fills.*", lambda topic, f: seen.append(f.id))
    t.start()
    while len(seen) < 2:
        await asyncio.sleep(0)
    t._checkpoint = lambda: None  # type: ignore[method-assign]  # nothing commits from here on
    target = len(seen) + n_fills
    while len(seen) < target:
        await asyncio.sleep(0)
    await t.stop()  # its final checkpoint does not commit either
    assert t.journal is not None
    journaled = {e.fill_id for e in t.journal.entries(t.run_id)}
    assert set(seen[-n_fills:]) <= journaled, "each fill is journaled as it is booked"
    t.journal.close()
    t.store.close()
    return t


async def test_journaled_fills_come_back_after_a_crash_and_the_run_ends_as_an_uninterrupted_one(
    inputs: ReplayInputs, tmp_path: Path
) -> None:
    ref_db = str(tmp_path / "ref.duckdb")
    ref = _trader(inputs, ref_db)
    ref.start()
    await ref.wait()
    ref.store.close()

    db = str(tmp_path / "crash.duckdb")
    crashed = await _crash_after_fills(inputs, db, 3)
    t = _trader(inputs, db)
    assert t.run_id == crashed.run_id
    assert len(t._expected) >= 3, "the fills after the last commit wait to be re-fed"
    t.start()
    await t.wait()
    assert t._expected == {} and t.state is TraderState.STOPPED
    assert t.engine.risk.trading_state is not TradingState.HALTED
    assert t.journal is not None and t.journal.entries() == []  # committed: emptied
    t.store.close()
    assert not t.journal.path.exists()  # closed empty at the end of the run
    pd.testing.assert_frame_equal(_fills(db), _fills(ref_db))


async def test_a_journaled_fill_that_comes_back_different_halts_the_trader(
    inputs: ReplayInputs, tmp_path: Path
) -> None:
    db = str(tmp_path / "tampered.duckdb")
    crashed = await _crash_after_fills(inputs, db, 2)
    assert crashed.journal is not None
    path = crashed.journal.path
    lines = path.read_text().splitlines()
    obj = json.loads(lines[-1])
    obj["fill"]["price"] += 0.01  # not what the re-fed bar books
    lines[-1] = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    t = _trader(inputs, db)
    t.start()
    await t.wait()
    assert t.engine.risk.trading_state is TradingState.HALTED
    alerts = t.store.query("SELECT message FROM alerts WHERE level = 'CRITICAL'")
    t.store.close()
    assert any("differs from the one journaled" in m for m in alerts["message"]), alerts
    assert path.exists(), "the journal is kept for a look after a problem"
