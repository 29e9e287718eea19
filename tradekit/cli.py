"""The ``tradekit`` command line.

``tradekit run``
    The main job (``make run``): the paper auto-trader on replayed data — clearly labelled
    synthetic SPY 1-minute bars with a synthetic VIX and synthetic option chains by default,
    or the shipped real daily bars (``--data aapl``) — through the live runner, printing a
    live summary, with every signal, decision, order and fill written to DuckDB.
``tradekit backtest``
    A replay backtest of a shipped dataset, printed as a summary (optionally saved as JSON).
``tradekit status``
    Reads the database (read-only) and prints the trader state, counts and recent alerts.
``tradekit kill``
    Trips the kill switch of a running trader from another process by writing the flag file
    the engine polls every bar — no database lock needed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.errors import StoreLockedError, TradekitError

__all__ = ["main"]

DEFAULT_DB = Path("data") / "tradekit.duckdb"
DEFAULT_KILL_FLAG = Path("data") / "KILL"


def _load_config(path: str | None, **overrides: Any) -> AlgorithmConfig:
    base = AlgorithmConfig.from_json(Path(path).read_text()) if path else AlgorithmConfig()
    data = base.model_dump(mode="json")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return AlgorithmConfig.parse(data)


@dataclass(frozen=True)
class _Inputs:
    """What a replay needs: the bars to replay, the causal history the market data service may
    look back into (IV rank needs a year of VIX), the VIX, and the series' names."""

    bars: pd.DataFrame
    history: pd.DataFrame
    vix: pd.Series | None
    symbol: str
    timeframe: str


def _replay_inputs(args: argparse.Namespace) -> _Inputs:
    """Load or generate the replay data and print an honest label of what it is."""
    from tradekit.data import datasets

    if args.data == "synthetic":
        total = args.history_days + args.days
        history = datasets.synthetic_intraday(
            args.symbol, start=args.start, days=total, seed=args.seed
        )
        vix = datasets.synthetic_vix(history, per="day")
        first = history.index.normalize().unique()[args.history_days]
        bars = history[history.index >= first]
        print(f"data: SYNTHETIC {args.symbol} 1-minute bars - replaying {len(bars):,} bars "
              f"({args.days} sessions from {first:%Y-%m-%d}) after {args.history_days} sessions "
              f"of history, seed {args.seed}; synthetic VIX and synthetic option chains "
              "(not market data)")  # fmt: skip
        return _Inputs(bars, history, vix, args.symbol, "1min")
    bars = datasets.load(args.data)
    symbol = args.data.split("_")[0].upper()
    info = datasets.info(args.data)
    print(f"data: REAL daily bars {symbol} from {info.get('source', 'shipped sample')} "
          f"({len(bars):,} bars); VIX fixed at {args.vix} (no VIX history ships)")  # fmt: skip
    return _Inputs(bars, bars, None, symbol, "1D")


def _market(inp: _Inputs, args: argparse.Namespace) -> tuple[Any, Any]:
    """The market view and option quote source of a replay."""
    if inp.vix is None:
        fixed = float(args.vix)
        return (lambda ts: fixed), None
    from tradekit.data.market import MarketDataService

    market = MarketDataService.with_synthetic_chains(
        {inp.symbol: inp.history}, vix=inp.vix, seed=args.seed
    )
    return market, market.chain_provider


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
                f"  {_ts(outcome.bar.close_ts_ns)}  decision {d.action.value:<5} {d.symbol} {what}{why}"
            )
        if self.n % self.every == 0:
            self.line(outcome.bar)

    def line(self, bar: Any) -> None:
        e, s = self.engine, self.engine.ledger.summary()
        c = e.counts
        print(f"{_ts(bar.close_ts_ns)} | {bar.symbol} {bar.close:,.2f} | signals {c['signals']:,} "
              f"setups {c['setups']:,} entries {c['decisions.enter']:,} fills {c['fills']:,} | "
              f"equity {s.equity:,.2f} day P&L {s.day_pnl:+,.2f} | positions {s.open_positions} | "
              f"{e.risk.trading_state.value} | {self.n / (time.perf_counter() - self.t0):,.0f} bars/s")  # fmt: skip


def _ts(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").tz_convert("America/New_York").strftime("%Y-%m-%d %H:%M NY")


def cmd_run(args: argparse.Namespace) -> int:
    from tradekit.data.feeds import ReplayFeed
    from tradekit.runtime.kernel import Engine
    from tradekit.runtime.live import LiveRunner
    from tradekit.store import Store, StoreSubscriber

    inp = _replay_inputs(args)
    bars, symbol, timeframe = inp.bars, inp.symbol, inp.timeframe
    cfg = _load_config(args.config, symbols=[symbol], timeframe=timeframe)
    market, quotes = _market(inp, args)
    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
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
    printer = _Printer(engine, args.every)
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
        last = feed.latest(symbol)
        if last is not None:
            printer.line(last)
        sub.close()
        store.close()
    s = engine.ledger.summary()
    print(f"done: {engine.counts['bars']:,} bars, {engine.counts['signals']:,} signals, "
          f"{engine.counts['setups']:,} setups, {engine.counts['decisions.enter']:,} entries, "
          f"{engine.counts['fills']:,} fills, {len(engine.ledger.closed_trades)} closed trades; "
          f"equity {s.equity:,.2f} ({s.equity / cfg.execution.initial_cash - 1:+.2%}); "
          f"state {engine.risk.trading_state.value}; written to {db}")  # fmt: skip
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from tradekit.runtime.backtest import run_backtest

    inp = _replay_inputs(args)
    cfg = _load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    market, quotes = _market(inp, args)
    t0 = time.perf_counter()
    res = run_backtest(inp.bars, cfg, market=market, quotes=quotes)
    elapsed = time.perf_counter() - t0
    summary = {**res.summary, "seconds": round(elapsed, 3), "run_id": res.run_id}
    for k, v in summary.items():
        shown = f"{v:,.4f}" if isinstance(v, float) and math.isfinite(v) else v
        print(f"{k:>16}: {shown}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, default=str, indent=2))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from tradekit.store import Store

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


def cmd_kill(args: argparse.Namespace) -> int:
    from tradekit.risk.killswitch import write_kill_flag

    write_kill_flag(args.kill_flag, args.reason)
    print(f"kill flag written to {args.kill_flag}: the running trader halts at its next bar")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tradekit", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def data_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--data", default="synthetic",
                        help="'synthetic' (default) or a shipped dataset: aapl, goog, ibm, msft, aapl_2019")  # fmt: skip
        sp.add_argument("--symbol", default="SPY", help="synthetic symbol (SPY, QQQ, SPX, ...)")
        sp.add_argument(
            "--start", default="2023-02-27", help="first synthetic session of the history"
        )
        sp.add_argument("--days", type=int, default=5, help="synthetic sessions to replay")
        sp.add_argument(
            "--history-days",
            type=int,
            default=260,
            help="synthetic sessions of history before the replay (IV rank)",
        )
        sp.add_argument("--seed", type=int, default=3)
        sp.add_argument("--vix", type=float, default=18.0, help="fixed VIX for real daily data")
        sp.add_argument("--config", help="AlgorithmConfig JSON file")

    run = sub.add_parser("run", help="paper auto-trader on replayed data (make run)")
    data_args(run)
    run.add_argument("--speed", type=float, default=None,
                     help="x real time (e.g. 600); default: as fast as possible")  # fmt: skip
    run.add_argument("--every", type=int, default=390, help="summary line every N bars")
    run.add_argument("--db", default=str(DEFAULT_DB))
    run.add_argument("--kill-flag", default=str(DEFAULT_KILL_FLAG))
    run.set_defaults(func=cmd_run)

    bt = sub.add_parser("backtest", help="replay backtest of a dataset")
    data_args(bt)
    bt.add_argument("--json", help="write the summary to this file")
    bt.set_defaults(func=cmd_backtest)

    st = sub.add_parser("status", help="trader state from the database (read-only)")
    st.add_argument("--db", default=str(DEFAULT_DB))
    st.add_argument("--kill-flag", default=str(DEFAULT_KILL_FLAG))
    st.set_defaults(func=cmd_status)

    kill = sub.add_parser("kill", help="trip the kill switch of a running trader")
    kill.add_argument("--reason", default="manual kill from the command line")
    kill.add_argument("--kill-flag", default=str(DEFAULT_KILL_FLAG))
    kill.set_defaults(func=cmd_kill)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except TradekitError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
