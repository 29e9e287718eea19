"""``tradekit backtest``: a replay backtest of a dataset or your own bars file, printed and
recorded as a ``backtest_runs`` row (with all its records) in the DuckDB file."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from pathlib import Path

from tradekit.cli._common import (
    add_data_args,
    add_db_arg,
    load_config,
    market_for,
    prepare_db_folder,
    replay_inputs,
)
from tradekit.cli._printer import count_lines, named_counts

__all__ = ["cmd_backtest", "register"]


def cmd_backtest(args: argparse.Namespace) -> int:
    from tradekit.analytics.metrics import stats_to_json
    from tradekit.config import AlgorithmConfig
    from tradekit.runtime.backtest import backtest
    from tradekit.runtime.warmup import warm_kernels
    from tradekit.store import Store
    from tradekit.strategy import strategy_config, strategy_from_spec, strategy_name

    strategy = strategy_from_spec(args.strategy) if args.strategy else None
    to_stdout = args.json == "-"
    if to_stdout:  # the data label goes to stderr, so stdout is pure JSON
        with contextlib.redirect_stdout(sys.stderr):
            inp = replay_inputs(args)
    else:
        inp = replay_inputs(args)
    cfg = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    if strategy is not None and not args.config:  # a config file is used exactly as given
        # the overrides change the parameters: the name says so (one parameter set per name)
        data = strategy_config(strategy, cfg).model_dump(mode="json")
        cfg = AlgorithmConfig.parse({**data, "name": f"{cfg.name}+{strategy_name(strategy)}"})
    market, quotes = market_for(inp, args)
    warm_kernels(progress=lambda line: print(line, file=sys.stderr))
    prepare_db_folder(args.db)
    params = {"data": args.data, "days": args.days, "seed": args.seed, "vix": args.vix}
    with Store.open(args.db) as store:
        t0 = time.perf_counter()
        res = backtest(inp.bars, cfg, strategy, market=market, quotes=quotes, store=store,
                       data_label=inp.data_label, params=params, keep_engine=True)  # fmt: skip
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
    if res.engine is not None:
        print("counts:")
        for line in count_lines(named_counts(res.engine)):
            print(line)
    print(f"recorded in {args.db}: backtest_runs row {res.run_id} and its records")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bt = sub.add_parser("backtest", help="replay backtest of a dataset or a bars file, recorded")
    add_data_args(bt)
    add_db_arg(bt, "the run and its records are written to")
    bt.add_argument(
        "--strategy",
        help="a built-in strategy: 'confluence' (default) or 'sma:FAST,SLOW' (SmaCross; its gate "
        "overrides are applied unless --config is given)",
    )
    bt.add_argument("--json", metavar="FILE",
                    help="also write the summary and stats as JSON to this file ('-': stdout)")  # fmt: skip
    bt.set_defaults(func=cmd_backtest)
