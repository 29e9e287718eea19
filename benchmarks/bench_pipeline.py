"""Full-pipeline speed: ``run_backtest`` on synthetic SPY 1-minute bars, stock and options paths.

Each (path, size, implementation) runs in its own subprocess, so its peak RSS is its own and no
JIT or cache state leaks between runs. ``fast`` is the default ``run_backtest`` (batch
precomputed signals and setups, quiet bars fast-forwarded), timed with every record kept
(``record="all"``: spilled to disk past a chunk, its frames built when read, which the row's
note times apart) and metrics only (``record="summary"``, what sweeps run); ``per-bar`` is
``run_backtest(..., fast=False)``, the previous implementation (streaming pipeline per bar, as
the live runner does), timed in the same run for the side-by-side ratio. The floor rows time
the numba kernels alone for the same work (:func:`kernel_floor`), the bound to compare with.
The live row times ``Engine.on_bar`` of the options path bar by bar (the
work ``LiveRunner`` does per bar) and reports its percentiles.

Run ``python benchmarks/bench_pipeline.py`` (or ``make bench``). Environment knobs, for a
shorter run: ``TRADEKIT_BENCH_SIZES`` (default ``10000,100000,1000000``) and
``TRADEKIT_BENCH_PERBAR_SIZES`` (default ``10000,100000``; larger per-bar sizes are
extrapolated from the largest one run, and the row says so).

Scenario: default ``AlgorithmConfig`` (SPY, 1min; options enabled), synthetic bars seed 3 with
30 sessions of history before the replay (IV rank needs it), synthetic daily VIX; the options
path adds ``MarketDataService.with_synthetic_chains`` as market and quote source.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

TARGET_S = {"stock": 2.0, "options": 5.0}  # at 1M bars
TARGET_RSS_MB = 1024.0
TARGET_LIVE_P99_MS, TARGET_LIVE_MEDIAN_MS = 5.0, 0.2
HISTORY_DAYS = 30


def _inputs(kind: str, n: int) -> tuple[Any, Any, Any, Any]:
    from tradekit.config import AlgorithmConfig
    from tradekit.data import datasets
    from tradekit.data.market import MarketDataService

    days = n // 390 + HISTORY_DAYS + 2
    hist = datasets.synthetic_intraday("SPY", start="2000-01-03", days=days, seed=3)
    vix = datasets.synthetic_vix(hist, per="day")
    first = hist.index.normalize().unique()[HISTORY_DAYS]
    bars = hist[hist.index >= first].iloc[:n]
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    if kind == "options":
        market = MarketDataService.with_synthetic_chains({"SPY": hist}, vix=vix, seed=3)
        return bars, cfg, market, market.chain_provider
    return bars, cfg, MarketDataService({"SPY": hist}, vix=vix), None


def child(kind: str, n: int, fast: bool, record: str = "all") -> dict[str, Any]:
    """One measured backtest (run in a fresh process by :func:`_spawn`)."""
    from tradekit.runtime.backtest import run_backtest

    warm, cfg, market, quotes = _inputs(kind, 2_000)
    run_backtest(warm, cfg, market=market, quotes=quotes, fast=fast)  # JIT cache loaded, warm
    bars, cfg, market, quotes = _inputs(kind, n)
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_backtest(bars, cfg, market=market, quotes=quotes, fast=fast, record=record)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = {"seconds": wall, "cpu": cpu, "bars": len(bars), "rss_mb": rss,
           "quiet_bars": res.quiet_bars, **res.summary}  # fmt: skip
    if record == "all":  # the record frames are built when read: timed apart
        t1 = time.perf_counter()
        out["rows"] = sum(len(getattr(res, k)) for k in ("signals", "setups", "decisions",
                                                           "orders", "fills"))  # fmt: skip
        out["frames_s"] = time.perf_counter() - t1
        out["frames_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def kernel_floor(kind: str, n: int) -> dict[str, Any]:
    """The numba kernels alone for the same work (a lower bound, not a run): the batch
    detectors, higher timeframes and confluence over the bars, and, on the options path, for
    every setup the chain rows its selection can reach, priced, filtered and scored (the
    kernels of ``generate_chain`` and ``select_long_option``; inputs prepared untimed)."""
    from tradekit.config import TimeframeClass
    from tradekit.data.feeds import ReplayFeed
    from tradekit.options import chain as ch
    from tradekit.options import nb as onb
    from tradekit.portfolio._dates import ny_date
    from tradekit.signals import nb_confluence as nbc
    from tradekit.signals.pipeline import setup_arrays

    warm, cfg, market, _ = _inputs(kind, 2_000)
    setup_arrays(ReplayFeed(warm, symbol="SPY").arrays("SPY"), cfg, symbol="SPY", timeframe="1min")
    bars, cfg, market, _ = _inputs(kind, n)
    arrays = ReplayFeed(bars, symbol="SPY").arrays("SPY")
    t0 = time.perf_counter()
    res = setup_arrays(arrays, cfg, symbol="SPY", timeframe="1min")
    detect = time.perf_counter() - t0
    out: dict[str, Any] = {"bars": n, "setups": int(res.fired.size), "detect_s": detect}
    if kind != "options":
        out["seconds"] = detect
        return out
    p = cfg.options.classes[TimeframeClass.INTRADAY]
    inc, kind_oi = ch._strike_increment("SPY", 500.0), ch._KIND_OI
    lst = ch._listing("SPY", 3)

    def one(t: int) -> float:
        """Seconds the kernels of one setup's chain and selection take."""
        ts = int(arrays[0][t])
        spot, vol = market.price("SPY", ts), market.chain_provider._inputs("SPY", ts)
        if spot is None or vol is None:
            return 0.0
        right = int(res.scores[t, nbc.OUT_FIRE])
        lst_day = ch._day_listing("SPY", ny_date(ts))
        surf = ch._vix_surface(vol[1])
        th, ph = surf.terms((lst_day.close_ns - ts) / ch._NS_PER_YEAR)
        rho, r, q, mod = surf.params.rho, 0.04, 0.013, round(500 * inc)
        c0 = time.perf_counter()
        f, dte, _, _, cp = onb.listed_chain_nb(
            ts, spot, vol[1], inc, lst_day.days, lst_day.close_ns, lst_day.kind, th, ph, rho,
            lst_day.day_num, p.dte_min, p.dte_max, r, q, right, p.delta_min, p.delta_max,
            lst.small_tick, lst.large_tick, lst.spread_pct, lst.base_oi, kind_oi, mod,
            lst.seed_oi, lst.seed_vol,
        )  # fmt: skip
        rows = onb.eligible_rows_nb(dte, f[1], f[2], f[3], f[11], f[10], f[6], cp, right,
                                    p.dte_min, p.dte_max, p.min_liquidity, p.max_spread_pct,
                                    p.delta_min, p.delta_max)  # fmt: skip
        onb.long_option_scores_nb(f[6], f[8], f[1], f[2], f[3], f[11], f[10], rows, p.delta_min,
                                  p.delta_max, p.max_theta_ratio, p.max_spread_pct)  # fmt: skip
        return time.perf_counter() - c0

    fired = res.fired.tolist()
    for t in fired[:3]:  # dispatch warm-up, untimed
        one(t)
    spent = sum(one(t) for t in fired)
    out["chain_s"] = spent
    out["seconds"] = detect + spent
    return out


def live_latency(n_bars: int = 3_900) -> dict[str, float]:
    """``Engine.on_bar`` latency (ms) of the options path over ``n_bars`` replayed bars."""
    from tradekit.core.clock import SimClock
    from tradekit.data.feeds import ReplayFeed
    from tradekit.runtime.kernel import Engine

    bars, cfg, market, quotes = _inputs("options", n_bars)
    clock = SimClock()
    engine = Engine(cfg, clock=clock, market=market, quotes=quotes)
    feed = ReplayFeed(bars, clock=clock, symbol="SPY", timeframe="1min")
    lat: list[float] = []
    for bar in feed:
        t0 = time.perf_counter_ns()
        engine.on_bar(bar)
        lat.append((time.perf_counter_ns() - t0) / 1e6)
    warm = lat[200:]  # the first bars load the JIT cache and build caches
    return {
        "median": statistics.median(warm),
        "p90": float(np.percentile(warm, 90)),
        "p99": float(np.percentile(warm, 99)),
        "max": max(warm),
        "bars": float(len(warm)),
        "setups": float(engine.counts["setups"]),
    }


def _spawn(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _sizes(var: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(var, default).split(",") if x.strip()]


def main() -> list[dict[str, Any]]:
    sizes = _sizes("TRADEKIT_BENCH_SIZES", "10000,100000,1000000")
    perbar_sizes = _sizes("TRADEKIT_BENCH_PERBAR_SIZES", "10000,100000")
    rows: list[dict[str, Any]] = []
    for kind in ("stock", "options"):
        slow: dict[int, dict[str, Any]] = {}
        for n in perbar_sizes:
            slow[n] = _spawn(kind, str(n), "0")
        for n, record in ((n, r) for n in sizes for r in ("all", "summary")):
            fast = _spawn(kind, str(n), "1", record)
            label = f"{kind} {n:,} bars, record={record}"
            if "error" in fast:
                rows.append({"name": label, "note": f"failed: {fast['error']}"})
                continue
            ref = slow.get(n)
            note = "per-bar run in the same session"
            if ref is None or "error" in ref:
                done = [m for m in slow if "error" not in slow[m]]
                if done:
                    m = max(done)
                    rate = slow[m]["bars"] / slow[m]["seconds"]
                    ref = {"seconds": fast["bars"] / rate, "rss_mb": float("nan")}
                    note = f"per-bar extrapolated from its {m:,}-bar rate"
            same = ref is not None and all(
                ref.get(k) == fast.get(k) for k in ("signals", "decisions", "fills", "final_equity")
            )
            note += f"; {fast['quiet_bars'] / fast['bars']:.0%} of bars fast-forwarded"
            if "frames_s" in fast:
                note += (f"; its {fast['rows']:,} record rows read as frames after the run in "
                         f"{fast['frames_s']:.1f} s, peak RSS then {fast['frames_rss_mb']:.0f} MB")  # fmt: skip
            if ref is not None and "signals" in ref and not same:
                note += "; RESULTS DIFFER"
            target = TARGET_S[kind] * n / 1_000_000
            rows.append(
                {
                    "name": f"{label}: run_backtest (s)",
                    "figure": round(fast["seconds"], 3),
                    "bars_per_s": round(fast["bars"] / fast["seconds"]),
                    "peak_rss_mb": round(fast["rss_mb"]),
                    "per_bar_s": round(ref["seconds"], 2) if ref else None,
                    "speedup": round(ref["seconds"] / fast["seconds"], 1) if ref else None,
                    "target": round(target, 3),
                    "ratio": round(fast["seconds"] / target, 2),
                    "note": note + f"; rss target {TARGET_RSS_MB:.0f} MB at 1M",
                }
            )
        for n in sizes:
            floor = _spawn(kind, str(n), "1", "floor")
            label = f"{kind} {n:,} bars: the numba kernels alone (floor, s)"
            if "error" in floor:
                rows.append({"name": label, "note": f"failed: {floor['error']}"})
                continue
            what = f"detectors+MTF+confluence {floor['detect_s']:.2f} s"
            if "chain_s" in floor:
                per = floor["chain_s"] / max(floor["setups"], 1) * 1e6
                what += f", reach chains+selection {floor['chain_s']:.2f} s ({per:.0f} us/setup)"
            rows.append(
                {
                    "name": label,
                    "figure": round(floor["seconds"], 3),
                    "target": round(TARGET_S[kind] * n / 1_000_000, 3),
                    "note": f"{what}; {floor['setups']:,} setups; no gates, sizing, orders, ledger",
                }
            )
    live = _spawn("live", "0", "1")
    if "error" in live:
        rows.append({"name": "live options Engine.on_bar", "note": f"failed: {live['error']}"})
    else:
        for q, target in (("median", TARGET_LIVE_MEDIAN_MS), ("p99", TARGET_LIVE_P99_MS)):
            rows.append(
                {
                    "name": f"live options Engine.on_bar {q} (ms)",
                    "figure": round(live[q], 3),
                    "target": target,
                    "ratio": round(live[q] / target, 2),
                    "note": f"p90 {live['p90']:.3f} ms, max {live['max']:.1f} ms over "
                    f"{live['bars']:.0f} bars, {live['setups']:.0f} setups",
                }
            )
    return rows


def _child_main(argv: list[str]) -> None:
    kind, n, fast = argv[0], int(argv[1]), argv[2] == "1"
    record = argv[3] if len(argv) > 3 else "all"
    if kind == "live":
        result: dict[str, Any] = live_latency()
    elif record == "floor":
        result = kernel_floor(kind, n)
    else:
        result = child(kind, n, fast, record)
    print(json.dumps(result, default=float))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child_main(sys.argv[2:])
    else:
        for row in main():
            print(row)
