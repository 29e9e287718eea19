"""Research tools at the sizes of issue #10: Monte Carlo and a full-pipeline walk-forward.

* Monte Carlo: 10,000 trade-order resamples of 1,000 trades (target ≤ 0.3 s), each method.
* Walk-forward: a 64-point grid (4 × 4 × 4 gate and sizing parameters) × 5 folds of the *full*
  pipeline (12 detectors, MTF, confluence, 7 gates, risk, broker, ledger) over 100k synthetic
  1-minute SPY bars, on a 2-process pool (target ≤ 5 minutes on 2 cores). Each point runs
  ``record="summary"`` (equity, trades and counts, no record frames); one train window is also
  timed with ``record="all"`` to show what the frames cost.

Run: ``python benchmarks/bench_research.py`` (about 3 minutes; ``--quick`` runs 8 points).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np

TARGET_MC_S = 0.3
TARGET_WF_S = 300.0
N_BARS = 100_000
HISTORY_DAYS = 30


def _monte_carlo() -> list[dict[str, Any]]:
    import pandas as pd

    from tradekit.research.montecarlo import monte_carlo

    rng = np.random.default_rng(1)
    trades = pd.DataFrame({"pnl": rng.normal(20.0, 400.0, 1_000)})
    rows = []
    for method in ("trades", "shuffle", "skip"):
        monte_carlo(trades, method=method, n=100, seed=0, initial_equity=100_000.0)  # compile
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            monte_carlo(trades, method=method, n=10_000, seed=7, initial_equity=100_000.0)
            best = min(best, time.perf_counter() - t0)
        rows.append({"name": f"monte carlo {method}: 10,000 paths x 1,000 trades",
                     "value": round(best, 4), "unit": "s", "target": f"<= {TARGET_MC_S} s"})  # fmt: skip
    return rows


def _inputs() -> tuple[Any, Any, Any]:
    from tradekit.config import AlgorithmConfig
    from tradekit.data import datasets
    from tradekit.data.market import MarketDataService

    hist = datasets.synthetic_intraday(
        "SPY", start="2000-01-03", days=N_BARS // 390 + HISTORY_DAYS + 2, seed=3
    )
    vix = datasets.synthetic_vix(hist, per="day")
    first = hist.index.normalize().unique()[HISTORY_DAYS]
    bars = hist[hist.index >= first].iloc[:N_BARS]
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    return bars, cfg, MarketDataService({"SPY": hist}, vix=vix)


def _walk_forward(quick: bool) -> list[dict[str, Any]]:
    from tradekit.research.splits import walk_forward_splits
    from tradekit.research.sweep import grid
    from tradekit.research.walkforward import walk_forward
    from tradekit.runtime.backtest import run_backtest

    bars, cfg, market = _inputs()
    splits = walk_forward_splits(bars, 5)
    axes: dict[str, list[Any]] = {
        "decision.min_confidence": [5.0, 5.5, 6.0, 7.0],
        "decision.min_rr_default": [1.5, 2.0, 2.5, 3.0],
        "decision.risk_per_trade": [0.005, 0.01, 0.015, 0.02],
    }
    if quick:
        axes = {k: v[:2] for k, v in axes.items()}
    points = grid(**axes)
    train = bars.iloc[splits[0].train]
    run_backtest(bars.iloc[:2_000], cfg, market=market)  # JIT cache loaded
    per_run = {}
    for record in ("all", "summary"):
        t0 = time.perf_counter()
        run_backtest(train, cfg, market=market, record=record)  # type: ignore[arg-type]
        per_run[record] = time.perf_counter() - t0
    t0 = time.perf_counter()
    wf = walk_forward(bars, points, splits, config=cfg, market=market, executor="process",
                      max_workers=2, progress=False)  # fmt: skip
    wall = time.perf_counter() - t0
    runs = len(points) * len(splits) + len(splits)
    label = (
        f"walk-forward {len(points)} points x {len(splits)} folds, full pipeline, 100k 1-min bars"
    )
    return [
        {"name": f"one train window ({len(train):,} bars), record='all' / 'summary'",
         "value": round(per_run["summary"], 3), "unit": "s",
         "note": f"all: {per_run['all']:.3f} s"},
        {"name": label + ", 2 processes", "value": round(wall, 1), "unit": "s",
         "runs": runs, "target": f"<= {TARGET_WF_S:.0f} s (64 points)",
         "stability": round(float(wf.stability), 3)},
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("TQDM_DISABLE", "1")
    return _monte_carlo() + _walk_forward("--quick" in args)


if __name__ == "__main__":
    for r in main():
        print("  ".join(f"{k}={v}" for k, v in r.items()))
