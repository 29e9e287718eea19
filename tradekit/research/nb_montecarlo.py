"""Numba resampling loop of the Monte Carlo tools (STYLE.md §D).

One kernel, :func:`resample_paths_nb`, walks ``n`` resampled equity paths and keeps only what
the distributions need (final equity, max drawdown, the mean and standard deviation of the
step returns, the lowest equity) plus the first ``keep`` whole paths for a fan chart. Random
numbers come from the caller's ``np.random.Generator`` (numba supports it as an argument), so
a seed reproduces every path and no global state is touched.

Resampling modes (``mode``):

* ``MODE_BOOTSTRAP`` — draw ``m`` steps with replacement (the trade-order bootstrap);
* ``MODE_SHUFFLE`` — a random permutation of the ``m`` steps (Fisher-Yates);
* ``MODE_SKIP`` — keep the order, drop each step with probability ``param``;
* ``MODE_BLOCK`` — stationary block bootstrap (Politis & Romano, 1994): blocks start at a
  uniform position, continue with probability ``1 - 1/param`` (``param`` = mean block length)
  and wrap around the end of the sample.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["MODE_BLOCK", "MODE_BOOTSTRAP", "MODE_SHUFFLE", "MODE_SKIP", "resample_paths_nb"]

MODE_BOOTSTRAP = 0
MODE_SHUFFLE = 1
MODE_SKIP = 2
MODE_BLOCK = 3


@njit(cache=True)
def resample_paths_nb(values, n, mode, param, compounding, initial, rng, keep):
    """Resample ``values`` into ``n`` equity paths of ``len(values)`` steps.

    Parameters
    ----------
    values:
        Step outcomes: fractional returns (``compounding``: equity × (1 + r)) or currency P&L
        (additive: equity + pnl). Equity that reaches 0 stays at 0 (ruin is absorbing).
    n, mode, param:
        Number of paths, resampling mode and its parameter (skip probability / mean block).
    compounding, initial:
        How a step changes equity, and the starting equity (currency).
    rng:
        A ``np.random.Generator``.
    keep:
        How many of the first paths to return whole (``(keep, m + 1)``, the start included).

    Returns
    -------
    tuple
        ``(final, max_drawdown, mean, std, min_equity, steps, paths)``; ``mean``/``std``
        (ddof 1) are over the step returns actually taken (``steps`` of them; NaN std below 2).
    """
    m = values.shape[0]
    final = np.empty(n)
    max_dd = np.empty(n)
    mean = np.empty(n)
    std = np.empty(n)
    low = np.empty(n)
    taken = np.empty(n, dtype=np.int64)
    keep = min(keep, n)
    paths = np.empty((keep, m + 1))
    order = np.arange(m)
    p_new = 1.0 / param if mode == MODE_BLOCK else 0.0
    for j in range(n):
        if mode == MODE_SHUFFLE:
            for i in range(m - 1, 0, -1):
                s = int(rng.random() * (i + 1))
                order[i], order[s] = order[s], order[i]
        e = initial
        peak = initial
        dd = 0.0
        lo = initial
        cnt = 0
        mu = 0.0
        m2 = 0.0  # Welford's running mean and sum of squared deviations of the step returns
        idx = int(rng.random() * m) if mode == MODE_BLOCK else 0
        if j < keep:
            paths[j, 0] = e
        for t in range(m):
            if mode == MODE_BOOTSTRAP:
                idx = int(rng.random() * m)
            elif mode == MODE_SHUFFLE:
                idx = order[t]
            elif mode == MODE_SKIP:
                idx = t
            elif t > 0:
                idx = int(rng.random() * m) if rng.random() < p_new else (idx + 1) % m
            take = not (mode == MODE_SKIP and rng.random() < param)
            if take and e > 0.0:
                v = values[idx]
                before = e
                e = e * (1.0 + v) if compounding else e + v
                if e <= 0.0:
                    e = 0.0
                r = e / before - 1.0
                cnt += 1
                delta = r - mu
                mu += delta / cnt
                m2 += delta * (r - mu)
                if e > peak:
                    peak = e
                d = e / peak - 1.0
                if d < dd:
                    dd = d
                if e < lo:
                    lo = e
            if j < keep:
                paths[j, t + 1] = e
        final[j] = e
        max_dd[j] = dd
        mean[j] = mu if cnt > 0 else math.nan
        std[j] = math.sqrt(m2 / (cnt - 1)) if cnt > 1 else math.nan
        low[j] = lo
        taken[j] = cnt
    return final, max_dd, mean, std, low, taken, paths
