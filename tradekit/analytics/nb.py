"""Numba kernels of the analytics (pure functions on arrays)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["first_exit_nb"]


@njit(cache=True)
def first_exit_nb(open_, high, low, close, start, direction, stop, target, max_bars):
    """Walk each trade forward from its entry bar and find its first exit.

    Trade ``k`` enters at ``open_[start[k]]`` and is checked bar by bar from ``start[k]`` on:
    the stop is hit when the bar trades through it (``low <= stop`` long, ``high >= stop``
    short) and fills at the stop, or at the open when the bar gapped beyond it; otherwise the
    target likewise (at the target or the better open). The stop wins when one bar reaches
    both (the paper broker's O→H→L→C tie rule). Without either within ``max_bars`` bars (or
    before the data end) the trade exits at the last bar's close.

    Returns ``(exit_pos, exit_price, r)`` with ``r = direction * (exit - entry) / |entry -
    stop|``; ``exit_pos = -1`` and NaNs for trades starting past the data.
    """
    n = open_.shape[0]
    m = start.shape[0]
    exit_pos = np.full(m, -1, np.int64)
    exit_px = np.full(m, np.nan)
    r = np.full(m, np.nan)
    for k in range(m):
        s = start[k]
        if s < 0 or s >= n:
            continue
        d = direction[k]
        entry = open_[s]
        risk = abs(entry - stop[k])
        if not risk > 0:
            continue
        last = min(n - 1, s + max_bars - 1)
        px = close[last]
        pos = last
        for t in range(s, last + 1):
            if d > 0:
                if low[t] <= stop[k]:
                    px = min(open_[t], stop[k])
                    pos = t
                    break
                if high[t] >= target[k]:
                    px = max(open_[t], target[k])
                    pos = t
                    break
            else:
                if high[t] >= stop[k]:
                    px = max(open_[t], stop[k])
                    pos = t
                    break
                if low[t] <= target[k]:
                    px = min(open_[t], target[k])
                    pos = t
                    break
        exit_pos[k] = pos
        exit_px[k] = px
        r[k] = d * (px - entry) / risk
    return exit_pos, exit_px, r
