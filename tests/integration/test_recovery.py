"""Crash recovery: SIGKILL the trader at seeded random points, restart it on the same file.

A ``tradekit run`` subprocess replays two synthetic sessions into a DuckDB file. It is killed
with SIGKILL after a seeded random number (0-6) of its progress lines (one every 10 bars; 0 is
right after start-up) and
restarted on the same file, again and again, until a run completes. The result must equal an
uninterrupted run's row for row — orders, fills, closed trades, final cash and positions at the
same last bar — with no duplicate or missing id, and the database must open after every kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tradekit.store import Store

ARGS = ["run", "--days", "2", "--history-days", "30", "--seed", "3", "--every", "10"]
KILLS = 10
SEED = 20261205


def _cmd(db: Path, flag: Path) -> list[str]:
    return [sys.executable, "-m", "tradekit.cli", *ARGS, "--db", str(db), "--kill-flag", str(flag)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _run_to_end(db: Path, flag: Path) -> None:
    proc = subprocess.run(_cmd(db, flag), env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _kill_after(db: Path, flag: Path, lines: int) -> bool:
    """Start a run, SIGKILL it after ``lines`` progress lines; False when it ended first."""
    proc = subprocess.Popen(_cmd(db, flag), env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        if line.startswith("config ") or (" | " in line and "bars/s" in line):
            seen += 1
            if seen > lines:  # 0: right after start-up, before the first bar
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    proc.stdout.close()
    return proc.returncode == -signal.SIGKILL


def _tables(db: Path) -> dict[str, pd.DataFrame]:
    with Store.open(str(db), read_only=True) as store:
        runs = store.query("SELECT run_id, status FROM backtest_runs WHERE kind = 'live'")
        assert len(runs) == 1, runs  # one run, continued across every restart
        out = {
            "orders": store.query("SELECT * EXCLUDE (run_id) FROM orders ORDER BY id"),
            "fills": store.query("SELECT * EXCLUDE (run_id) FROM fills ORDER BY id"),
            "trades": store.query("SELECT * EXCLUDE (run_id) FROM trades ORDER BY id"),
            "decisions": store.query(
                "SELECT * EXCLUDE (run_id, processing_time_us) FROM auto_decisions ORDER BY id"
            ),
            "signals": store.query("SELECT id FROM auto_signals ORDER BY id"),
            "daily": store.query("SELECT * EXCLUDE (run_id) FROM daily_performance ORDER BY date"),
            "final": store.query("SELECT epoch_ns(bar_ts) AS bar, digest FROM auto_checkpoints"),
            "runs": runs,
        }
    return out


def test_sigkill_at_random_points_then_restart_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    clean_db, crash_db = tmp_path / "clean.duckdb", tmp_path / "crash.duckdb"
    flag = tmp_path / "KILL"
    _run_to_end(clean_db, flag)
    clean = _tables(clean_db)
    rng = random.Random(SEED)
    kills = 0
    while kills < KILLS:
        if not _kill_after(crash_db, flag, rng.randint(0, 6)):
            break
        kills += 1
        with Store.open(str(crash_db), read_only=True) as store:  # always opens
            assert store.schema_version >= 4
    assert kills == KILLS
    _run_to_end(crash_db, flag)
    crash = _tables(crash_db)
    assert crash["runs"]["status"].tolist() == ["done"]
    for name in ("orders", "fills", "trades", "decisions", "signals", "daily", "final"):
        pd.testing.assert_frame_equal(crash[name], clean[name], obj=name)
    for name in ("orders", "fills", "trades"):
        ids = crash[name]["id"]
        assert ids.is_unique and len(ids) == len(clean[name]) > 0
