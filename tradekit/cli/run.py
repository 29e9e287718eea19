"""``tradekit run``: the paper auto-trader on replayed data (the main job of ``make run``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tradekit.cli._common import (
    add_data_args,
    add_db_arg,
    add_kill_flag_arg,
    load_config,
    market_for,
    positive_float,
    prepare_db_folder,
    replay_inputs,
)
from tradekit.cli._printer import RunPrinter, Verbosity, configure_logging
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.errors import StoreLockedError

__all__ = ["cmd_run", "register"]


def cmd_run(args: argparse.Namespace) -> int:
    from tradekit.data.feeds import ReplayFeed
    from tradekit.runtime.kernel import Engine
    from tradekit.runtime.live import LiveRunner
    from tradekit.runtime.recording import record_event_calendar
    from tradekit.runtime.warmup import warm_kernels
    from tradekit.store import Store, StoreSubscriber

    verbosity: Verbosity = "quiet" if args.quiet else ("verbose" if args.verbose else "summary")
    configure_logging(verbosity)

    inp = replay_inputs(args)
    bars, symbol, timeframe = inp.bars, inp.symbol, inp.timeframe
    cfg = load_config(args.config, symbols=[symbol], timeframe=timeframe)
    market, quotes = market_for(inp, args)
    db = Path(args.db)
    prepare_db_folder(args.db)
    try:
        store = Store.open(str(db))
    except StoreLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    clock, bus = SimClock(), EventBus()
    engine = Engine(cfg, clock=clock, bus=bus, market=market, quotes=quotes, state_store=store,
                    kill_flag_path=args.kill_flag)  # fmt: skip
    config_id = store.save_config(cfg)
    # flushes on wall time: how stale the database may be is a question of real seconds
    sub = StoreSubscriber(store, bus, config_hash=cfg.content_hash, algorithm_version=cfg.version)
    record_event_calendar(store, engine, bars)
    # compile / load the numba kernels now, so the first decision's latency is the decision's
    warm_kernels(progress=None if args.quiet else (lambda line: print(line, file=sys.stderr)))
    printer = RunPrinter(engine, verbosity)
    feed = ReplayFeed(bars, speed=args.speed, clock=clock, symbol=symbol, timeframe=timeframe)
    print(f"config {cfg.name} v{cfg.version} ({config_id}); mode {cfg.decision.mode.value}; "
          f"database {db}; kill with `tradekit kill` (flag {args.kill_flag})")  # fmt: skip

    async def main() -> None:
        runner = LiveRunner(engine, feed, on_outcome=printer)
        runner.start()
        await runner.wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("interrupted")
    finally:
        sub.close()
        store.close()
    printer.close(initial_cash=cfg.execution.initial_cash, where=str(db))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="paper auto-trader on replayed data (make run)")
    add_data_args(run)
    run.add_argument("--speed", type=positive_float, default=None, metavar="X",
                     help="replay at X times real time, > 0 (e.g. 600); default: as fast as "
                     "possible")  # fmt: skip
    talk = run.add_mutually_exclusive_group()
    talk.add_argument("--verbose", action="store_true",
                      help="also print one line per decision (ENTER, SKIP with its reason)")  # fmt: skip
    talk.add_argument("--quiet", action="store_true",
                      help="print only the closing summary (no session lines)")  # fmt: skip
    add_db_arg(run, "every record is written to")
    add_kill_flag_arg(run, "polled every bar: `tradekit kill` writes it")
    run.set_defaults(func=cmd_run)
