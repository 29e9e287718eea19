"""``tradekit status``: what the trader is doing, told truthfully.

* While a trader runs it owns the database (DuckDB's lock), so the status comes from the JSON
  file it rewrites every second beside the database (``<db>.trader.json``) and its pid is
  checked to be alive.
* Otherwise the database is read (read-only): the last run's state, and a ``RUNNING`` or
  ``PAUSED`` whose process is gone is reported as *stale* (killed or crashed: the next
  ``tradekit run`` resumes it from its checkpoint), with the last status it stored — equity,
  day P&L, positions, last bar — the risk state and the record counts.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from tradekit.cli._common import add_db_arg, add_kill_flag_arg, fmt_ts
from tradekit.errors import StoreLockedError

__all__ = ["cmd_status", "pid_alive", "register"]


def pid_alive(pid: Any) -> bool:
    """Whether a process with this pid exists (False for a missing or bad pid)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _print_status(st: dict[str, Any]) -> None:
    last = st.get("last_bar_ts_ns")
    positions = st.get("positions") or {}
    held = ", ".join(f"{s} {q:+g}" for s, q in positions.items()) or "none"
    print(f"run {st.get('run_id')} ({st.get('data_label')}); config {st.get('config_name')} "
          f"v{st.get('config_version')}; mode {st.get('mode')}")  # fmt: skip
    print(f"last bar {fmt_ts(last) if last else '-'}; bars {st.get('bars_seen', 0):,}; "
          f"equity {st.get('equity', 0):,.2f}; day P&L {st.get('day_pnl', 0):+,.2f}; "
          f"trades today {st.get('trades_today', 0)}/{st.get('max_trades', 0)}; positions {held}")  # fmt: skip
    if st.get("halt_reason"):
        print(f"halt reason: {st['halt_reason']}")


def _from_status_file(db: Path) -> int:
    path = db.with_name(db.name + ".trader.json")
    try:
        st = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        print(f"the database {db} is in use by another process (no trader status file {path})")
        return 0
    alive = pid_alive(st.get("pid"))
    age = (time.time_ns() - int(st.get("heartbeat_ns", 0))) / 1e9
    print(f"state {st.get('state')} (live process {st.get('pid')}, heartbeat {age:.1f} s ago)"
          if alive else f"state {st.get('state')} reported by process {st.get('pid')}, which is "
          "gone")  # fmt: skip
    _print_status(st)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from tradekit.cli._server import status_via_server
    from tradekit.risk.engine import STATE_KEY
    from tradekit.runtime.autotrader import PROCESS_KEY, STATUS_KEY, TRADER_KEY
    from tradekit.store import Store

    if status_via_server(args.db):
        return 0
    db = Path(args.db)
    if not db.exists():
        print(f"no database at {db} (run `tradekit run` first)")
        return 1
    flag = Path(args.kill_flag)
    try:
        store = Store.open(str(db), read_only=True)
    except StoreLockedError:
        code = _from_status_file(db)
        print(f"kill flag: {'SET' if flag.exists() else 'not set'} ({flag})")
        return code
    with store:
        run = store.get_state("current_run")
        risk = store.get_state(STATE_KEY) or {}
        if run is None:
            print("no auto-trader run in this database yet")
        else:
            state = store.get_state(TRADER_KEY, run_id=run)
            proc = store.get_state(PROCESS_KEY, run_id=run) or {}
            pid = proc.get("pid")
            if state in ("RUNNING", "PAUSED"):
                beat = proc.get("heartbeat_ns")
                when = f", last heartbeat {fmt_ts(beat)}" if beat else ""
                gone = "is gone" if not pid_alive(pid) else "no longer holds the database"
                print(f"state {state} is STALE: its process {pid} {gone}{when} (killed or "
                      "crashed); the next `tradekit run` resumes it from its checkpoint")  # fmt: skip
            else:
                print(f"state {state}")
            st = store.get_state(STATUS_KEY, run_id=run)
            if st:
                _print_status(st)
        if isinstance(risk, dict) and risk.get("state", "ACTIVE") != "ACTIVE":
            print(f"risk {risk['state']}: {risk.get('reason', '')} "
                  "(`tradekit reset --confirm` clears it)")  # fmt: skip
        counts = store.query(
            "SELECT (SELECT count(*) FROM auto_signals) AS signals, "
            "(SELECT count(*) FROM auto_decisions) AS decisions, "
            "(SELECT count(*) FROM fills) AS fills, (SELECT count(*) FROM alerts) AS alerts"
        )
        print(counts.to_string(index=False))
    print(f"kill flag: {'SET' if flag.exists() else 'not set'} ({flag})")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    st = sub.add_parser("status", help="what the trader is doing (live process or database)")
    add_db_arg(st, "to read (read-only)")
    add_kill_flag_arg(st, "to report on")
    st.set_defaults(func=cmd_status)
