"""Numba state machines of the signal detectors (SIGNALS.md §3).

One closed bar at a time: :func:`tradekit.signals.nb_step.step_all_nb` advances every detector
by one bar, reading and writing bounded state held in plain numpy arrays, and appends the events
of that bar to an event buffer (columns from :mod:`tradekit.signals.records`), in kind-code
order. The batch path (:func:`tradekit.signals.nb_step.batch_nb`) is a loop over the same step,
so batch and streaming are one implementation and every detector is prefix-invariant by
construction (a bar can only see the state left by earlier bars). This module holds the state
layout and the candle detectors (STRAT, displacement, FVG, volume, ORB);
:mod:`tradekit.signals.nb_structure` the structure detectors.

State arrays (allocated by :meth:`tradekit.signals.detectors.DetectorState.new`):

* ``params``  float64 ``(NPARAM,)`` -- the ``P_*`` slots.
* ``istate``  int64 ``(NISTATE,)`` / ``fstate`` float64 ``(NFSTATE,)`` -- scalar state.
* ``ring``    float64 ``(R, NRING)`` -- the last ``R`` bars (O, H, L, C, V and the
  last-opposite-colour-candle snapshot used by BREAKER); ``R`` is a power of two and row
  ``t & (R - 1)`` holds bar ``t``.
* ``fvg``     float64 ``(2 Kf + ceil(2 Kf / FVG_BLOCK), NFVG)`` -- fair value gaps in creation
  order in rows ``head .. end - 1`` (removed gaps stay as dead rows, ``G_DIR == 0``, until the
  pool is compacted), then one row per block of ``FVG_BLOCK`` gap rows holding that block's
  thresholds (columns ``BT_*``), so a bar scans only the blocks it can affect.
* ``swh/swl`` float64 ``(Ks, 2)`` -- active swing highs / lows (level, anchor), oldest first.
* ``brk``     float64 ``(Kb, NBRK)`` -- active breaker zones, oldest first.

References: ATR is Wilder's (``ATR[P-1] = mean(TR[0..P-1])``, then
``ATR = ((P-1) ATR + TR) / P``), the same recursion as TA-Lib ``ATR``; every other detector's
reference is the section of SIGNALS.md named in its docstring.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from numba import njit

from tradekit.signals.records import (
    COL_ANCHOR,
    COL_ATR,
    COL_BOTTOM,
    COL_DIR,
    COL_ENTRY,
    COL_INDEX,
    COL_KIND,
    COL_MID,
    COL_MID_DISP,
    COL_RATIO,
    COL_SIZE,
    COL_STOP,
    COL_TAG,
    COL_TARGET,
    COL_TOP,
    COL_TRIGGER,
    NCOL,
)


#: numba options of every kernel that allocates nothing: no NRT, hence no atomic reference
#: counting of the (many) state arrays at each call of a step function -- that bookkeeping
#: cost more than the detectors themselves. A kernel that must allocate (``np.empty``, slice
#: copies) cannot use it; write such a loop element-wise instead.
def _no_nrt_options() -> dict[str, Any]:
    """``{"_nrt": False}`` when this numba knows the (private) option, else ``{}``: a numba
    release without it still compiles every kernel correctly, only slower."""
    try:
        from numba.core.cpu import CPUTargetOptions
    except ImportError:  # pragma: no cover - depends on the numba release
        return {}
    return {"_nrt": False} if hasattr(CPUTargetOptions, "_nrt") else {}


NO_NRT: Final[dict[str, Any]] = _no_nrt_options()

# ---- kind / tag codes as plain ints (numba-friendly mirrors of records.KindCode/TagCode) ---
K_STRAT_212 = 0
K_STRAT_21_SETUP = 1
K_SWING_HIGH = 2
K_SWING_LOW = 3
K_BOS = 4
K_CHOCH = 5
K_MSS = 6
K_SWEEP_LOW = 7
K_SWEEP_HIGH = 8
K_SMT = 9
K_FVG = 10
K_FVG_MITIGATED = 11
K_FVG_FILLED = 12
K_DISPLACEMENT = 13
K_BREAKER = 14
K_VOLUME_SURGE = 15
K_ORB = 16
T_NONE = 0
T_BOS = 1
T_CHOCH = 2
T_CONTINUATION = 3
T_REVERSAL = 4
T_SWING = 5
T_PRIOR_DAY = 6

# ---- params slots -------------------------------------------------------------------------
P_ATR_PERIOD = 0
P_RR = 1
P_LEFT = 2
P_RIGHT = 3
P_BREAK_WICK = 4
P_FVG_MIN_GAP = 5
P_FVG_MIN_GAP_ATR = 6
P_FVG_REQ_COLOR = 7
P_FVG_MAX_AGE = 8  # 0 = never expire
P_SWEEP_MAX_AGE = 9  # 0 = never expire
P_EQ_ATR = 10
P_DAY_OFFSET_NS = 11
P_DISP_MULT = 12
P_DISP_RATIO = 13
P_BRK_MAX_AGE = 14
P_VOL_N = 15
P_VOL_MULT = 16
P_VOL_BODY = 17
P_ORB_NS = 18
P_INTRADAY = 19  # 1.0 enables prior-day sweeps and ORB
P_SMT_MAX_LAG = 20
P_GROUPS = 21  # bitmask of the detector groups to run (G_*)
NPARAM = 22

# ---- detector groups (bits of params[P_GROUPS]); a group's dependencies must be on too ----
G_STRAT = 1
G_DISP = 2
G_FVG = 4  # needs G_DISP (middle_is_displacement)
G_SWING = 8
G_STRUCT = 16  # BOS/CHOCH/MSS; needs G_SWING, G_DISP
G_BREAKER = 32  # needs G_STRUCT
G_SWEEP = 64  # swing sweeps; needs G_SWING
G_PRIOR_DAY = 128
G_VOLUME = 256
G_ORB = 512
G_ALL = 1023

# ---- istate slots ---------------------------------------------------------------------------
I_N = 0  # bars processed so far == position of the bar being processed
I_BIAS = 1
I_SH_ANCHOR = 2  # -1: no swing high yet
I_SH_BROKEN = 3
I_SL_ANCHOR = 4
I_SL_BROKEN = 5
I_SH_EXT_IDX = 6  # bar of the lowest low since the swing high
I_SL_EXT_IDX = 7  # bar of the highest high since the swing low
I_NFVG = 8
I_NSWH = 9
I_NSWL = 10
I_NBRK = 11
I_DAY = 12
I_HAS_DAY = 13
I_HAS_PD = 14
I_PDH_DONE = 15
I_PDL_DONE = 16
I_SESS_OPEN = 17  # session open (ns) of the current ORB session, -1 none
I_ORB_HAS = 18
I_ORB_UP_DONE = 19
I_ORB_DN_DONE = 20
I_LB_IDX = 21  # last bearish candle (-1 none)
I_LU_IDX = 22  # last bullish candle
I_DISP_PREV = 23  # displacement direction of bar t-1 (0 none)
I_DISP_CUR = 24
I_NOUT = 25  # rows used in the event buffer
I_SH_ZONE_IDX = 26  # breaker candidate of the swing high's leg (-1 none)
I_SL_ZONE_IDX = 27
I_FVG_HEAD = 28  # first live row of the fvg pool (rows head..head+n-1, oldest first)
I_PEND_BULL = 29  # breaker zone candle of a bullish break at this bar, waiting (-1 none)
I_PEND_BEAR = 30
I_FVG_END = 31  # one past the last used pool row (rows head..end-1 hold live and dead gaps)
I_FVG_PHYS = 32  # pool rows available for gaps (2 * fvg_max_active); block rows follow
NISTATE = 33

# ---- fstate slots ---------------------------------------------------------------------------
F_ATR = 0  # ATR of the last processed bar (NaN while undefined)
F_TR_SUM = 1
F_SH_LEVEL = 2
F_SL_LEVEL = 3
F_SH_EXT = 4  # lowest low since the swing high (leg origin of a bullish break)
F_SL_EXT = 5
F_SH_ZONE_H = 6
F_SH_ZONE_L = 7
F_SL_ZONE_H = 8
F_SL_ZONE_L = 9
F_DAY_HIGH = 10
F_DAY_LOW = 11
F_PDH = 12
F_PDL = 13
F_ORB_HI = 14
F_ORB_LO = 15
F_LB_H = 16
F_LB_L = 17
F_LU_H = 18
F_LU_L = 19
F_FVG_BULL_MIT = 20  # highest top of the unmitigated bull gaps (a low at/below it mitigates)
F_FVG_BEAR_MIT = 21  # lowest bottom of the unmitigated bear gaps
F_SWH_MIN = 22  # lowest active swing high (nothing to take while high <= it)
F_SWL_MAX = 23  # highest active swing low
F_FVG_BULL_FILL = 24  # highest bottom of the bull gaps (a low at/below it fills one)
F_FVG_BEAR_FILL = 25  # lowest top of the bear gaps
NFSTATE = 26

# ---- ring columns ---------------------------------------------------------------------------
R_O = 0
R_H = 1
R_L = 2
R_C = 3
R_V = 4
R_LB_H = 5  # last bearish candle at or before this bar: high, low, index
R_LB_L = 6
R_LB_IDX = 7
R_LU_H = 8  # last bullish candle at or before this bar
R_LU_L = 9
R_LU_IDX = 10
NRING = 11

# ---- fvg pool columns -----------------------------------------------------------------------
G_DIR = 0
G_TOP = 1
G_BOTTOM = 2
G_ANCHOR = 3
G_CREATED = 4
G_MITIGATED = 5
G_ENTRY = 6
G_STOP = 7
G_TARGET = 8
G_MID_DISP = 9
NFVG = 10
FVG_BLOCK = 16
BT_BULL_MIT = 0  # block thresholds: see F_FVG_* (same meaning, restricted to the block)
BT_BEAR_MIT = 1
BT_BULL_FILL = 2
BT_BEAR_FILL = 3

# ---- breaker pool columns -------------------------------------------------------------------
B_DIR = 0
B_TOP = 1
B_BOTTOM = 2
B_ANCHOR = 3  # the zone candle
B_CREATED = 4  # the BOS/CHOCH bar
NBRK = 5

DAY_NS = 86_400_000_000_000
NEG_INF = -np.inf
POS_INF = np.inf


def ring_size(left: int, right: int, vol_n: int) -> int:
    """Rows of the bar ring: enough for the swing window, the volume mean and STRAT, rounded
    up to a power of two so that the row of bar ``t`` is ``t & (R - 1)``."""
    need = max(left + right + 1, vol_n + 1, 4)
    return 1 << (need - 1).bit_length()


def max_events_per_bar(fvg_cap: int, brk_cap: int) -> int:
    """Upper bound of the events one bar can emit (sizes the streaming buffer);
    ``fvg_cap`` is the number of active gaps (``fvg_max_active``)."""
    return 24 + 2 * fvg_cap + brk_cap


# ============================================================================================
# small helpers
# ============================================================================================
@njit(cache=True, **NO_NRT)
def _new_row_nb(out, istate, kind, t, anchor, direction, entry, stop, target):
    """Append one event row (levels NaN) and return its row number."""
    r = istate[I_NOUT]
    istate[I_NOUT] = r + 1
    for j in range(NCOL):
        out[r, j] = np.nan
    out[r, COL_KIND] = kind
    out[r, COL_INDEX] = t
    out[r, COL_ANCHOR] = anchor
    out[r, COL_DIR] = direction
    out[r, COL_ENTRY] = entry
    out[r, COL_STOP] = stop
    out[r, COL_TARGET] = target
    out[r, COL_TAG] = T_NONE
    return r


@njit(cache=True, **NO_NRT)
def r_target_nb(entry, stop, direction, rr):
    """R-based target ``entry + dir * rr * |entry - stop|`` (SIGNALS.md §0)."""
    return entry + direction * rr * abs(entry - stop)


@njit(cache=True, **NO_NRT)
def _rg(ring, t, col):
    return ring[t & (ring.shape[0] - 1), col]


@njit(cache=True, **NO_NRT)
def bar_type_nb(ring, t):
    """STRAT bar type of bar ``t`` vs ``t-1`` (§3.1): 0 none, 1 inside, 2 = 2U, 3 = 2D, 4 = 3."""
    if t < 1:
        return 0
    up = _rg(ring, t, R_H) > _rg(ring, t - 1, R_H)
    down = _rg(ring, t, R_L) < _rg(ring, t - 1, R_L)
    if up and down:
        return 4
    if up:
        return 2
    if down:
        return 3
    return 1


# ============================================================================================
# bar intake: ring, ATR, colour snapshots
# ============================================================================================
@njit(cache=True, **NO_NRT)
def _intake_nb(t, o, h, low, c, v, params, istate, fstate, ring):
    """Store bar ``t`` in the ring and advance Wilder's ATR. Returns ``ATR[t-1]`` (NaN if
    undefined), the yardstick detectors compare bar ``t`` with."""
    atr_prev = fstate[F_ATR]
    if t == 0:
        tr = h - low
    else:
        pc = _rg(ring, t - 1, R_C)
        tr = max(h - low, abs(h - pc), abs(low - pc))
    period = int(params[P_ATR_PERIOD])
    if t < period:
        fstate[F_TR_SUM] += tr
        if t == period - 1:
            fstate[F_ATR] = fstate[F_TR_SUM] / period
    else:
        fstate[F_ATR] = ((period - 1) * fstate[F_ATR] + tr) / period
    if c < o:
        istate[I_LB_IDX] = t
        fstate[F_LB_H] = h
        fstate[F_LB_L] = low
    elif c > o:
        istate[I_LU_IDX] = t
        fstate[F_LU_H] = h
        fstate[F_LU_L] = low
    k = t & (ring.shape[0] - 1)
    ring[k, R_O] = o
    ring[k, R_H] = h
    ring[k, R_L] = low
    ring[k, R_C] = c
    ring[k, R_V] = v
    ring[k, R_LB_H] = fstate[F_LB_H]
    ring[k, R_LB_L] = fstate[F_LB_L]
    ring[k, R_LB_IDX] = istate[I_LB_IDX]
    ring[k, R_LU_H] = fstate[F_LU_H]
    ring[k, R_LU_L] = fstate[F_LU_L]
    ring[k, R_LU_IDX] = istate[I_LU_IDX]
    return atr_prev


# ============================================================================================
# 3.1 STRAT
# ============================================================================================
@njit(cache=True, **NO_NRT)
def _strat_levels_nb(out, r, direction, trig, stop, mother_ext):
    """Fill trigger/stop/target of a STRAT row; target = mother extreme if beyond the
    trigger, else a 1:1 projection (§3.1)."""
    if direction > 0:
        target = mother_ext if mother_ext > trig else trig + (trig - stop)
    else:
        target = mother_ext if mother_ext < trig else trig - (stop - trig)
    out[r, COL_ENTRY] = trig
    out[r, COL_STOP] = stop
    out[r, COL_TARGET] = target
    out[r, COL_TRIGGER] = trig


@njit(cache=True, **NO_NRT)
def strat_step_nb(t, ring, istate, out):
    """STRAT_212 at ``t`` (2-1-2, anchor = inside bar ``t-1``), then STRAT_21_SETUP at ``t``
    (2 then inside bar ``t``; one event per direction with that side's trigger)."""
    if t < 2:
        return
    ty0 = bar_type_nb(ring, t)
    ty1 = bar_type_nb(ring, t - 1)
    if t >= 3 and ty1 == 1 and (ty0 == 2 or ty0 == 3):
        ty2 = bar_type_nb(ring, t - 2)
        if ty2 == 2 or ty2 == 3:
            d = 1 if ty0 == 2 else -1
            r = _new_row_nb(out, istate, K_STRAT_212, t, t - 1, d, 0.0, 0.0, 0.0)
            if d > 0:
                _strat_levels_nb(
                    out, r, 1, _rg(ring, t - 1, R_H), _rg(ring, t - 1, R_L), _rg(ring, t - 2, R_H)
                )
            else:
                _strat_levels_nb(
                    out, r, -1, _rg(ring, t - 1, R_L), _rg(ring, t - 1, R_H), _rg(ring, t - 2, R_L)
                )
            out[r, COL_TAG] = T_CONTINUATION if ty2 == ty0 else T_REVERSAL
    if ty0 == 1 and (ty1 == 2 or ty1 == 3):
        hi = _rg(ring, t, R_H)
        lo = _rg(ring, t, R_L)
        for d in (1, -1):
            r = _new_row_nb(out, istate, K_STRAT_21_SETUP, t, t, d, 0.0, 0.0, 0.0)
            if d > 0:
                _strat_levels_nb(out, r, 1, hi, lo, _rg(ring, t - 1, R_H))
                same = ty1 == 2
            else:
                _strat_levels_nb(out, r, -1, lo, hi, _rg(ring, t - 1, R_L))
                same = ty1 == 3
            out[r, COL_TAG] = T_CONTINUATION if same else T_REVERSAL
            out[r, COL_TOP] = hi
            out[r, COL_BOTTOM] = lo


# ============================================================================================
# 3.6 displacement
# ============================================================================================
@njit(cache=True, **NO_NRT)
def displacement_dir_nb(o, h, low, c, atr_prev, params):
    """Direction of a DISPLACEMENT candle (0 if none), §3.6: ``body >= mult * ATR[t-1]`` and
    ``body / range >= ratio``; needs ``ATR[t-1] > 0``, a range and a body."""
    body = abs(c - o)
    rng = h - low
    if not (atr_prev > 0.0) or rng <= 0.0 or c == o:
        return 0
    if body < params[P_DISP_MULT] * atr_prev or body / rng < params[P_DISP_RATIO]:
        return 0
    return 1 if c > o else -1


@njit(cache=True, **NO_NRT)
def displacement_emit_nb(t, o, h, low, c, atr_prev, d, params, istate, out):
    """Emit the DISPLACEMENT event of bar ``t`` in direction ``d`` (from
    :func:`displacement_dir_nb`)."""
    stop = low if d > 0 else h
    body = abs(c - o)
    r = _new_row_nb(
        out, istate, K_DISPLACEMENT, t, t, d, c, stop, r_target_nb(c, stop, d, params[P_RR])
    )
    out[r, COL_SIZE] = body
    out[r, COL_ATR] = atr_prev
    out[r, COL_RATIO] = body / (h - low)
    out[r, COL_MID] = 0.5 * (h + low)


# ============================================================================================
# 3.2 FVG and its lifecycle
# ============================================================================================
@njit(cache=True, **NO_NRT)
def _emit_fvg_row_nb(out, istate, kind, t, g):
    d = int(g[G_DIR])
    r = _new_row_nb(out, istate, kind, t, int(g[G_ANCHOR]), d, g[G_ENTRY], g[G_STOP], g[G_TARGET])
    out[r, COL_TOP] = g[G_TOP]
    out[r, COL_BOTTOM] = g[G_BOTTOM]
    out[r, COL_MID] = 0.5 * (g[G_TOP] + g[G_BOTTOM])
    out[r, COL_SIZE] = g[G_TOP] - g[G_BOTTOM]
    out[r, COL_MID_DISP] = g[G_MID_DISP]


@njit(cache=True, **NO_NRT)
def _fvg_block_reset_nb(fvg, phys, k):
    r = phys + k
    fvg[r, BT_BULL_MIT] = NEG_INF
    fvg[r, BT_BEAR_MIT] = POS_INF
    fvg[r, BT_BULL_FILL] = NEG_INF
    fvg[r, BT_BEAR_FILL] = POS_INF


@njit(cache=True, **NO_NRT)
def _fvg_block_add_nb(fvg, phys, i):
    """Fold gap row ``i`` into its block's thresholds."""
    r = phys + i // FVG_BLOCK
    if fvg[i, G_DIR] > 0:
        fvg[r, BT_BULL_FILL] = max(fvg[r, BT_BULL_FILL], fvg[i, G_BOTTOM])
        if fvg[i, G_MITIGATED] == 0.0:
            fvg[r, BT_BULL_MIT] = max(fvg[r, BT_BULL_MIT], fvg[i, G_TOP])
    elif fvg[i, G_DIR] < 0:
        fvg[r, BT_BEAR_FILL] = min(fvg[r, BT_BEAR_FILL], fvg[i, G_TOP])
        if fvg[i, G_MITIGATED] == 0.0:
            fvg[r, BT_BEAR_MIT] = min(fvg[r, BT_BEAR_MIT], fvg[i, G_BOTTOM])


@njit(cache=True, **NO_NRT)
def _fvg_global_nb(istate, fstate, fvg):
    """Pool thresholds = extremes of the block thresholds."""
    phys = istate[I_FVG_PHYS]
    th0, th1, th2, th3 = NEG_INF, POS_INF, NEG_INF, POS_INF
    end = istate[I_FVG_END]
    if end > istate[I_FVG_HEAD]:
        for k in range(istate[I_FVG_HEAD] // FVG_BLOCK, (end - 1) // FVG_BLOCK + 1):
            r = phys + k
            th0 = max(th0, fvg[r, BT_BULL_MIT])
            th1 = min(th1, fvg[r, BT_BEAR_MIT])
            th2 = max(th2, fvg[r, BT_BULL_FILL])
            th3 = min(th3, fvg[r, BT_BEAR_FILL])
    fstate[F_FVG_BULL_MIT] = th0
    fstate[F_FVG_BEAR_MIT] = th1
    fstate[F_FVG_BULL_FILL] = th2
    fstate[F_FVG_BEAR_FILL] = th3


@njit(cache=True, **NO_NRT)
def _fvg_kill_nb(istate, fvg, i):
    """Mark gap row ``i`` dead and move the head past leading dead rows."""
    fvg[i, G_DIR] = 0.0
    istate[I_NFVG] -= 1
    head = istate[I_FVG_HEAD]
    while head < istate[I_FVG_END] and fvg[head, G_DIR] == 0.0:
        head += 1
    istate[I_FVG_HEAD] = head


@njit(cache=True, **NO_NRT)
def _fvg_scan_block_nb(t, h, low, max_age, k, fills, istate, fvg, out):
    """One block, one pass: mitigations (``fills`` False) or fills and expiry (True);
    events in creation order; recomputes the block's thresholds."""
    phys = istate[I_FVG_PHYS]
    lo_i = max(k * FVG_BLOCK, istate[I_FVG_HEAD])
    hi_i = min((k + 1) * FVG_BLOCK, istate[I_FVG_END])
    _fvg_block_reset_nb(fvg, phys, k)
    for i in range(lo_i, hi_i):
        d = fvg[i, G_DIR]
        if d == 0.0:
            continue
        created = fvg[i, G_CREATED]
        if created < t:
            expired = max_age > 0 and t - created > max_age
            if expired and fills:
                _fvg_kill_nb(istate, fvg, i)
                continue
            bull = d > 0
            if not expired and fills:
                if low <= fvg[i, G_BOTTOM] if bull else h >= fvg[i, G_TOP]:
                    _emit_fvg_row_nb(out, istate, K_FVG_FILLED, t, fvg[i])
                    _fvg_kill_nb(istate, fvg, i)
                    continue
            else:
                touch = low <= fvg[i, G_TOP] if bull else h >= fvg[i, G_BOTTOM]
                if not expired and fvg[i, G_MITIGATED] == 0.0 and touch:
                    fvg[i, G_MITIGATED] = 1.0
                    _emit_fvg_row_nb(out, istate, K_FVG_MITIGATED, t, fvg[i])
        _fvg_block_add_nb(fvg, phys, i)


@njit(cache=True, **NO_NRT)
def _fvg_pass_nb(t, h, low, max_age, fills, expire, istate, fstate, fvg, out):
    """Scan the blocks whose thresholds bar ``t`` crosses (all blocks when gaps expire), and
    fold every block's thresholds into the pool thresholds on the way.

    Same pool thresholds as :func:`_fvg_global_nb` after the pass: a block the head moves
    past during the pass had its last live gap killed by its own scan, so its thresholds are
    empty (+/-inf) and fold to nothing.
    """
    phys = istate[I_FVG_PHYS]
    a = BT_BULL_FILL if fills else BT_BULL_MIT
    b = BT_BEAR_FILL if fills else BT_BEAR_MIT
    end = istate[I_FVG_END]
    th0, th1, th2, th3 = NEG_INF, POS_INF, NEG_INF, POS_INF
    for k in range(istate[I_FVG_HEAD] // FVG_BLOCK, (end - 1) // FVG_BLOCK + 1):
        r = phys + k
        if expire or low <= fvg[r, a] or h >= fvg[r, b]:
            _fvg_scan_block_nb(t, h, low, max_age, k, fills, istate, fvg, out)
        th0 = max(th0, fvg[r, BT_BULL_MIT])
        th1 = min(th1, fvg[r, BT_BEAR_MIT])
        th2 = max(th2, fvg[r, BT_BULL_FILL])
        th3 = min(th3, fvg[r, BT_BEAR_FILL])
    fstate[F_FVG_BULL_MIT] = th0
    fstate[F_FVG_BEAR_MIT] = th1
    fstate[F_FVG_BULL_FILL] = th2
    fstate[F_FVG_BEAR_FILL] = th3


@njit(cache=True, **NO_NRT)
def fvg_lifecycle_step_nb(t, h, low, params, istate, fstate, fvg, out):
    """FVG_MITIGATED then FVG_FILLED events of the gaps created before ``t`` (creation order
    within each kind); filled and expired gaps leave the pool. Bars that reach no gap cost
    O(1); others scan only the blocks of gaps they can reach."""
    if istate[I_NFVG] == 0:
        return
    max_age = params[P_FVG_MAX_AGE]
    if low <= fstate[F_FVG_BULL_MIT] or h >= fstate[F_FVG_BEAR_MIT]:
        _fvg_pass_nb(t, h, low, max_age, False, False, istate, fstate, fvg, out)
    expire = max_age > 0 and t - fvg[istate[I_FVG_HEAD], G_CREATED] > max_age
    if expire or low <= fstate[F_FVG_BULL_FILL] or h >= fstate[F_FVG_BEAR_FILL]:
        _fvg_pass_nb(t, h, low, max_age, True, expire, istate, fstate, fvg, out)


@njit(cache=True, **NO_NRT)
def _fvg_compact_nb(istate, fvg):
    """Move the live gaps to rows ``0..n-1`` (creation order) and rebuild block thresholds."""
    phys = istate[I_FVG_PHYS]
    keep = 0
    for i in range(istate[I_FVG_HEAD], istate[I_FVG_END]):
        if fvg[i, G_DIR] != 0.0:
            if keep != i:
                for j in range(NFVG):
                    fvg[keep, j] = fvg[i, j]
            keep += 1
    istate[I_FVG_HEAD] = 0
    istate[I_FVG_END] = keep
    for k in range(fvg.shape[0] - phys):
        _fvg_block_reset_nb(fvg, phys, k)
    for i in range(keep):
        _fvg_block_add_nb(fvg, phys, i)


@njit(cache=True, **NO_NRT)
def _fvg_insert_nb(istate, fstate, fvg, cap):
    """Row for a new gap: evicts the oldest live gap when ``cap`` are live, compacts when the
    backing rows run out. The caller fills the row, then calls :func:`_fvg_block_add_nb`."""
    if istate[I_NFVG] >= cap:
        _fvg_kill_nb(istate, fvg, istate[I_FVG_HEAD])
    if istate[I_FVG_END] == istate[I_FVG_PHYS]:
        _fvg_compact_nb(istate, fvg)
        _fvg_global_nb(istate, fstate, fvg)
    i = istate[I_FVG_END]
    if i % FVG_BLOCK == 0:
        _fvg_block_reset_nb(fvg, istate[I_FVG_PHYS], i // FVG_BLOCK)
    istate[I_FVG_END] = i + 1
    istate[I_NFVG] += 1
    return i


@njit(cache=True, **NO_NRT)
def fvg_step_nb(t, ring, atr_prev, params, istate, out):
    """New FVG at ``t`` (candles ``t-2, t-1, t``; anchor ``t-1``), §3.2: emits the event and
    returns its row (-1 if none); :func:`fvg_add_nb` then puts it in the pool (when the pool
    is full the oldest gap is evicted and gets no further lifecycle events)."""
    if t < 2:
        return -1
    a = t - 2
    b = t - 1
    h_t = _rg(ring, t, R_H)
    l_t = _rg(ring, t, R_L)
    if l_t > _rg(ring, a, R_H):
        d = 1
        top = l_t
        bottom = _rg(ring, a, R_H)
    elif h_t < _rg(ring, a, R_L):
        d = -1
        top = _rg(ring, a, R_L)
        bottom = h_t
    else:
        return -1
    size = top - bottom
    if size <= params[P_FVG_MIN_GAP]:
        return -1
    if params[P_FVG_MIN_GAP_ATR] > 0.0 and not (size > params[P_FVG_MIN_GAP_ATR] * atr_prev):
        return -1
    if params[P_FVG_REQ_COLOR] > 0.0:
        ob = _rg(ring, b, R_O)
        cb = _rg(ring, b, R_C)
        if (d > 0 and not cb > ob) or (d < 0 and not cb < ob):
            return -1
    if d > 0:
        entry = top
        stop = min(_rg(ring, a, R_L), _rg(ring, b, R_L))
    else:
        entry = bottom
        stop = max(_rg(ring, a, R_H), _rg(ring, b, R_H))
    target = r_target_nb(entry, stop, d, params[P_RR])
    r = _new_row_nb(out, istate, K_FVG, t, b, d, entry, stop, target)
    out[r, COL_TOP] = top
    out[r, COL_BOTTOM] = bottom
    out[r, COL_MID] = 0.5 * (top + bottom)
    out[r, COL_SIZE] = size
    out[r, COL_MID_DISP] = 1.0 if istate[I_DISP_PREV] == d else 0.0
    return r


@njit(cache=True, **NO_NRT)
def fvg_add_nb(t, row, istate, fstate, fvg):
    """Put the gap of FVG event ``row`` (emitted at ``t``) into the pool. Runs after the
    lifecycle step of ``t``, so a gap evicted to make room still saw bar ``t``."""
    i = _fvg_insert_nb(istate, fstate, fvg, istate[I_FVG_PHYS] // 2)
    d = row[COL_DIR]
    fvg[i, G_DIR] = d
    fvg[i, G_TOP] = row[COL_TOP]
    fvg[i, G_BOTTOM] = row[COL_BOTTOM]
    fvg[i, G_ANCHOR] = row[COL_ANCHOR]
    fvg[i, G_CREATED] = t
    fvg[i, G_MITIGATED] = 0.0
    fvg[i, G_ENTRY] = row[COL_ENTRY]
    fvg[i, G_STOP] = row[COL_STOP]
    fvg[i, G_TARGET] = row[COL_TARGET]
    fvg[i, G_MID_DISP] = row[COL_MID_DISP]
    _fvg_block_add_nb(fvg, istate[I_FVG_PHYS], i)
    if d > 0:
        fstate[F_FVG_BULL_MIT] = max(fstate[F_FVG_BULL_MIT], row[COL_TOP])
        fstate[F_FVG_BULL_FILL] = max(fstate[F_FVG_BULL_FILL], row[COL_BOTTOM])
    else:
        fstate[F_FVG_BEAR_MIT] = min(fstate[F_FVG_BEAR_MIT], row[COL_BOTTOM])
        fstate[F_FVG_BEAR_FILL] = min(fstate[F_FVG_BEAR_FILL], row[COL_TOP])


# ============================================================================================
# 3.7 VOLUME_SURGE and ORB
# ============================================================================================
@njit(cache=True, **NO_NRT)
def volume_step_nb(t, o, h, low, c, v, params, istate, ring, out):
    """VOLUME_SURGE at ``t``: ``V[t] >= mult * mean(V[t-N..t-1])`` (mean > 0) and
    ``|C-O| >= body_ratio * (H-L)``; direction = sign(C-O) (dojis never fire)."""
    n = int(params[P_VOL_N])
    if t < n:
        return
    s = 0.0
    for k in range(t - n, t):
        s += _rg(ring, k, R_V)
    mean = s / n
    rng = h - low
    if not mean > 0.0 or rng <= 0.0 or c == o:
        return
    if v < params[P_VOL_MULT] * mean or abs(c - o) < params[P_VOL_BODY] * rng:
        return
    d = 1 if c > o else -1
    stop = low if d > 0 else h
    r = _new_row_nb(
        out, istate, K_VOLUME_SURGE, t, t, d, c, stop, r_target_nb(c, stop, d, params[P_RR])
    )
    out[r, COL_RATIO] = v / mean
    out[r, COL_SIZE] = abs(c - o)


@njit(cache=True, **NO_NRT)
def orb_step_nb(t, ts, h, low, c, sess_open, params, istate, fstate, out):
    """ORB (§3.7): bars opening within ``orb_minutes`` of the session open build the range;
    the first later bar of the session closing beyond it emits (once per direction).
    ``sess_open`` is the bar's regular-session open in ns, or -1 outside a session."""
    if params[P_INTRADAY] == 0.0 or sess_open < 0:
        return
    if sess_open != istate[I_SESS_OPEN]:
        istate[I_SESS_OPEN] = sess_open
        istate[I_ORB_HAS] = 0
        istate[I_ORB_UP_DONE] = 0
        istate[I_ORB_DN_DONE] = 0
        fstate[F_ORB_HI] = NEG_INF
        fstate[F_ORB_LO] = POS_INF
    if ts < sess_open + np.int64(params[P_ORB_NS]):
        fstate[F_ORB_HI] = max(fstate[F_ORB_HI], h)
        fstate[F_ORB_LO] = min(fstate[F_ORB_LO], low)
        istate[I_ORB_HAS] = 1
        return
    if istate[I_ORB_HAS] == 0:
        return
    hi = fstate[F_ORB_HI]
    lo = fstate[F_ORB_LO]
    if istate[I_ORB_UP_DONE] == 0 and c > hi:
        istate[I_ORB_UP_DONE] = 1
        r = _new_row_nb(out, istate, K_ORB, t, t, 1, c, lo, r_target_nb(c, lo, 1, params[P_RR]))
    elif istate[I_ORB_DN_DONE] == 0 and c < lo:
        istate[I_ORB_DN_DONE] = 1
        r = _new_row_nb(out, istate, K_ORB, t, t, -1, c, hi, r_target_nb(c, hi, -1, params[P_RR]))
    else:
        return
    out[r, COL_TOP] = hi
    out[r, COL_BOTTOM] = lo
