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
    positive_float,
    positive_int,
    prepare_db_folder,
    replay_inputs,
)
from tradekit.cli._printer import RunPrinter, Verbosity, configure_logging
from tradekit.errors import StoreLockedError

__all__ = ["cmd_run", "register"]


def cmd_run(args: argparse.Namespace) -> int:
    from tradekit.runtime.recording import record_event_calendar
    from tradekit.runtime.replay import replay_trader
    from tradekit.runtime.warmup import warm_kernels
    from tradekit.store import Store

    verbosity: Verbosity = "quiet" if args.quiet else ("verbose" if args.verbose else "summary")
    configure_logging(verbosity)

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
                               kill_flag_path=args.kill_flag, new_run=args.new_run)  # fmt: skip
        record_event_calendar(store, trader.engine, inp.bars)
    except BaseException:
        store.close()
        raise
    # compile / load the numba kernels now, so the first decision's latency is the decision's
    warm_kernels(progress=None if args.quiet else (lambda line: print(line, file=sys.stderr)))
    printer = RunPrinter(trader.engine, verbosity, every=args.every)
    trader.on_bar = printer
    resumed = trader.bars_seen > 0
    how = f"resumed after bar {trader.bars_seen:,}" if resumed else "new"
    print(f"config {cfg.name} v{cfg.version} ({trader.config_id}); "
          f"mode {cfg.decision.mode.value}; database {db}; run {trader.run_id} ({how}); "
          f"kill with `tradekit kill` (flag {args.kill_flag})")  # fmt: skip
    if trader.state.value == "HALTED":
        print(f"trader is HALTED ({trader.engine.risk.state_reason}): no order will be sent; "
              "`tradekit reset --confirm` clears it")  # fmt: skip

    async def main() -> None:
        trader.start()
        try:
            await trader.wait()
        finally:
            await trader.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("interrupted")
    finally:
        store.close()
    printer.close(initial_cash=cfg.execution.initial_cash, where=f"{db} (run {trader.run_id})")
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
    run.add_argument("--every", type=positive_int, default=None, metavar="N",
                     help="also print the progress line every N bars (default: once per "
                     "session)")  # fmt: skip
    add_db_arg(run, "every record is written to")
    add_kill_flag_arg(run, "polled every bar: `tradekit kill` writes it")
    run.add_argument("--new-run", action="store_true",
                     help="start a new run even when the last one on this database was "
                     "interrupted (default: resume it from its checkpoint)")  # fmt: skip
    run.set_defaults(func=cmd_run)
