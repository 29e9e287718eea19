"""Numba kernels of the data layer (bar validation, resampling, synthetic paths).

Only ``@njit(cache=True)`` functions on NumPy arrays live here; the readable, validating
Python API is in :mod:`tradekit.data.schema`, :mod:`tradekit.data.resample` and
:mod:`tradekit.data.synthetic`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "ORDER_DUP_CONFLICT",
    "ORDER_DUP_IDENTICAL",
    "ORDER_OK",
    "ORDER_OUT_OF_ORDER",
    "order_check_nb",
    "resample_ohlcv_nb",
    "session_positions_nb",
]

ORDER_OK = 0
ORDER_DUP_IDENTICAL = 1
ORDER_DUP_CONFLICT = 2
ORDER_OUT_OF_ORDER = 3


@njit(cache=True)
def order_check_nb(ts, o, h, lo, c, v, bad):
    """Classify each row's timestamp against the last *accepted* row.

    Rows flagged in ``bad`` (they failed a value rule) are skipped and never become the
    reference. For every other row ``i``, with ``last`` the latest accepted row:
    ``ts[i] < ts[last]`` → ``ORDER_OUT_OF_ORDER``; ``ts[i] == ts[last]`` with identical OHLCV →
    ``ORDER_DUP_IDENTICAL``; equal timestamp with different values → ``ORDER_DUP_CONFLICT``
    (the first row is kept); otherwise ``ORDER_OK`` and ``i`` becomes ``last``.

    Reference: the accepted rows are exactly ``pd.Series(ts[~bad]).cummax()``-increasing
    rows, i.e. a strictly increasing subsequence built greedily from the front.
    """
    n = ts.shape[0]
    code = np.zeros(n, dtype=np.int8)
    last = -1
    for i in range(n):
        if bad[i]:
            continue
        if last >= 0:
            if ts[i] < ts[last]:
                code[i] = ORDER_OUT_OF_ORDER
                continue
            if ts[i] == ts[last]:
                same = (
                    o[i] == o[last]
                    and h[i] == h[last]
                    and lo[i] == lo[last]
                    and c[i] == c[last]
                    and v[i] == v[last]
                )
                code[i] = ORDER_DUP_IDENTICAL if same else ORDER_DUP_CONFLICT
                continue
        last = i
    return code


@njit(cache=True)
def resample_ohlcv_nb(ts, o, h, lo, c, v, bstart, bend, base_dur):
    """Aggregate sorted base bars into buckets and compute when each bucket became known.

    Parameters
    ----------
    ts, o, h, lo, c, v:
        Base bars (int64 ns open times, strictly increasing; float64 OHLCV).
    bstart, bend:
        Per base bar, the start and end (int64 ns) of its bucket; ``bstart == -1`` marks a
        bar that belongs to no bucket (outside the session in session-aware mode). Bucket
        starts are non-decreasing over the bars that have one.
    base_dur:
        Base bar duration in ns.

    Returns
    -------
    tuple
        Per bucket ``k``: ``label`` (bucket start), ``end``, ``open``, ``high``, ``low``,
        ``close``, ``volume``, ``n_bars``, ``first`` and ``last`` (base positions) and
        ``known`` — the base position at whose close bucket ``k`` is known:
        rule (a) ``last`` if ``ts[last] + base_dur >= end``; else rule (b) ``last + 1`` (the
        next base bar, which opens at or after the bucket end); ``-1`` if neither exists
        yet (the bucket is still forming at the end of the data).
        Reference: ``df.resample(rule, label="left", closed="left").agg(first/max/min/
        last/sum)`` on the grid given by ``bstart``.
    """
    n = ts.shape[0]
    # count buckets
    nb = 0
    prev = np.int64(-1)
    for i in range(n):
        b = bstart[i]
        if b >= 0 and b != prev:
            nb += 1
            prev = b
    label = np.empty(nb, dtype=np.int64)
    end = np.empty(nb, dtype=np.int64)
    oo = np.empty(nb, dtype=np.float64)
    hh = np.empty(nb, dtype=np.float64)
    ll = np.empty(nb, dtype=np.float64)
    cc = np.empty(nb, dtype=np.float64)
    vv = np.empty(nb, dtype=np.float64)
    cnt = np.zeros(nb, dtype=np.int64)
    first = np.empty(nb, dtype=np.int64)
    last = np.empty(nb, dtype=np.int64)
    known = np.empty(nb, dtype=np.int64)
    k = -1
    prev = np.int64(-1)
    for i in range(n):
        b = bstart[i]
        if b < 0:
            continue
        if b != prev:
            k += 1
            prev = b
            label[k] = b
            end[k] = bend[i]
            oo[k] = o[i]
            hh[k] = h[i]
            ll[k] = lo[i]
            vv[k] = 0.0
            first[k] = i
        else:
            if h[i] > hh[k]:
                hh[k] = h[i]
            if lo[i] < ll[k]:
                ll[k] = lo[i]
        cc[k] = c[i]
        vv[k] += v[i]
        cnt[k] += 1
        last[k] = i
    for j in range(nb):
        t = last[j]
        if ts[t] + base_dur >= end[j]:
            known[j] = t
        elif t + 1 < n:
            known[j] = t + 1
        else:
            known[j] = -1
    return label, end, oo, hh, ll, cc, vv, cnt, first, last, known


@njit(cache=True)
def session_positions_nb(ts, s_open, s_close, s_date):
    """Per timestamp the ``(open, close, date)`` of the session containing it, ``-1`` outside.

    ``s_open``/``s_close``/``s_date`` are a calendar's sessions in order (opens increasing).
    Reference: :meth:`tradekit.data.calendar.MarketCalendar.session_positions` (the last session
    with ``open <= ts`` contains ``ts`` iff ``ts < close``). A forward walk instead of one binary
    search per timestamp: O(n + sessions) for sorted ``ts``; a timestamp smaller than its
    predecessor restarts the walk, so any order is still answered correctly.
    """
    n = ts.shape[0]
    m = s_open.shape[0]
    opens = np.full(n, -1, dtype=np.int64)
    closes = np.full(n, -1, dtype=np.int64)
    dates = np.full(n, -1, dtype=np.int64)
    k = -1
    for i in range(n):
        x = ts[i]
        if i > 0 and x < ts[i - 1]:
            k = -1
        while k + 1 < m and s_open[k + 1] <= x:
            k += 1
        if k >= 0 and x < s_close[k]:
            opens[i] = s_open[k]
            closes[i] = s_close[k]
            dates[i] = s_date[k]
    return opens, closes, dates
