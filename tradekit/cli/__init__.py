"""The ``tradekit`` command line.

``tradekit run``
    The main job (``make run``): the paper auto-trader on replayed data — clearly labelled
    synthetic SPY 1-minute bars with a synthetic VIX and synthetic option chains by default,
    or the shipped real daily bars (``--data aapl``) — through the live runner, printing a
    live summary, with every signal, decision, order and fill written to DuckDB.
``tradekit serve``
    The auto-trader as a service: one Tornado server with the REST API (``/api/...``), the
    event stream (``/ws/events``) and the Panel apps, the replay trader on its loop.
``tradekit backtest``
    A replay backtest of a shipped dataset, printed as a summary (optionally saved as JSON).
``tradekit status``
    Reads the database (read-only) and prints the trader state, counts and recent alerts.
``tradekit kill``
    Trips the kill switch of a running trader from another process by writing the flag file
    the engine polls every bar — no database lock needed.
``tradekit reset --confirm``
    Leaves HALTED explicitly (a latched kill survives restarts), recording who reset it.

Each subcommand lives in its own module of this package with a ``register(subparsers)``
function; :data:`COMMANDS` lists them in the order ``--help`` shows them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tradekit.errors import TradekitError

__all__ = ["COMMANDS", "main"]

#: Subcommand modules of this package, in ``--help`` order.
COMMANDS: tuple[str, ...] = (
    "run",
    "serve",
    "backtest",
    "research",
    "report",
    "status",
    "kill",
    "reset",
)


#: What ``tradekit --help`` says first (plain text: argparse prints it as it is).
DESCRIPTION = (
    "tradekit: research and paper trading of rule-based options day-trading strategies. "
    "Every subcommand has its own --help."
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tradekit", description=DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except TradekitError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
