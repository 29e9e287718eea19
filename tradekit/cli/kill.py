"""``tradekit kill``: trip the kill switch of a running trader from another process."""

from __future__ import annotations

import argparse

from tradekit.cli._common import add_db_arg, add_kill_flag_arg

__all__ = ["cmd_kill", "register"]


def cmd_kill(args: argparse.Namespace) -> int:
    from tradekit.cli._server import kill_via_server
    from tradekit.risk.killswitch import write_kill_flag

    if kill_via_server(args.db, args.reason):
        return 0
    write_kill_flag(args.kill_flag, args.reason)
    print(f"kill flag written to {args.kill_flag}: the running trader halts at its next bar")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kill = sub.add_parser("kill", help="trip the kill switch of a running trader")
    kill.add_argument("--reason", default="manual kill from the command line",
                      help="why the trader is halted, recorded with the halt (default: %(default)s)")  # fmt: skip
    add_kill_flag_arg(kill, "the running trader polls every bar")
    add_db_arg(kill, "of a `tradekit serve`, which is asked over its API first")
    kill.set_defaults(func=cmd_kill)
