# mypy: disable-error-code="no-untyped-def"
"""The one-bar step of every detector, and the batch loop over it.

:func:`step_all_nb` is the streaming path (one call per closed bar); :func:`batch_nb` runs the
very same step over a whole series, so streaming equals batch by construction. The batch loop
stops early when the event buffer might overflow; the Python wrapper grows the buffer and
resumes from the returned position (state arrays carry everything needed to resume).

Speed notes: every kernel here and in the detector modules is compiled without NRT
(:data:`tradekit.signals.nb.NO_NRT`), because the atomic reference counting of the ~10 state
arrays passed to each step function cost more than the detectors themselves; and
:func:`step_all_nb` is ``forceinline`` (LLVM inlines it, and the step functions numba compiles
for it, into :func:`batch_nb`), so the batch loop is one function. Numba's on-disk cache does
not track edits in other modules: after editing ``nb.py`` or ``nb_structure.py`` touch this
file (or clear ``__pycache__``) so the inlined copies are rebuilt.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradekit.signals.nb import (
    G_BREAKER,
    G_DISP,
    G_FVG,
    G_ORB,
    G_PRIOR_DAY,
    G_STRAT,
    G_STRUCT,
    G_SWEEP,
    G_SWING,
    G_VOLUME,
    I_BIAS,
    I_DISP_CUR,
    I_DISP_PREV,
    I_N,
    I_NOUT,
    NO_NRT,
    P_GROUPS,
    _intake_nb,
    displacement_dir_nb,
    displacement_emit_nb,
    fvg_add_nb,
    fvg_lifecycle_step_nb,
    fvg_step_nb,
    orb_step_nb,
    strat_step_nb,
    volume_step_nb,
)
from tradekit.signals.nb_structure import (
    breaker_step_nb,
    smt_step_nb,
    structure_step_nb,
    sweeps_step_nb,
    swing_step_nb,
)
from tradekit.signals.records import COL_INDEX, COL_KIND

__all__ = ["batch_nb", "events_sorted_nb", "smt_batch_nb", "step_all_nb"]


@njit(cache=True, forceinline=True, **NO_NRT)
def step_all_nb(
    ts, o, h, low, c, v, sess_open, params, istate, fstate, ring, fvg, swh, swl, brk, out
):
    """Advance every detector by the closed bar ``istate[I_N]`` and append its events to
    ``out`` from row ``istate[I_NOUT]``. Returns the swing high / low levels confirmed at this
    bar (NaN none), which the SMT step of a pair consumes.

    The caller guarantees ``out`` has room for ``max_events_per_bar`` more rows.
    """
    t = istate[I_N]
    g = int(params[P_GROUPS])
    atr_prev = _intake_nb(t, o, h, low, c, v, params, istate, fstate, ring)
    # displacement is needed early (FVG flag, MSS) but emitted in kind order below
    disp = displacement_dir_nb(o, h, low, c, atr_prev, params) if g & G_DISP else 0
    istate[I_DISP_PREV] = istate[I_DISP_CUR]
    istate[I_DISP_CUR] = disp
    # emission follows the kind codes, so a bar's rows come out sorted by kind
    if g & G_STRAT:
        strat_step_nb(t, ring, istate, out)  # 0, 1
    sh, sl = np.nan, np.nan
    if g & G_SWING:
        sh, sl = swing_step_nb(t, c, params, istate, ring, out)  # 2, 3
    if g & G_STRUCT:
        structure_step_nb(t, h, low, c, sh, sl, params, istate, fstate, ring, brk, out)  # 4-6
    if g & (G_SWEEP | G_PRIOR_DAY):
        sweeps_step_nb(
            t,
            ts,
            h,
            low,
            c,
            atr_prev,
            sh,
            sl,
            params,
            istate,
            fstate,
            swh,
            swl,
            out,
            g & G_SWEEP,
            g & G_PRIOR_DAY,
        )  # 7, 8
    if g & G_FVG:
        r = fvg_step_nb(t, ring, atr_prev, params, istate, out)  # 10
        fvg_lifecycle_step_nb(t, h, low, params, istate, fstate, fvg, out)  # 11, 12
        if r >= 0:
            fvg_add_nb(t, out[r], istate, fstate, fvg)
    if disp != 0:
        displacement_emit_nb(t, o, h, low, c, atr_prev, disp, params, istate, out)  # 13
    if g & G_BREAKER:
        breaker_step_nb(t, h, low, c, params, istate, fstate, brk, out)  # 14
    if g & G_VOLUME:
        volume_step_nb(t, o, h, low, c, v, params, istate, ring, out)  # 15
    if g & G_ORB:
        orb_step_nb(t, ts, h, low, c, sess_open, params, istate, fstate, out)  # 16
    istate[I_N] = t + 1
    return sh, sl


@njit(cache=True, **NO_NRT)
def batch_nb(
    ts,
    o,
    h,
    low,
    c,
    v,
    sess_open,
    params,
    istate,
    fstate,
    ring,
    fvg,
    swh,
    swl,
    brk,
    out,
    per_bar,
    bias_out,
    sh_out,
    sl_out,
):
    """Run :func:`step_all_nb` over bars ``istate[I_N]..n-1``; per bar record the bias after
    the bar and the swing levels confirmed at it. Returns the position reached (``n`` when
    done, earlier when ``out`` needs more than ``per_bar`` free rows)."""
    n = ts.shape[0]
    for t in range(istate[I_N], n):
        if istate[I_NOUT] + per_bar > out.shape[0]:
            return t
        sh, sl = step_all_nb(
            ts[t],
            o[t],
            h[t],
            low[t],
            c[t],
            v[t],
            sess_open[t],
            params,
            istate,
            fstate,
            ring,
            fvg,
            swh,
            swl,
            brk,
            out,
        )
        bias_out[t] = istate[I_BIAS]
        sh_out[t] = sh
        sl_out[t] = sl
    return n


@njit(cache=True, **NO_NRT)
def smt_batch_nb(h_a, l_a, c_a, a_sh, a_sl, b_sh, b_sl, params, st, cnt, out):
    """Run :func:`~tradekit.signals.nb_structure.smt_step_nb` over aligned bars. ``cnt`` is
    the int64 state whose ``I_NOUT`` slot counts rows; ``out`` must hold ``2 n`` rows."""
    for t in range(h_a.shape[0]):
        smt_step_nb(
            t, h_a[t], l_a[t], c_a[t], a_sh[t], a_sl[t], b_sh[t], b_sl[t], params, st, cnt, out
        )
    return cnt[I_NOUT]


@njit(cache=True, **NO_NRT)
def events_sorted_nb(events):
    """Whether event rows are ordered by (``COL_INDEX``, ``COL_KIND``); one pass, no
    temporaries. Equivalent to ``np.all(np.diff(index * 64 + kind) >= 0)`` for kind codes
    below 64 (the key :func:`tradekit.signals.detectors.sort_events` sorts by)."""
    for r in range(1, events.shape[0]):
        a = events[r - 1, COL_INDEX] * 64.0 + events[r - 1, COL_KIND]
        b = events[r, COL_INDEX] * 64.0 + events[r, COL_KIND]
        if b < a:
            return False
    return True
