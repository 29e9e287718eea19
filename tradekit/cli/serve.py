"""``tradekit serve``: the auto-trader as a service — one Tornado server (REST API, event stream,
Panel apps) with the replay trader on its event loop, in the process that owns the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from tradekit.cli._common import (
    add_data_args,
    add_db_arg,
    add_kill_flag_arg,
    load_config,
    positive_float,
    prepare_db_folder,
    replay_inputs,
)
from tradekit.errors import StoreLockedError

__all__ = ["cmd_serve", "register"]


def _apps(trader: Any) -> dict[str, Any] | None:
    """The Panel apps served beside the API: the Control Center at ``/`` (one page per browser
    session over the one running ``trader``, backfilled from the trader's recent events so a
    page opened mid-run shows the session so far)."""
    from tradekit.dashboards.app import control_center
    from tradekit.dashboards.components.collector import EventHistory

    history = EventHistory(trader.bus)

    def page() -> Any:
        return control_center(trader, history=history)

    return {"/": page}


def _token_note(server: Any) -> str:
    if server.generated_token:
        file = server.ctx.tokens.generated_file
        return (f"operator token (shown once; kept in {file}, mode 0600, for `tradekit status` "
                f"and `tradekit kill`): {server.token}")  # fmt: skip
    return "tokens: from TRADEKIT_API_TOKEN (operator) / TRADEKIT_API_READ_TOKEN (read-only)"


def _quiet_closed_sockets(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Loop exception handler: a browser tab closed while Bokeh was writing to its session
    socket is normal, not an error worth a traceback on the console; the rest goes to the
    default handler."""
    exc = context.get("exception")
    if type(exc).__name__ in ("WebSocketClosedError", "StreamClosedError"):
        return
    loop.default_exception_handler(context)


async def _serve(args: argparse.Namespace, trader: Any) -> None:
    from tradekit.api.server import build_server

    asyncio.get_running_loop().set_exception_handler(_quiet_closed_sockets)

    server = build_server(trader, port=args.port, address=args.address, apps=_apps(trader))
    server.start()
    print(f"serving {server.url}  (API {server.url}/api/openapi.json, events "
          f"{server.url.replace('http', 'ws')}/ws/events?token=...)")  # fmt: skip
    print(_token_note(server))
    if args.no_start:
        print("trader STOPPED: start it with POST /api/auto-trade/start")
    elif trader.state.value != "HALTED":
        trader.start()
    else:
        print(f"trader is HALTED ({trader.engine.risk.state_reason}): POST /api/auto-trade/reset")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("shutting down")
        await server.stop()
        await trader.stop()


def cmd_serve(args: argparse.Namespace) -> int:
    from tradekit.runtime.replay import replay_trader
    from tradekit.store import Store

    inp = replay_inputs(args)
    cfg = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    db = Path(args.db)
    prepare_db_folder(args.db)
    try:
        store = Store.open(str(db))
    except StoreLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        trader = replay_trader(inputs=inp, db=store, config=cfg, speed=args.speed,
                               kill_flag_path=args.kill_flag)  # fmt: skip
        print(f"config {cfg.name} v{cfg.version}; mode {cfg.decision.mode.value}; database {db}; "
              f"run {trader.run_id}")  # fmt: skip
        asyncio.run(_serve(args, trader))
    finally:
        store.close()
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0-65535")
    return port


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser("serve", help="the auto-trader with its REST API, event stream and apps")
    add_data_args(sp)
    sp.add_argument("--port", type=_port, default=5006,
                    help="TCP port to listen on, 0-65535 (0: any free port; default %(default)s)")  # fmt: skip
    sp.add_argument("--address", default="127.0.0.1", help="listen address (loopback default)")
    sp.add_argument("--speed", type=positive_float, default=60.0, metavar="X",
                    help="replay speed, x real time (default 60: a 1-minute bar per second)")  # fmt: skip
    sp.add_argument("--no-start", action="store_true", help="wait for POST /api/auto-trade/start")
    add_db_arg(sp, "the served trader owns")
    add_kill_flag_arg(sp, "polled every bar: `tradekit kill` writes it")
    sp.set_defaults(func=cmd_serve)
