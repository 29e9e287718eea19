"""``tradekit backtest``: a replay backtest of a dataset, printed as a summary."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from pathlib import Path

from tradekit.cli._common import add_data_args, load_config, market_for, replay_inputs

__all__ = ["cmd_backtest", "register"]


def cmd_backtest(args: argparse.Namespace) -> int:
    from tradekit.analytics.metrics import stats_to_json
    from tradekit.runtime.backtest import backtest
    from tradekit.strategy import strategy_config, strategy_from_spec

    strategy = strategy_from_spec(args.strategy) if args.strategy else None
    to_stdout = args.json == "-"
    if to_stdout:  # the data label goes to stderr, so stdout is pure JSON
        with contextlib.redirect_stdout(sys.stderr):
            inp = replay_inputs(args)
    else:
        inp = replay_inputs(args)
    cfg = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    if strategy is not None and not args.config:  # a config file is used exactly as given
        cfg = strategy_config(strategy, cfg)
    market, quotes = market_for(inp, args)
    t0 = time.perf_counter()
    res = backtest(inp.bars, cfg, strategy, market=market, quotes=quotes)
    elapsed = time.perf_counter() - t0
    summary = {**res.summary, "seconds": round(elapsed, 3), "run_id": res.run_id,
               "strategy": res.strategy}  # fmt: skip
    stats = stats_to_json(res.stats)
    if args.json:
        text = json.dumps({**summary, "stats": stats}, default=str, indent=2)
        if to_stdout:
            print(text)
            return 0
        Path(args.json).write_text(text)
    for k, v in summary.items():
        shown = f"{v:,.4f}" if isinstance(v, float) and math.isfinite(v) else v
        print(f"{k:>16}: {shown}")
    for k in ("annual_return", "sharpe", "sortino", "calmar", "expectancy", "avg_r", "exposure"):
        v = stats.get(k)
        print(f"{k:>16}: {v:,.4f}" if isinstance(v, float) else f"{k:>16}: {v}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bt = sub.add_parser("backtest", help="replay backtest of a dataset")
    add_data_args(bt)
    bt.add_argument(
        "--strategy",
        help="a built-in strategy: 'confluence' (default) or 'sma:FAST,SLOW' (SmaCross; its gate "
        "overrides are applied unless --config is given)",
    )
    bt.add_argument("--json", help="write the summary and stats as JSON to this file ('-': stdout)")
    bt.set_defaults(func=cmd_backtest)
