"""``tradekit backtest``: a replay backtest of a dataset, printed as a summary."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from tradekit.cli._common import add_data_args, load_config, market_for, replay_inputs

__all__ = ["cmd_backtest", "register"]


def cmd_backtest(args: argparse.Namespace) -> int:
    from tradekit.runtime.backtest import run_backtest

    inp = replay_inputs(args)
    cfg = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    market, quotes = market_for(inp, args)
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bt = sub.add_parser("backtest", help="replay backtest of a dataset")
    add_data_args(bt)
    bt.add_argument("--json", help="write the summary to this file")
    bt.set_defaults(func=cmd_backtest)
