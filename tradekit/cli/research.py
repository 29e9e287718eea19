"""``tradekit sweep``, ``tradekit walkforward`` and ``tradekit compare``: the research tools of
:mod:`tradekit.research` on a dataset, a bars file or synthetic bars, with a progress bar on
stderr and ``--json`` for scripts."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tradekit.cli._common import (
    add_data_args,
    load_config,
    market_for,
    positive_int,
    prepare_db_folder,
    replay_inputs,
)
from tradekit.errors import ConfigError

__all__ = ["parse_param", "register"]

#: Strategies whose parameters a sweep can vary (keyword names of the class).
_SWEEPABLE = {"sma": "SmaCross", "confluence": None}


def _value(text: str) -> Any:
    for cast in (int, float):
        with contextlib.suppress(ValueError):
            return cast(text)
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"NAME=V1,V2,..."`` → ``(NAME, [values])``; ints and floats are typed.

    Examples
    --------
    >>> parse_param("decision.max_vix=25,30.5")
    ('decision.max_vix', [25, 30.5])
    """
    name, eq, values = text.partition("=")
    vals = [v.strip() for v in values.split(",") if v.strip()]
    if not eq or not name.strip() or not vals:
        raise argparse.ArgumentTypeError(f"expected NAME=V1,V2,... (e.g. fast=5,10), got {text!r}")
    return name.strip(), [_value(v) for v in vals]


@contextlib.contextmanager
def _quiet_stdout(json_to_stdout: bool) -> Iterator[None]:
    """Labels and notes go to stderr when stdout carries the JSON."""
    if json_to_stdout:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    else:
        yield


def _strategy_factory(name: str | None) -> Any:
    if name is None or name == "confluence":
        return None
    if name not in _SWEEPABLE:
        raise ConfigError(f"--strategy for sweeps: one of {sorted(_SWEEPABLE)}, got {name!r}")
    from tradekit.strategy import SmaCross

    return SmaCross


def _inputs(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    inp = replay_inputs(args)
    config = None
    if args.config or not getattr(args, "strategy", None):
        config = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
    market, quotes = market_for(inp, args)
    return inp, config, market, quotes


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    blob = json.dumps(payload, default=str, indent=2, allow_nan=False)
    if args.json == "-":
        print(blob)
        return
    if args.json:
        Path(args.json).write_text(blob)
    print(text)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item"):
        return _clean(obj.item())
    return obj


def _points(args: argparse.Namespace) -> list[dict[str, Any]]:
    from tradekit.research.sweep import grid, random_points

    axes = dict(args.param or [])
    if not axes:
        raise ConfigError("give at least one --param NAME=V1,V2,...")
    if args.random:
        return random_points(axes, args.random, seed=args.search_seed)
    return grid(**axes)


def cmd_sweep(args: argparse.Namespace) -> int:
    from tradekit.research.sweep import sweep
    from tradekit.store import Store

    with _quiet_stdout(args.json == "-"):
        inp, config, market, quotes = _inputs(args)
        pts = _points(args)
        print(f"sweep: {len(pts)} points on {len(inp.bars):,} bars", file=sys.stderr)
    store = None
    if args.db:
        prepare_db_folder(args.db)
        store = Store.open(args.db)
    try:
        table = sweep(inp.bars, pts, config=config, strategy=_strategy_factory(args.strategy),
                      market=market, quotes=quotes, executor="serial" if args.workers == 1
                      else "process", max_workers=args.workers, progress=not args.no_progress,
                      store=store, data_label=inp.data_label, sort_by=args.metric)  # fmt: skip
    finally:
        if store is not None:
            store.close()
    cols = [c for c in (*dict(args.param), "status", args.metric, "total_return",
                        "max_drawdown", "trades", "error", "run_id") if c in table]  # fmt: skip
    rows = _clean(table.to_dict("records"))
    failed = int((table["status"] == "failed").sum())
    text = table[cols].to_string(index=False) + (f"\n{failed} points failed" if failed else "")
    _emit(args, {"data": inp.data_label, "metric": args.metric, "points": rows}, text)
    return 0


def cmd_walkforward(args: argparse.Namespace) -> int:
    from tradekit.research.splits import walk_forward_splits
    from tradekit.research.walkforward import walk_forward

    with _quiet_stdout(args.json == "-"):
        inp, config, market, quotes = _inputs(args)
        pts = _points(args)
        splits = walk_forward_splits(inp.bars, args.folds, train_ratio=args.train_ratio,
                                     anchored=args.anchored)  # fmt: skip
        print(f"walk-forward: {len(pts)} points x {len(splits)} folds on {len(inp.bars):,} bars",
              file=sys.stderr)  # fmt: skip
    wf = walk_forward(inp.bars, pts, splits, metric=args.metric, config=config,
                      strategy=_strategy_factory(args.strategy), market=market, quotes=quotes,
                      executor="serial" if args.workers == 1 else "process",
                      max_workers=args.workers, progress=not args.no_progress)  # fmt: skip
    folds = wf.folds.copy()
    payload = {"data": inp.data_label, **_clean(wf.summary()),
               "folds": _clean(folds.to_dict("records"))}  # fmt: skip
    folds["params"] = folds["params"].map(lambda p: ", ".join(f"{k}={v}" for k, v in p.items()))
    s = wf.summary()
    text = (folds.drop(columns=["train_start", "train_end"]).to_string(index=False)
            + f"\nOOS return {s['oos_return']:+.2%} · stability {s['stability']:.0%} · "
            f"decay (OOS/IS {args.metric}) {s['decay']:.2f}")  # fmt: skip
    _emit(args, payload, text)
    return 0


def _side(spec: str, base: Any) -> Any:
    """A compare side: a strategy spec (``sma:10,50``, ``confluence``), a config JSON file, or
    ``NAME=VALUE[;NAME=VALUE]`` overrides of the base configuration."""
    from tradekit.config import AlgorithmConfig
    from tradekit.strategy import STRATEGIES, strategy_from_spec

    if spec.split(":")[0].lower() in STRATEGIES:
        return {"config": base if spec.startswith("confluence") else None,
                "strategy": strategy_from_spec(spec)}  # fmt: skip
    if "=" in spec:
        over = {k.strip(): _value(v.strip()) for k, _, v in (p.partition("=") for p in
                                                               spec.split(";") if p.strip())}  # fmt: skip
        version = over.pop("version", f"{base.version}+" + "-".join(f"{k}={v}" for k, v in
                                                                    over.items()))  # fmt: skip
        return base.with_overrides({**over, "version": str(version)})
    path = Path(spec)
    if path.is_file():
        data = json.loads(path.read_text())
        return AlgorithmConfig.parse({**data, "symbols": base.symbols, "timeframe": base.timeframe})
    raise ConfigError(f"--a/--b: a strategy (sma:FAST,SLOW, confluence), a config JSON file or "
                      f"NAME=VALUE overrides; got {spec!r}")  # fmt: skip


def cmd_compare(args: argparse.Namespace) -> int:
    from tradekit.research.compare import compare

    with _quiet_stdout(args.json == "-"):
        inp = replay_inputs(args)
        base = load_config(args.config, symbols=[inp.symbol], timeframe=inp.timeframe)
        a, b = _side(args.a, base), _side(args.b, base)
        market, quotes = market_for(inp, args)
        print(f"compare on {len(inp.bars):,} bars, {args.boot:,} paired resamples",
              file=sys.stderr)  # fmt: skip
    ab = compare(inp.bars, a, b, market=market, quotes=quotes, n_boot=args.boot,
                 level=args.level, seed=args.boot_seed)  # fmt: skip
    text = (f"A = {ab.labels[0]}   B = {ab.labels[1]}   ({ab.days} paired days)\n"
            + ab.metrics.to_string(float_format=lambda v: f"{v:,.4f}")
            + f"\n\n{ab.level:.0%} paired-bootstrap intervals of B - A:\n"
            + ab.intervals[["observed", "low", "high", "excludes_zero"]].to_string()
            + f"\n\n{ab.verdict}")  # fmt: skip
    _emit(args, {"data": inp.data_label, **ab.to_dict()}, text)
    return 0


def _common(sp: argparse.ArgumentParser) -> None:
    add_data_args(sp)
    sp.add_argument("--json", metavar="FILE",
                    help="also write the results as JSON to this file ('-': stdout only)")  # fmt: skip


def _search(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--param", type=parse_param, action="append", metavar="NAME=V1,V2",
                    help="a swept parameter: a dotted config field (decision.max_vix=25,30) or "
                    "a strategy parameter (fast=5,10); repeat for a grid")  # fmt: skip
    sp.add_argument(
        "--strategy",
        choices=sorted(_SWEEPABLE),
        help="strategy whose parameters are swept (sma: SmaCross fast/slow)",
    )
    sp.add_argument(
        "--random",
        type=positive_int,
        metavar="N",
        help="N random points of the --param values instead of the full grid",
    )
    sp.add_argument(
        "--search-seed", type=int, default=0, metavar="N", help="seed of --random (default 0)"
    )
    sp.add_argument(
        "--metric",
        default="sharpe",
        help="metric to rank / select by, higher is better (default sharpe)",
    )
    sp.add_argument(
        "--workers",
        type=positive_int,
        default=2,
        metavar="N",
        help="local worker processes (1: in this process; default 2)",
    )
    sp.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sw = sub.add_parser("sweep", help="grid or random parameter sweep, one backtest per point")
    _common(sw)
    _search(sw)
    sw.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="record every point as a backtest_runs row in this DuckDB file",
    )
    sw.set_defaults(func=cmd_sweep)

    wf = sub.add_parser("walkforward", help="walk-forward optimisation: choose on train windows, "
                        "judge out of sample")  # fmt: skip
    _common(wf)
    _search(wf)
    wf.add_argument(
        "--folds", type=positive_int, default=4, metavar="N", help="test windows (default 4)"
    )
    wf.add_argument(
        "--train-ratio",
        type=float,
        default=3.0,
        metavar="X",
        help="train window length in test windows (default 3)",
    )
    wf.add_argument("--anchored", action="store_true", help="train windows all start at bar 0")
    wf.set_defaults(func=cmd_walkforward)

    cp = sub.add_parser("compare", help="A/B of two versions or strategies on the same bars")
    _common(cp)
    cp.add_argument(
        "--a",
        required=True,
        metavar="SPEC",
        help="side A: sma:FAST,SLOW / confluence / config.json / NAME=VALUE;...",
    )
    cp.add_argument("--b", required=True, metavar="SPEC", help="side B (as --a)")
    cp.add_argument(
        "--boot",
        type=positive_int,
        default=2000,
        metavar="N",
        help="paired bootstrap resamples (>= 100; default 2000)",
    )
    cp.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    cp.add_argument("--boot-seed", type=int, default=0, metavar="N", help="bootstrap seed")
    cp.set_defaults(func=cmd_compare)
