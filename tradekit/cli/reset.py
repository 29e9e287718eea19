"""``tradekit reset --confirm``: leave HALTED explicitly, recording who reset it and why.

Removing the kill flag is not enough to trade again (HALTED is latched in the database); this
command clears it in the database of a trader that is not running, removes the flag file and
stores an alert naming the operator. A running trader owns the database: reset it through its
own process (``trader.reset(by)``, the Control Center or the REST API) instead.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path

from tradekit.cli._common import DEFAULT_DB, DEFAULT_KILL_FLAG
from tradekit.errors import StoreLockedError

__all__ = ["cmd_reset", "register"]


def cmd_reset(args: argparse.Namespace) -> int:
    from tradekit.core.enums import AlertLevel
    from tradekit.core.events import Alert
    from tradekit.core.ids import make_id
    from tradekit.risk.engine import STATE_KEY
    from tradekit.runtime.autotrader import TRADER_KEY
    from tradekit.store import LIVE_RUN_ID, Store

    if not args.confirm:
        print("error: reset re-enables trading; pass --confirm to do it", file=sys.stderr)
        return 2
    db, flag = Path(args.db), Path(args.kill_flag)
    if not db.is_file():
        print(f"error: no database at {db}", file=sys.stderr)
        return 2
    try:
        store = Store.open(str(db))
    except StoreLockedError:
        print(f"error: a running trader owns {db}; reset it through that process "
              "(trader.reset(by), the Control Center or the REST API)", file=sys.stderr)  # fmt: skip
        return 2
    by = args.by or getpass.getuser()
    with store:
        raw = store.get_state(STATE_KEY)
        state = raw.get("state", "ACTIVE") if isinstance(raw, dict) else "ACTIVE"
        if state == "ACTIVE" and not flag.exists():
            print("nothing to reset: the trader is not HALTED and no kill flag is set")
            return 0
        now = time.time_ns()
        reason = f"reset by {by}: {args.reason}"
        store.set_state(STATE_KEY, {"state": "ACTIVE", "reason": reason, "by": by, "ts_ns": now})
        run = store.get_state("current_run")
        if run and store.get_state(TRADER_KEY, run_id=run) == "HALTED":
            store.set_state(TRADER_KEY, "STOPPED", reason=reason, run_id=run)
        message = f"kill switch reset by {by} (was {state}): {args.reason}"
        store.write_alerts([Alert(make_id("alert", "reset", now, by), now, AlertLevel.WARNING,
                                  "cli.reset", message, {"by": by, "was": state})],
                           run_id=run or LIVE_RUN_ID)  # fmt: skip
    flag.unlink(missing_ok=True)
    print(f"{message}; kill flag {flag} removed; the next `tradekit run` trades again")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rs = sub.add_parser("reset", help="leave HALTED (explicit; records who reset it)")
    rs.add_argument("--confirm", action="store_true", help="required: yes, re-enable trading")
    rs.add_argument("--by", default=None, help="who resets (default: the login name)")
    rs.add_argument("--reason", default="operator reset from the command line",
                    help="why (stored with the reset)")  # fmt: skip
    rs.add_argument("--db", default=str(DEFAULT_DB), help="the trader's database file")
    rs.add_argument("--kill-flag", default=str(DEFAULT_KILL_FLAG), help="the kill flag file")
    rs.set_defaults(func=cmd_reset)
