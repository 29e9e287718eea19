# mypy: disable-error-code="no-untyped-def"
"""Numba kernels of the confluence score (SIGNALS.md §5) and of the HTF bias helpers (§4).

One step kernel, :func:`confluence_step_nb`, advances the O(1) confluence state by one closed
base bar; the batch kernel :func:`confluence_batch_nb` is a loop over bars calling it, and the
streaming :class:`~tradekit.signals.confluence.ConfluenceState` calls it once per bar, so the two
paths cannot disagree.

State (two sides x ``N_TYPES`` confluence types):

* ``last_idx[s, ty]``  base index of the latest event of type ``ty`` on side ``s``
  (``s = 0`` long / bullish, ``s = 1`` short / bearish), ``-1`` if never seen;
* ``last_stop[s, ty]`` that event's suggested stop (if several events of one type and side are
  emitted on the same bar, the most conservative one: lowest for longs, highest for shorts,
  so the result does not depend on the order of events inside a bar).

Type codes are ordered by stop priority (§5: SWEEP > BOS/CHOCH > FVG > DISPLACEMENT >
STRAT_212, then the kinds of §3.7), so "first protective stop in priority order" is simply the
lowest type code present whose stop is on the protective side of the entry.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradekit.signals.nb import NO_NRT

#: Number of confluence types (see ``tradekit.signals.confluence.CONFLUENCE_TYPES``).
N_TYPES = 11

# Output columns of one bar (``out[t, :]``).
OUT_SCORE_LONG = 0
OUT_SCORE_SHORT = 1
OUT_NTYPES_LONG = 2
OUT_NTYPES_SHORT = 3
OUT_MASK_LONG = 4
OUT_MASK_SHORT = 5
OUT_FIRE = 6  # +1 / -1 when a side qualifies alone, 0 otherwise
OUT_STOP = 7  # protective stop of the fired side (NaN if none / no fire)
OUT_TARGET = 8  # R-based target (NaN if no valid stop)
OUT_STOP_TYPE = 9  # type code the stop was taken from (-1 if none)
OUT_HTF_TERM = 10  # HTF term for the long side (short side is its negative)
N_OUT = 11

_SCORE_EPS = 1e-9


# Evaluation cache slots (float64 array of N_CACHE): the no-HTF evaluation of both sides is
# unchanged on a bar without new events until the oldest in-window type leaves the window.
C_VALID = 0
C_EXPIRY = 1  # first bar at which an in-window type drops out (recompute from there)
C_SC_L = 2
C_SC_S = 3
C_NT_L = 4
C_NT_S = 5
C_MK_L = 6
C_MK_S = 7
N_CACHE = 8


@njit(cache=True)
def confluence_new_state_nb():
    """Fresh confluence state: ``last_idx``, ``last_stop`` (2, N_TYPES) and the cache."""
    last_idx = np.full((2, N_TYPES), -1, dtype=np.int64)
    last_stop = np.full((2, N_TYPES), np.nan, dtype=np.float64)
    cache = np.zeros(N_CACHE, dtype=np.float64)
    return last_idx, last_stop, cache


@njit(cache=True, **NO_NRT)
def _evaluate_nb(t, has_events, last_idx, weights, window, cache):
    """No-HTF score, distinct-type count and type bit mask of both sides at ``t`` (via the
    cache), and whether each side has an enabled type whose latest event is at ``t``.

    One pass over both sides' types also finds the first bar at which an in-window type
    drops out (the cache expiry). Scores add the weights in type order.
    """
    fr_l = False
    fr_s = False
    if has_events or cache[C_VALID] == 0.0 or t >= cache[C_EXPIRY]:
        lo = t - window + 1
        expiry = np.inf
        for s in range(2):
            score = 0.0
            ntypes = 0
            mask = 0
            fresh = False
            for ty in range(N_TYPES):
                li = last_idx[s, ty]
                if li >= 0 and li >= lo and weights[ty] > 0.0:
                    score += weights[ty]
                    ntypes += 1
                    mask |= 1 << ty
                    expiry = min(expiry, li + window)
                    if li == t:
                        fresh = True
            cache[C_SC_L + s] = score
            cache[C_NT_L + s] = ntypes
            cache[C_MK_L + s] = mask
            if s == 0:
                fr_l = has_events and fresh
            else:
                fr_s = has_events and fresh
        cache[C_VALID] = 1.0
        cache[C_EXPIRY] = expiry
    return (
        cache[C_SC_L], cache[C_SC_S], int(cache[C_NT_L]), int(cache[C_NT_S]),
        int(cache[C_MK_L]), int(cache[C_MK_S]), fr_l, fr_s,
    )  # fmt: skip


@njit(cache=True, **NO_NRT)
def _pick_stop_nb(s, mask, entry, last_stop):
    """First stop in type-priority order that lies strictly on the protective side of entry."""
    d = 1.0 if s == 0 else -1.0
    for ty in range(N_TYPES):
        if (mask >> ty) & 1:
            st = last_stop[s, ty]
            if np.isfinite(st) and d * (entry - st) > 0.0:
                return st, ty
    return np.nan, -1


@njit(cache=True, forceinline=True, **NO_NRT)
def confluence_step_nb(
    t,
    close_t,
    ev_type,
    ev_dir,
    ev_stop,
    lo,
    hi,
    last_idx,
    last_stop,
    cache,
    weights,
    htf_term_long,
    window,
    min_score,
    min_types,
    rr,
    out,
    r,
):
    """Advance the confluence state by base bar ``t`` and write its verdict into ``out[r]``.

    Parameters
    ----------
    t : int
        Base bar index (the bar that just closed).
    close_t : float
        ``C[t]``, the entry price of a confluence signal at ``t``.
    ev_type, ev_dir, ev_stop : ndarray
        Events; rows ``lo..hi-1`` are the events emitted at ``t`` (type code or -1 for kinds that
        do not count, direction +1/-1, suggested stop).
    last_idx, last_stop : ndarray (2, N_TYPES)
        State, updated in place.
    cache : ndarray (N_CACHE,)
        Evaluation cache (part of the state; see ``C_*``), updated in place.
    weights : ndarray (N_TYPES,)
        Weight per type; a type with weight <= 0 is disabled (neither scores nor counts).
    htf_term_long : float
        HTF term of the long side at ``t`` (already weighted; short side is ``-htf_term_long``).
    window, min_score, min_types, rr :
        Confluence window in bars, firing thresholds, R multiple of the target.
    out : ndarray (m, N_OUT)
        Output; row ``r`` receives the verdict (a row index rather than a row view keeps the
        batch loop free of per-bar array-view allocation).
    """
    for e in range(lo, hi):
        ty = ev_type[e]
        if ty < 0:
            continue
        s = 0 if ev_dir[e] > 0 else 1
        st = ev_stop[e]
        if last_idx[s, ty] == t and np.isfinite(last_stop[s, ty]):
            st = min(st, last_stop[s, ty]) if s == 0 else max(st, last_stop[s, ty])
        last_idx[s, ty] = t
        last_stop[s, ty] = st
    has_events = hi > lo
    sc_l, sc_s, nt_l, nt_s, mk_l, mk_s, fr_l, fr_s = _evaluate_nb(
        t, has_events, last_idx, weights, window, cache
    )
    sc_l += htf_term_long
    sc_s -= htf_term_long
    q_l = fr_l and sc_l >= min_score - _SCORE_EPS and nt_l >= min_types and htf_term_long >= 0.0
    q_s = fr_s and sc_s >= min_score - _SCORE_EPS and nt_s >= min_types and htf_term_long <= 0.0
    fire = 0
    if q_l and not q_s:
        fire = 1
    elif q_s and not q_l:
        fire = -1
    stop = np.nan
    target = np.nan
    stop_ty = -1
    if fire != 0:
        s = 0 if fire > 0 else 1
        stop, stop_ty = _pick_stop_nb(s, mk_l if fire > 0 else mk_s, close_t, last_stop)
        if stop_ty >= 0:
            target = close_t + fire * rr * abs(close_t - stop)
    out[r, OUT_SCORE_LONG] = sc_l
    out[r, OUT_SCORE_SHORT] = sc_s
    out[r, OUT_NTYPES_LONG] = nt_l
    out[r, OUT_NTYPES_SHORT] = nt_s
    out[r, OUT_MASK_LONG] = mk_l
    out[r, OUT_MASK_SHORT] = mk_s
    out[r, OUT_FIRE] = fire
    out[r, OUT_STOP] = stop
    out[r, OUT_TARGET] = target
    out[r, OUT_STOP_TYPE] = stop_ty
    out[r, OUT_HTF_TERM] = htf_term_long


@njit(cache=True)
def confluence_batch_nb(
    close,
    ev_index,
    ev_type,
    ev_dir,
    ev_stop,
    htf_term_long,
    weights,
    window,
    min_score,
    min_types,
    rr,
):
    """Confluence verdict for every base bar: a loop of :func:`confluence_step_nb`.

    ``ev_index`` must be sorted ascending with values in ``[0, len(close))`` (the wrapper
    checks). Returns ``out`` of shape ``(len(close), N_OUT)``.
    """
    n = close.shape[0]
    m = ev_index.shape[0]
    out = np.empty((n, N_OUT), dtype=np.float64)
    last_idx, last_stop, cache = confluence_new_state_nb()
    e = 0
    for t in range(n):
        lo = e
        while e < m and ev_index[e] == t:
            e += 1
        confluence_step_nb(
            t,
            close[t],
            ev_type,
            ev_dir,
            ev_stop,
            lo,
            e,
            last_idx,
            last_stop,
            cache,
            weights,
            htf_term_long[t],
            window,
            min_score,
            min_types,
            rr,
            out,
            t,
        )
    return out


@njit(cache=True, **NO_NRT)
def ema_bias_step_nb(state, close_k, period):
    """Advance an EMA by one HTF close and return ``sign(close - EMA)`` (0 while undefined).

    ``state`` is float64 ``(2,)``: ``[closes seen, running sum (warm-up) / EMA]``. The EMA uses
    ``alpha = 2 / (period + 1)`` seeded with the simple mean of the first ``period`` closes
    (defined from bar ``period - 1``): ``pd.Series.ewm(span=period, adjust=False)`` applied
    after an SMA seed. Causal by construction (one close at a time).
    """
    k = int(state[0])
    state[0] = k + 1
    if k < period - 1:
        state[1] += close_k
        return 0
    if k == period - 1:
        state[1] = (state[1] + close_k) / period
    else:
        alpha = 2.0 / (period + 1.0)
        state[1] = alpha * close_k + (1.0 - alpha) * state[1]
    diff = close_k - state[1]
    return 1 if diff > 0 else (-1 if diff < 0 else 0)


@njit(cache=True)
def ema_bias_nb(close, period):
    """Per HTF bar the sign of ``close - EMA(close, period)``: a loop of :func:`ema_bias_step_nb`."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.int64)
    state = np.zeros(2, dtype=np.float64)
    for k in range(n):
        out[k] = ema_bias_step_nb(state, close[k], period)
    return out


@njit(cache=True)
def asof_take_nb(values, known_index, n_base, fill):
    """Per base bar ``t``: ``values[k]`` of the latest HTF bar ``k`` with ``known_index[k] <= t``.

    ``known_index`` must be non-decreasing (HTF bars become known in order); rows with
    ``known_index < 0`` (never usable) must have been removed. Bars before the first known HTF
    bar get ``fill``. This is the backward as-of join on the *known* time of SIGNALS.md §4.
    """
    out = np.full(n_base, fill, dtype=values.dtype)
    m = known_index.shape[0]
    k = -1
    for t in range(n_base):
        while k + 1 < m and known_index[k + 1] <= t:
            k += 1
        if k >= 0:
            out[t] = values[k]
    return out
