"""``tradekit status``: the trader state, counts and alerts from the database (read-only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tradekit.cli._common import DEFAULT_DB, DEFAULT_KILL_FLAG
from tradekit.errors import StoreLockedError

__all__ = ["cmd_status", "register"]


def cmd_status(args: argparse.Namespace) -> int:
    from tradekit.cli._server import status_via_server
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
    except StoreLockedError as exc:
        print(f"database is in use by a running trader: {exc}")
        print(f"kill flag: {'SET' if flag.exists() else 'not set'} ({flag})")
        return 0
    with store:
        counts = store.query(
            "SELECT (SELECT count(*) FROM auto_signals) AS signals, "
            "(SELECT count(*) FROM auto_decisions) AS decisions, "
            "(SELECT count(*) FROM fills) AS fills, (SELECT count(*) FROM alerts) AS alerts"
        )
        print(counts.to_string(index=False))
        state = store.query("SELECT * FROM auto_trade_state ORDER BY key")
        if len(state):
            print(state.to_string(index=False))
    print(f"kill flag: {'SET' if flag.exists() else 'not set'} ({flag})")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    st = sub.add_parser("status", help="trader state from the database (read-only)")
    st.add_argument("--db", default=str(DEFAULT_DB))
    st.add_argument("--kill-flag", default=str(DEFAULT_KILL_FLAG))
    st.set_defaults(func=cmd_status)
