# mypy: disable-error-code="no-untyped-def"
"""Numba state machines of the market-structure detectors (SIGNALS.md §3.3-3.5, 3.7).

Swings (fractal pivots), BOS/CHOCH with the running bias, MSS, BREAKER zones, liquidity sweeps
(swing pool and prior-day levels) and SMT divergence. State layout and helpers live in
:mod:`tradekit.signals.nb`; :func:`tradekit.signals.nb_step.step_all_nb` calls these in order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradekit.signals.nb import (
    B_ANCHOR,
    B_BOTTOM,
    B_CREATED,
    B_DIR,
    B_TOP,
    DAY_NS,
    F_DAY_HIGH,
    F_DAY_LOW,
    F_PDH,
    F_PDL,
    F_SH_EXT,
    F_SH_LEVEL,
    F_SH_ZONE_H,
    F_SH_ZONE_L,
    F_SL_EXT,
    F_SL_LEVEL,
    F_SL_ZONE_H,
    F_SL_ZONE_L,
    F_SWH_MIN,
    F_SWL_MAX,
    I_BIAS,
    I_DAY,
    I_DISP_CUR,
    I_HAS_DAY,
    I_HAS_PD,
    I_NBRK,
    I_NSWH,
    I_NSWL,
    I_PDH_DONE,
    I_PDL_DONE,
    I_PEND_BEAR,
    I_PEND_BULL,
    I_SH_ANCHOR,
    I_SH_BROKEN,
    I_SH_EXT_IDX,
    I_SH_ZONE_IDX,
    I_SL_ANCHOR,
    I_SL_BROKEN,
    I_SL_EXT_IDX,
    I_SL_ZONE_IDX,
    K_BOS,
    K_BREAKER,
    K_CHOCH,
    K_MSS,
    K_SMT,
    K_SWEEP_HIGH,
    K_SWEEP_LOW,
    K_SWING_HIGH,
    K_SWING_LOW,
    NBRK,
    NEG_INF,
    NO_NRT,
    P_BREAK_WICK,
    P_BRK_MAX_AGE,
    P_DAY_OFFSET_NS,
    P_EQ_ATR,
    P_INTRADAY,
    P_LEFT,
    P_RIGHT,
    P_RR,
    P_SMT_MAX_LAG,
    P_SWEEP_MAX_AGE,
    POS_INF,
    R_H,
    R_L,
    R_LB_H,
    R_LB_IDX,
    R_LB_L,
    R_LU_H,
    R_LU_IDX,
    R_LU_L,
    T_BOS,
    T_CHOCH,
    T_PRIOR_DAY,
    T_SWING,
    _new_row_nb,
    _rg,
    r_target_nb,
)
from tradekit.signals.records import (
    COL_BOTTOM,
    COL_EQUAL_LEVELS,
    COL_EXTREME,
    COL_LEVEL,
    COL_N_LEVELS,
    COL_OTHER_LEVEL,
    COL_TAG,
    COL_TOP,
)

# ---- SMT state slots (float64 array of NSMT) ----------------------------------------------
S_A_SH0 = 0  # A: previous swing high level, anchor; latest level, anchor
S_A_SH0_I = 1
S_A_SH1 = 2
S_A_SH1_I = 3
S_A_SL0 = 4
S_A_SL0_I = 5
S_A_SL1 = 6
S_A_SL1_I = 7
S_B_SH0 = 8
S_B_SH0_I = 9
S_B_SH1 = 10
S_B_SH1_I = 11
S_B_SL0 = 12
S_B_SL0_I = 13
S_B_SL1 = 14
S_B_SL1_I = 15
S_BEAR_A = 16  # anchors of the last emitted bearish pair (A swing, B swing)
S_BEAR_B = 17
S_BULL_A = 18
S_BULL_B = 19
NSMT = 20


def new_smt_state() -> np.ndarray:
    """Fresh SMT state: no swings (levels NaN, anchors -1)."""
    st = np.full(NSMT, np.nan)
    for k in (
        S_A_SH0_I,
        S_A_SH1_I,
        S_A_SL0_I,
        S_A_SL1_I,
        S_B_SH0_I,
        S_B_SH1_I,
        S_B_SL0_I,
        S_B_SL1_I,
        S_BEAR_A,
        S_BEAR_B,
        S_BULL_A,
        S_BULL_B,
    ):
        st[k] = -1.0
    return st


# ============================================================================================
# 3.3 swings
# ============================================================================================
@njit(cache=True, **NO_NRT)
def swing_step_nb(t, c, params, istate, ring, out):
    """Pivot ``p = t - right`` confirmed at ``t`` (§3.3): strict on the left, non-strict on
    the right. Returns ``(high level, want_low level)``, NaN where no swing."""
    left = int(params[P_LEFT])
    right = int(params[P_RIGHT])
    p = t - right
    sh = np.nan
    sl = np.nan
    if p < left:
        return sh, sl
    hp = _rg(ring, p, R_H)
    lp = _rg(ring, p, R_L)
    is_h = True
    is_l = True
    for k in range(p - left, t + 1):
        if k == p:
            continue
        hk = _rg(ring, k, R_H)
        lk = _rg(ring, k, R_L)
        if k < p:
            is_h = is_h and hp > hk
            is_l = is_l and lp < lk
        else:
            is_h = is_h and hp >= hk
            is_l = is_l and lp <= lk
        if not (is_h or is_l):
            return sh, sl
    rr = params[P_RR]
    if is_h:
        sh = hp
        r = _new_row_nb(out, istate, K_SWING_HIGH, t, p, -1, c, hp, r_target_nb(c, hp, -1, rr))
        out[r, COL_LEVEL] = hp
    if is_l:
        sl = lp
        r = _new_row_nb(out, istate, K_SWING_LOW, t, p, 1, c, lp, r_target_nb(c, lp, 1, rr))
        out[r, COL_LEVEL] = lp
    return sh, sl


# ============================================================================================
# 3.4 BOS / CHOCH / MSS and breaker zone creation; 3.7 BREAKER
# ============================================================================================
@njit(cache=True, **NO_NRT)
def _leg_extreme_nb(ring, p, t, want_low):
    """Lowest want_low (``want_low``) or highest high of bars ``p..t`` (first occurrence) and its bar."""
    best = _rg(ring, p, R_L if want_low else R_H)
    bi = p
    for k in range(p + 1, t + 1):
        x = _rg(ring, k, R_L if want_low else R_H)
        if (want_low and x < best) or (not want_low and x > best):
            best = x
            bi = k
    return best, bi


@njit(cache=True, **NO_NRT)
def _set_zone_nb(ring, j, bull, istate, fstate):
    """Breaker candidate of a leg whose origin is bar ``j``: the last opposite-colour candle at
    or before ``j`` (bearish candle for a bullish break)."""
    if bull:
        istate[I_SH_ZONE_IDX] = int(_rg(ring, j, R_LB_IDX))
        fstate[F_SH_ZONE_H] = _rg(ring, j, R_LB_H)
        fstate[F_SH_ZONE_L] = _rg(ring, j, R_LB_L)
    else:
        istate[I_SL_ZONE_IDX] = int(_rg(ring, j, R_LU_IDX))
        fstate[F_SL_ZONE_H] = _rg(ring, j, R_LU_H)
        fstate[F_SL_ZONE_L] = _rg(ring, j, R_LU_L)


@njit(cache=True, **NO_NRT)
def _track_swings_nb(t, h, low, sh, sl, params, istate, fstate, ring):
    """Advance the leg extremes of the current swings with bar ``t``, then let swings
    confirmed at ``t`` replace them (§3.4 step 1)."""
    if istate[I_SH_ANCHOR] >= 0 and low < fstate[F_SH_EXT]:
        fstate[F_SH_EXT] = low
        istate[I_SH_EXT_IDX] = t
        _set_zone_nb(ring, t, True, istate, fstate)
    if istate[I_SL_ANCHOR] >= 0 and h > fstate[F_SL_EXT]:
        fstate[F_SL_EXT] = h
        istate[I_SL_EXT_IDX] = t
        _set_zone_nb(ring, t, False, istate, fstate)
    p = t - int(params[P_RIGHT])
    if not np.isnan(sh):
        istate[I_SH_ANCHOR] = p
        istate[I_SH_BROKEN] = 0
        fstate[F_SH_LEVEL] = sh
        ext, j = _leg_extreme_nb(ring, p, t, True)
        fstate[F_SH_EXT] = ext
        istate[I_SH_EXT_IDX] = j
        _set_zone_nb(ring, j, True, istate, fstate)
    if not np.isnan(sl):
        istate[I_SL_ANCHOR] = p
        istate[I_SL_BROKEN] = 0
        fstate[F_SL_LEVEL] = sl
        ext, j = _leg_extreme_nb(ring, p, t, False)
        fstate[F_SL_EXT] = ext
        istate[I_SL_EXT_IDX] = j
        _set_zone_nb(ring, j, False, istate, fstate)


@njit(cache=True, **NO_NRT)
def _add_zone_nb(t, d, top, bottom, anchor, istate, brk):
    """Add a breaker zone (dedupe by candle and direction; evict the oldest when full)."""
    n = istate[I_NBRK]
    for i in range(n):
        if brk[i, B_ANCHOR] == anchor and brk[i, B_DIR] == d:
            return
    if n == brk.shape[0]:
        for i in range(n - 1):
            for j in range(NBRK):
                brk[i, j] = brk[i + 1, j]
        n -= 1
    brk[n, B_DIR] = d
    brk[n, B_TOP] = top
    brk[n, B_BOTTOM] = bottom
    brk[n, B_ANCHOR] = anchor
    brk[n, B_CREATED] = t
    istate[I_NBRK] = n + 1


@njit(cache=True, **NO_NRT)
def _emit_break_nb(t, d, c, disp, params, istate, fstate, brk, out):
    """Emit BOS/CHOCH (and MSS) for a break in direction ``d`` and record its breaker zone."""
    bull = d > 0
    anchor = istate[I_SH_ANCHOR] if bull else istate[I_SL_ANCHOR]
    level = fstate[F_SH_LEVEL] if bull else fstate[F_SL_LEVEL]
    stop = fstate[F_SH_EXT] if bull else fstate[F_SL_EXT]
    choch = istate[I_BIAS] == -d
    target = r_target_nb(c, stop, d, params[P_RR])
    r = _new_row_nb(out, istate, K_CHOCH if choch else K_BOS, t, anchor, d, c, stop, target)
    out[r, COL_LEVEL] = level
    out[r, COL_TAG] = T_CHOCH if choch else T_BOS
    if choch and disp == d:
        r = _new_row_nb(out, istate, K_MSS, t, anchor, d, c, stop, target)
        out[r, COL_LEVEL] = level
        out[r, COL_TAG] = T_CHOCH
    istate[I_BIAS] = d
    # the zone joins the breaker pool after this bar's retest check (breaker_step_nb)
    if bull:
        istate[I_PEND_BULL] = istate[I_SH_ZONE_IDX]
    else:
        istate[I_PEND_BEAR] = istate[I_SL_ZONE_IDX]


@njit(cache=True, **NO_NRT)
def structure_step_nb(t, h, low, c, sh, sl, params, istate, fstate, ring, brk, out):
    """BOS / CHOCH at ``t`` (§3.4, close or wick breaks), MSS = CHOCH on a same-direction
    displacement bar (§3.7); updates ``istate[I_BIAS]``."""
    _track_swings_nb(t, h, low, sh, sl, params, istate, fstate, ring)
    wick = params[P_BREAK_WICK] > 0.0
    up = h if wick else c
    dn = low if wick else c
    disp = istate[I_DISP_CUR]
    if istate[I_SH_ANCHOR] >= 0 and istate[I_SH_BROKEN] == 0 and up > fstate[F_SH_LEVEL]:
        istate[I_SH_BROKEN] = 1
        _emit_break_nb(t, 1, c, disp, params, istate, fstate, brk, out)
    if istate[I_SL_ANCHOR] >= 0 and istate[I_SL_BROKEN] == 0 and dn < fstate[F_SL_LEVEL]:
        istate[I_SL_BROKEN] = 1
        _emit_break_nb(t, -1, c, disp, params, istate, fstate, brk, out)


@njit(cache=True, **NO_NRT)
def breaker_step_nb(t, h, low, c, params, istate, fstate, brk, out):
    """BREAKER (§3.7): the first bar after the break that trades into the zone and closes
    beyond it on the break's side; one emission per zone; zones expire after
    ``breaker_max_age_bars`` bars from the break."""
    n = istate[I_NBRK]
    max_age = params[P_BRK_MAX_AGE]
    keep = 0
    for i in range(n):
        z = brk[i]
        if t - z[B_CREATED] > max_age:
            continue
        d = int(z[B_DIR])
        top = z[B_TOP]
        bottom = z[B_BOTTOM]
        hit = (low <= top and c > top) if d > 0 else (h >= bottom and c < bottom)
        if hit:
            stop = bottom if d > 0 else top
            r = _new_row_nb(
                out,
                istate,
                K_BREAKER,
                t,
                int(z[B_ANCHOR]),
                d,
                c,
                stop,
                r_target_nb(c, stop, d, params[P_RR]),
            )
            out[r, COL_TOP] = top
            out[r, COL_BOTTOM] = bottom
            continue
        if keep != i:
            for j in range(NBRK):
                brk[keep, j] = brk[i, j]
        keep += 1
    istate[I_NBRK] = keep
    # zones of breaks at this bar: retests count from the next bar on
    if istate[I_PEND_BULL] >= 0:
        zi = istate[I_PEND_BULL]
        _add_zone_nb(t, 1, fstate[F_SH_ZONE_H], fstate[F_SH_ZONE_L], zi, istate, brk)
        istate[I_PEND_BULL] = -1
    if istate[I_PEND_BEAR] >= 0:
        zi = istate[I_PEND_BEAR]
        _add_zone_nb(t, -1, fstate[F_SL_ZONE_H], fstate[F_SL_ZONE_L], zi, istate, brk)
        istate[I_PEND_BEAR] = -1


# ============================================================================================
# 3.5 sweeps
# ============================================================================================
@njit(cache=True, **NO_NRT)
def _pool_add_nb(pool, n, level, anchor):
    if n == pool.shape[0]:
        for i in range(n - 1):
            pool[i, 0] = pool[i + 1, 0]
            pool[i, 1] = pool[i + 1, 1]
        n -= 1
    pool[n, 0] = level
    pool[n, 1] = anchor
    return n + 1


@njit(cache=True, **NO_NRT)
def _taken(high, px, lv):
    return px > lv if high else px < lv


@njit(cache=True, **NO_NRT)
def _equal_pair_nb(t, pool, n, px, high, band, max_age):
    """1.0 if two taken levels lie within ``band`` of each other, else 0.0.

    Same answer as "some adjacent pair of the sorted taken levels differs by <= band": if a
    pair ``a <= b`` qualifies, every adjacent difference between them is ``<= b - a`` (IEEE
    subtraction is monotonic), and an adjacent pair is a pair. O(n^2) without allocating,
    on a pool of at most ``sweep_max_levels`` rows and only on bars taking >= 2 levels.
    """
    for i in range(n):
        a = pool[i, 0]
        if (max_age > 0 and t - pool[i, 1] > max_age) or not _taken(high, px, a):
            continue
        for j in range(i + 1, n):
            b = pool[j, 0]
            if (max_age > 0 and t - pool[j, 1] > max_age) or not _taken(high, px, b):
                continue
            if abs(b - a) <= band:
                return 1.0
    return 0.0


@njit(cache=True, **NO_NRT)
def _pool_take_nb(t, pool, n, px, high, band, max_age):
    """Remove the levels traded through by ``px`` (and expired ones). Returns ``(n_left,
    n_taken, extreme taken level, equal-levels flag, nearest remaining level)``."""
    cnt = 0
    best = NEG_INF if high else POS_INF
    for i in range(n):
        lv = pool[i, 0]
        if max_age > 0 and t - pool[i, 1] > max_age:
            continue
        if _taken(high, px, lv):
            cnt += 1
            best = max(best, lv) if high else min(best, lv)
    eq = 0.0
    if cnt >= 2 and band > 0.0:
        eq = _equal_pair_nb(t, pool, n, px, high, band, max_age)
    keep = 0
    near = POS_INF if high else NEG_INF
    for i in range(n):
        lv = pool[i, 0]
        if (max_age > 0 and t - pool[i, 1] > max_age) or _taken(high, px, lv):
            continue
        if keep != i:
            pool[keep, 0] = lv
            pool[keep, 1] = pool[i, 1]
        near = min(near, lv) if high else max(near, lv)
        keep += 1
    return keep, cnt, best, eq, near


@njit(cache=True, **NO_NRT)
def _emit_sweep_nb(t, d, c, ext, lvl, cnt, eq, tag, params, istate, out):
    kind = K_SWEEP_LOW if d > 0 else K_SWEEP_HIGH
    r = _new_row_nb(out, istate, kind, t, t, d, c, ext, r_target_nb(c, ext, d, params[P_RR]))
    out[r, COL_LEVEL] = lvl
    out[r, COL_EXTREME] = ext
    out[r, COL_N_LEVELS] = cnt
    out[r, COL_EQUAL_LEVELS] = eq
    out[r, COL_TAG] = tag


@njit(cache=True, **NO_NRT)
def _swing_take_side_nb(t, px, high, band, params, istate, fstate, pool):
    """Consume one side's swing pool with bar ``t``; O(1) when nothing can be taken."""
    slot_n = I_NSWH if high else I_NSWL
    slot_thr = F_SWH_MIN if high else F_SWL_MAX
    n = istate[slot_n]
    max_age = params[P_SWEEP_MAX_AGE]
    if n == 0:
        return 0, np.nan, 0.0
    expire = max_age > 0 and t - pool[0, 1] > max_age
    if not expire and not _taken(high, px, fstate[slot_thr]):
        return 0, np.nan, 0.0
    n, cnt, lvl, eq, near = _pool_take_nb(t, pool, n, px, high, band, max_age)
    istate[slot_n] = n
    fstate[slot_thr] = near
    return cnt, lvl, eq


@njit(cache=True, **NO_NRT)
def prior_day_take_nb(t, ts, h, low, params, istate, fstate):
    """Prior-day levels (§3.5 B): roll the day (floor((ts + offset) / 1 day)); return the
    PDH / PDL consumed by bar ``t`` (NaN if none). PDH/PDL are the extremes of the previous
    day that had bars; each is consumed by the first bar of the day trading beyond it."""
    pdh_taken = np.nan
    pdl_taken = np.nan
    day = (ts + np.int64(params[P_DAY_OFFSET_NS])) // DAY_NS
    if istate[I_HAS_DAY] == 0 or day != istate[I_DAY]:
        if istate[I_HAS_DAY] == 1:
            fstate[F_PDH] = fstate[F_DAY_HIGH]
            fstate[F_PDL] = fstate[F_DAY_LOW]
            istate[I_HAS_PD] = 1
        istate[I_HAS_DAY] = 1
        istate[I_DAY] = day
        istate[I_PDH_DONE] = 0
        istate[I_PDL_DONE] = 0
        fstate[F_DAY_HIGH] = NEG_INF
        fstate[F_DAY_LOW] = POS_INF
    if istate[I_HAS_PD] == 1:
        if istate[I_PDH_DONE] == 0 and h > fstate[F_PDH]:
            istate[I_PDH_DONE] = 1
            pdh_taken = fstate[F_PDH]
        if istate[I_PDL_DONE] == 0 and low < fstate[F_PDL]:
            istate[I_PDL_DONE] = 1
            pdl_taken = fstate[F_PDL]
    fstate[F_DAY_HIGH] = max(fstate[F_DAY_HIGH], h)
    fstate[F_DAY_LOW] = min(fstate[F_DAY_LOW], low)
    return pdh_taken, pdl_taken


@njit(cache=True, **NO_NRT)
def sweeps_step_nb(
    t, ts, h, low, c, atr_prev, sh, sl, params, istate, fstate, swh, swl, out, do_swing, do_pd
):
    """Liquidity sweeps at ``t`` (§3.5). Swings confirmed at ``t`` join the pool first; levels
    traded through are consumed; a close back on the original side is a sweep (at most one
    swing sweep per side per bar, plus the prior-day sweep on intraday bars). Emits all
    SWEEP_LOW rows before SWEEP_HIGH rows (kind order)."""
    cnt_h, lvl_h, eq_h = 0, np.nan, 0.0
    cnt_l, lvl_l, eq_l = 0, np.nan, 0.0
    if do_swing:
        anchor = t - int(params[P_RIGHT])
        if not np.isnan(sh):
            istate[I_NSWH] = _pool_add_nb(swh, istate[I_NSWH], sh, anchor)
            fstate[F_SWH_MIN] = min(fstate[F_SWH_MIN], sh)
        if not np.isnan(sl):
            istate[I_NSWL] = _pool_add_nb(swl, istate[I_NSWL], sl, anchor)
            fstate[F_SWL_MAX] = max(fstate[F_SWL_MAX], sl)
        band = params[P_EQ_ATR] * atr_prev if atr_prev > 0.0 else 0.0
        cnt_h, lvl_h, eq_h = _swing_take_side_nb(t, h, True, band, params, istate, fstate, swh)
        cnt_l, lvl_l, eq_l = _swing_take_side_nb(t, low, False, band, params, istate, fstate, swl)
    pdh = np.nan
    pdl = np.nan
    if do_pd and params[P_INTRADAY] != 0.0:
        pdh, pdl = prior_day_take_nb(t, ts, h, low, params, istate, fstate)
    if cnt_l > 0 and c >= lvl_l:
        _emit_sweep_nb(t, 1, c, low, lvl_l, cnt_l, eq_l, T_SWING, params, istate, out)
    if not np.isnan(pdl) and c >= pdl:
        _emit_sweep_nb(t, 1, c, low, pdl, 1, 0.0, T_PRIOR_DAY, params, istate, out)
    if cnt_h > 0 and c <= lvl_h:
        _emit_sweep_nb(t, -1, c, h, lvl_h, cnt_h, eq_h, T_SWING, params, istate, out)
    if not np.isnan(pdh) and c <= pdh:
        _emit_sweep_nb(t, -1, c, h, pdh, 1, 0.0, T_PRIOR_DAY, params, istate, out)


# ============================================================================================
# 3.7 SMT
# ============================================================================================
@njit(cache=True, **NO_NRT)
def _push_swing_nb(st, slot0, level, anchor):
    """Shift latest → previous and store a new swing (slots: prev lvl, prev idx, lvl, idx)."""
    st[slot0] = st[slot0 + 2]
    st[slot0 + 1] = st[slot0 + 3]
    st[slot0 + 2] = level
    st[slot0 + 3] = anchor


@njit(cache=True, **NO_NRT)
def smt_step_nb(t, h_a, l_a, c_a, a_sh, a_sl, b_sh, b_sl, params, st, istate, out):
    """SMT on instrument A at ``t`` (§3.7). Inputs are the swing levels A and B confirmed at
    ``t`` (NaN none). Bearish: A's latest swing high above its previous while B's latest is
    below its previous; bullish mirrored with lows. Emitted when the later of the two swings
    is confirmed; each (A swing, B swing) pair fires once; the two swing bars must lie within
    ``smt_max_lag_bars`` of each other. ``istate`` only supplies the row counter."""
    anchor = t - int(params[P_RIGHT])
    if not np.isnan(a_sh):
        _push_swing_nb(st, S_A_SH0, a_sh, anchor)
    if not np.isnan(a_sl):
        _push_swing_nb(st, S_A_SL0, a_sl, anchor)
    if not np.isnan(b_sh):
        _push_swing_nb(st, S_B_SH0, b_sh, anchor)
    if not np.isnan(b_sl):
        _push_swing_nb(st, S_B_SL0, b_sl, anchor)
    lag = params[P_SMT_MAX_LAG]
    rr = params[P_RR]
    if (
        (not np.isnan(a_sh) or not np.isnan(b_sh))
        and st[S_A_SH1] > st[S_A_SH0]
        and st[S_B_SH1] < st[S_B_SH0]
    ):
        ai = st[S_A_SH1_I]
        bi = st[S_B_SH1_I]
        if abs(ai - bi) <= lag and not (ai == st[S_BEAR_A] and bi == st[S_BEAR_B]):
            st[S_BEAR_A] = ai
            st[S_BEAR_B] = bi
            stop = max(st[S_A_SH1], h_a)
            r = _new_row_nb(
                out, istate, K_SMT, t, int(ai), -1, c_a, stop, r_target_nb(c_a, stop, -1, rr)
            )
            out[r, COL_LEVEL] = st[S_A_SH1]
            out[r, COL_OTHER_LEVEL] = st[S_B_SH1]
    if (
        (not np.isnan(a_sl) or not np.isnan(b_sl))
        and st[S_A_SL1] < st[S_A_SL0]
        and st[S_B_SL1] > st[S_B_SL0]
    ):
        ai = st[S_A_SL1_I]
        bi = st[S_B_SL1_I]
        if abs(ai - bi) <= lag and not (ai == st[S_BULL_A] and bi == st[S_BULL_B]):
            st[S_BULL_A] = ai
            st[S_BULL_B] = bi
            stop = min(st[S_A_SL1], l_a)
            r = _new_row_nb(
                out, istate, K_SMT, t, int(ai), 1, c_a, stop, r_target_nb(c_a, stop, 1, rr)
            )
            out[r, COL_LEVEL] = st[S_A_SL1]
            out[r, COL_OTHER_LEVEL] = st[S_B_SL1]


__all__ = [
    "NSMT",
    "breaker_step_nb",
    "new_smt_state",
    "prior_day_take_nb",
    "smt_step_nb",
    "structure_step_nb",
    "sweeps_step_nb",
    "swing_step_nb",
]
