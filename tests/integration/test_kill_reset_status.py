"""The kill switch with a stuck loop, HALTED across restarts, `tradekit reset`, truthful status."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tradekit.cli import main
from tradekit.core.enums import OrderStatus
from tradekit.runtime.autotrader import AutoTrader
from tradekit.runtime.replay import ReplayInputs, replay_inputs, replay_trader
from tradekit.store import Store


@pytest.fixture(scope="module")
def inputs() -> ReplayInputs:
    return replay_inputs("synthetic", days=2, history_days=30, seed=3)


def _trader(inputs: ReplayInputs, db: Path, flag: Path) -> AutoTrader:
    return replay_trader(inputs=inputs, db=str(db), kill_flag_path=flag)


async def test_kill_from_another_process_while_the_loop_is_blocked(
    inputs: ReplayInputs, tmp_path: Path
) -> None:
    db, flag = tmp_path / "k.duckdb", tmp_path / "KILL"
    t = _trader(inputs, db, flag)
    blocked_at: dict[str, Any] = {}

    def block(outcome: Any) -> None:
        if t.bars_seen == 300 and not blocked_at:
            # the loop's task is stuck here; the operator kills from another process,
            # which needs no database lock (the file is held by this process)
            out = subprocess.run([sys.executable, "-m", "tradekit.cli", "kill", "--kill-flag",
                                  str(flag), "--reason", "stuck loop"], capture_output=True,
                                 text=True, timeout=60)  # fmt: skip
            assert out.returncode == 0, out.stderr
            time.sleep(0.2)
            blocked_at.update(ts=outcome.bar.close_ts_ns + 1, orders=len(t.engine.broker.orders()))

    t.on_bar = block  # after bar 300, before bar 301: the loop's task is stuck here
    t.start()
    await t.wait()
    assert blocked_at and t.state.value == "HALTED"
    later = [o for o in t.engine.broker.orders() if o.ts_ns >= blocked_at["ts"]]
    entries = [o for o in later if not o.tag.startswith("exit")]
    assert entries and all(o.status is OrderStatus.REJECTED for o in entries)
    assert all("HALTED" in o.reason for o in entries)
    # only the exit plans of positions already open still act (stop-loss / time stop: they
    # reduce risk); nothing new is opened after the kill
    fills = t.store.query(
        "SELECT f.id, o.tag FROM fills f JOIN orders o ON o.id = f.order_id AND o.run_id = f.run_id "
        "WHERE f.ts >= make_timestamp_ns(?)",
        [blocked_at["ts"]],
    )
    assert all(tag.startswith("exit") for tag in fills["tag"])
    t.store.close()

    # HALTED survives a restart: a new trader on the file starts HALTED and sends nothing
    t2 = _trader(inputs, db, flag)
    assert t2.status().state == "HALTED" and "stuck loop" in t2.status().halt_reason
    t2.store.close()
    flag.unlink()  # removing the flag is not enough
    t3 = _trader(inputs, db, flag)
    assert t3.status().state == "HALTED"
    t3.store.close()

    assert main(["reset", "--db", str(db), "--kill-flag", str(flag)]) == 2  # needs --confirm
    assert main(["reset", "--confirm", "--by", "alice", "--db", str(db), "--kill-flag",
                 str(flag)]) == 0  # fmt: skip
    t4 = _trader(inputs, db, flag)
    assert t4.status().state == "STOPPED"
    alerts = t4.store.alerts()
    assert any("reset by alice" in m for m in alerts["message"])
    assert any("kill switch" in m for m in alerts["message"])  # the kill was stored too
    t4.store.close()


def test_status_tells_a_live_process_from_a_stale_running(tmp_path: Path) -> None:
    db, flag = tmp_path / "s.duckdb", tmp_path / "KILL"
    cmd = [sys.executable, "-m", "tradekit.cli", "run", "--days", "1", "--history-days", "5",
           "--speed", "300", "--db", str(db), "--kill-flag", str(flag)]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    status_file = db.with_name(db.name + ".trader.json")
    try:
        deadline = time.monotonic() + 60
        while not status_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status_file.exists()
        live = subprocess.run([sys.executable, "-m", "tradekit.cli", "status", "--db", str(db),
                               "--kill-flag", str(flag)], capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert f"live process {proc.pid}" in live.stdout and "RUNNING" in live.stdout
        assert "equity" in live.stdout and "last bar" in live.stdout
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    stale = subprocess.run([sys.executable, "-m", "tradekit.cli", "status", "--db", str(db),
                            "--kill-flag", str(flag)], capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert "STALE" in stale.stdout and str(proc.pid) in stale.stdout, stale.stdout
    with Store.open(str(db), read_only=True):
        pass  # the killed file opens


async def test_hot_config_change_takes_effect_at_the_next_bar(inputs: ReplayInputs) -> None:
    t = replay_trader(inputs=inputs)
    v2 = t.config.model_copy(update={"version": "2.0.0"})
    v2 = type(t.config).parse({**v2.model_dump(mode="json"),
                               "decision": {**v2.decision.model_dump(mode="json"),
                                            "min_confidence": 9.9}})  # fmt: skip
    t.store.save_config(v2)
    t.start()
    while t.bars_seen < 200:
        await asyncio.sleep(0)
    t.activate_config("2.0.0")
    at = t.bars_seen
    await t.wait()
    assert t.config.version == "2.0.0" and t.config.decision.min_confidence == 9.9
    decisions = t.store.decisions()
    assert set(decisions["config_hash"]) == {t.store.load_config(("default", "1.0.0")).content_hash,
                                             v2.content_hash}  # fmt: skip
    assert t.bars_seen == len(inputs.bars) and at >= 200
    assert any("v2.0.0" in m for m in t.store.alerts()["message"])  # recorded
