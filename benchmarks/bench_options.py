"""Speed of the options package: BSM Greeks, implied vol, a full synthetic SPY-like chain.

Run: ``python benchmarks/bench_options.py``. Prints a table (name, figure, target, ratio vs the
NumPy/SciPy anchor where one exists) and exits 0; :func:`main` returns the rows for a runner.
Figures are the best of several repeats after a warm-up (JIT compile excluded), single- and
multi-threaded (``prange`` twins) where both exist.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import ndtr

from tradekit.options.base import ChainReach
from tradekit.options.chain import generate_chain
from tradekit.options.pricing import implied_vol, price_greeks

N_GREEKS = 1_000_000
N_IV = 100_000


def _best_ms(fn: Callable[[], Any], repeat: int = 7) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def _scipy_greeks(s: Any, k: Any, t: Any, r: float, q: float, v: Any, cp: Any) -> tuple[Any, ...]:
    """The NumPy/SciPy anchor: the same closed forms, vectorised with ``scipy.special.ndtr``."""
    sq = np.sqrt(t)
    sv = v * sq
    d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * t) / sv
    d2 = d1 - sv
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    nd1, nd2 = ndtr(cp * d1), ndtr(cp * d2)
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
    price = cp * (s * dq * nd1 - k * dr * nd2)
    delta = cp * dq * nd1
    gamma = dq * pdf / (s * sv)
    vega = s * dq * pdf * sq
    theta = -s * dq * pdf * v / (2 * sq) + cp * (q * s * dq * nd1 - r * k * dr * nd2)
    rho = cp * k * dr * t * nd2
    return price, delta, gamma, vega, theta, rho


def _inputs(n: int, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    s = rng.uniform(80.0, 120.0, n)
    k = rng.uniform(70.0, 130.0, n)
    t = rng.uniform(1.0 / 365, 1.5, n)
    v = rng.uniform(0.08, 0.8, n)
    is_call = rng.random(n) < 0.5
    return s, k, t, v, is_call


def main() -> list[dict[str, Any]]:
    """Run every case; return rows ``{name, figure, unit, target, ratio, note}``."""
    rows: list[dict[str, Any]] = []
    s, k, t, v, is_call = _inputs(N_GREEKS)
    cp = np.where(is_call, 1.0, -1.0)
    anchor = _best_ms(lambda: _scipy_greeks(s, k, t, 0.04, 0.01, v, cp), repeat=3)
    ref = _scipy_greeks(s, k, t, 0.04, 0.01, v, cp)
    got = price_greeks(s, k, t, 0.04, 0.01, v, is_call)
    err = max(float(np.max(np.abs(a - b))) for a, b in zip(got[:6], ref, strict=True))
    rows.append(
        dict(
            name="greeks 1M numpy/scipy anchor",
            figure=anchor,
            unit="ms",
            target=None,
            ratio=1.0,
            note="ndtr closed forms",
        )
    )
    for par in (False, True):
        ms = _best_ms(lambda par=par: price_greeks(s, k, t, 0.04, 0.01, v, is_call, parallel=par))
        rows.append(
            dict(
                name=f"greeks 1M ({'2 threads' if par else '1 thread'})",
                figure=ms,
                unit="ms",
                target=40.0,
                ratio=anchor / ms,
                note=f"max |diff| vs anchor {err:.1e}",
            )
        )
    prices = got.price[:N_IV]
    material = got.vega[:N_IV] > 1e-2  # vol is only identifiable where vega is material
    ivs = (prices, s[:N_IV], k[:N_IV], t[:N_IV], 0.04, 0.01, is_call[:N_IV])
    for par in (False, True):
        ms = _best_ms(lambda par=par: implied_vol(*ivs, parallel=par))
        back = implied_vol(*ivs, parallel=par)
        rows.append(
            dict(
                name=f"implied vol 100k ({'2 threads' if par else '1 thread'})",
                figure=ms,
                unit="ms",
                target=30.0,
                ratio=None,
                note=(
                    f"max |vol err| {np.nanmax(np.abs(back - v[:N_IV])[material]):.1e} "
                    f"(vega > 0.01), NaN {int(np.isnan(back).sum())}"
                ),
            )
        )
    ts_ns = 1_718_721_000_000_000_000  # 2024-06-18 14:30 UTC (10:30 New York, a session)
    n_opts = len(generate_chain("SPY", ts_ns, 545.0, 0.13, max_dte=60, rng_seed=1))
    ms = _best_ms(lambda: generate_chain("SPY", ts_ns, 545.0, 0.13, max_dte=60, rng_seed=1))
    rows.append(
        dict(
            name="SPY chain <= 60 DTE, quotes + Greeks",
            figure=ms,
            unit="ms",
            target=20.0,
            ratio=None,
            note=f"{n_opts} options",
        )
    )
    # what one intraday decision asks for: calls 0-7 DTE with |delta| in the class band
    reach = ChainReach(0, 7, 1, 0.40, 0.70)
    n_week = len(generate_chain("SPY", ts_ns, 545.0, 0.13, max_dte=7, rng_seed=1))
    n_reach = len(generate_chain("SPY", ts_ns, 545.0, 0.13, rng_seed=1, reach=reach))
    ms = _best_ms(lambda: generate_chain("SPY", ts_ns, 545.0, 0.13, rng_seed=1, reach=reach))
    rows.append(
        dict(
            name="SPY chain, an intraday selection's reach",
            figure=ms,
            unit="ms",
            target=None,
            ratio=None,
            note=f"{n_reach} of the {n_week} options <= 7 DTE (calls, |delta| 0.40-0.70)",
        )
    )
    return rows


def _print(rows: list[dict[str, Any]]) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {os.cpu_count()} CPUs, 1-min load average {load:.1f} (figures are wall time)")
    print(f"{'case':<40} {'figure':>10} {'target':>8} {'vs anchor':>10}  note")
    for r in rows:
        target = f"{r['target']:.0f} {r['unit']}" if r["target"] else "-"
        ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
        print(
            f"{r['name']:<40} {r['figure']:>7.1f} {r['unit']} {target:>8} {ratio:>10}  {r['note']}"
        )


if __name__ == "__main__":
    _print(main())
