"""``tradekit backtest``: a replay backtest of a dataset or your own bars file, printed and
recorded as a ``backtest_runs`` row (with all its records) in the DuckDB file."""

from __future__ import annotations

import argparse
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
    from tradekit.runtime.recording import recorded_backtest
    from tradekit.runtime.warmup import warm_kernels
    from tradekit.store import Store

    inp = replay_inputs(args)
    cfg = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    market, quotes = market_for(inp, args)
    warm_kernels(progress=lambda line: print(line, file=sys.stderr))
    prepare_db_folder(args.db)
    params = {"data": args.data, "days": args.days, "seed": args.seed, "vix": args.vix}
    with Store.open(args.db) as store:
        t0 = time.perf_counter()
        res = recorded_backtest(store, inp.bars, cfg, data_label=inp.data_label, params=params,
                                market=market, quotes=quotes)  # fmt: skip
        elapsed = time.perf_counter() - t0
    summary = {**res.summary, "seconds": round(elapsed, 3), "run_id": res.run_id}
    for k, v in summary.items():
        shown = f"{v:,.4f}" if isinstance(v, float) and math.isfinite(v) else v
        print(f"{k:>16}: {shown}")
    if res.engine is not None:
        print("counts:")
        for line in count_lines(named_counts(res.engine)):
            print(line)
    print(f"recorded in {args.db}: backtest_runs row {res.run_id} and its records")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, default=str, indent=2))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bt = sub.add_parser("backtest", help="replay backtest of a dataset or a bars file, recorded")
    add_data_args(bt)
    add_db_arg(bt, "the run and its records are written to")
    bt.add_argument("--json", metavar="FILE", help="also write the summary to this JSON file")
    bt.set_defaults(func=cmd_backtest)
