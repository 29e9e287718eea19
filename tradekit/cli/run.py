"""``tradekit run``: the paper auto-trader on replayed data (the main job of ``make run``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from tradekit.cli._common import (
    DEFAULT_DB,
    DEFAULT_KILL_FLAG,
    add_data_args,
    fmt_ts,
    load_config,
    replay_inputs,
)
from tradekit.errors import StoreLockedError

__all__ = ["cmd_run", "register"]


class _Printer:
    """Prints one summary line every ``every`` bars (the live summary of ``tradekit run``)."""

    def __init__(self, engine: Any, every: int) -> None:
        self.engine, self.every, self.n = engine, max(1, every), 0
        self.t0 = time.perf_counter()

    def __call__(self, outcome: Any) -> None:
        self.n += 1
        for d in outcome.decisions:
            legs = " ".join(
                f"{leg.ratio:+d}x{leg.contract.symbol.replace(' ', '')}" for leg in d.legs
            )
            what = (
                f"{d.strategy} {legs}"
                if legs
                else f"{'BUY' if d.direction > 0 else 'SELL'} {d.quantity:g}"
            )
            why = "" if d.action.value != "SKIP" else f" ({d.block_reason})"
            print(
                f"  {fmt_ts(outcome.bar.close_ts_ns)}  decision {d.action.value:<5} {d.symbol} {what}{why}"
            )
        if self.n % self.every == 0:
            self.line(outcome.bar)

    def line(self, bar: Any) -> None:
        e, s = self.engine, self.engine.ledger.summary()
        c = e.counts
        print(f"{fmt_ts(bar.close_ts_ns)} | {bar.symbol} {bar.close:,.2f} | signals {c['signals']:,} "
              f"setups {c['setups']:,} entries {c['decisions.enter']:,} fills {c['fills']:,} | "
              f"equity {s.equity:,.2f} day P&L {s.day_pnl:+,.2f} | positions {s.open_positions} | "
              f"{e.risk.trading_state.value} | {self.n / (time.perf_counter() - self.t0):,.0f} bars/s")  # fmt: skip


def cmd_run(args: argparse.Namespace) -> int:
    from tradekit.runtime.replay import replay_trader
    from tradekit.store import Store

    inp = replay_inputs(args)
    cfg = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        store = Store.open(str(db))
    except StoreLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        trader = replay_trader(inputs=inp, db=store, config=cfg, speed=args.speed,
                               kill_flag_path=args.kill_flag, new_run=args.new_run)  # fmt: skip
    except BaseException:
        store.close()
        raise
    printer = _Printer(trader.engine, args.every)
    trader.on_bar = printer
    resumed = trader.bars_seen > 0
    print(f"config {cfg.name} v{cfg.version} ({trader.config_id}); mode {cfg.decision.mode.value}; "
          f"database {db}; run {trader.run_id} ({'resumed after bar ' + str(trader.bars_seen) if resumed else 'new'}); "
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
        last = trader._last_bar
        if last is not None:
            printer.line(last)
        store.close()
    engine = trader.engine
    s = engine.ledger.summary()
    print(f"done: {engine.counts['bars']:,} bars, {engine.counts['signals']:,} signals, "
          f"{engine.counts['setups']:,} setups, {engine.counts['decisions.enter']:,} entries, "
          f"{engine.counts['fills']:,} fills, {len(engine.ledger.closed_trades)} closed trades; "
          f"equity {s.equity:,.2f} ({s.equity / cfg.execution.initial_cash - 1:+.2%}); "
          f"state {trader.state.value}; run {trader.run_id} written to {db}")  # fmt: skip
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="paper auto-trader on replayed data (make run)")
    add_data_args(run)
    run.add_argument("--speed", type=float, default=None,
                     help="x real time (e.g. 600); default: as fast as possible")  # fmt: skip
    run.add_argument("--every", type=int, default=390, help="summary line every N bars")
    run.add_argument("--db", default=str(DEFAULT_DB))
    run.add_argument("--kill-flag", default=str(DEFAULT_KILL_FLAG))
    run.add_argument("--new-run", action="store_true",
                     help="start a new run even when the last one on this database was interrupted")  # fmt: skip
    run.set_defaults(func=cmd_run)
