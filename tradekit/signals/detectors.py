"""Batch detection: pandas bars in, one event row per detector event out (SIGNALS.md §3).

:func:`detect` validates the bars, runs every detector over them in one numba loop
(:func:`tradekit.signals.nb_step.batch_nb`, the same per-bar step the streaming
:class:`~tradekit.signals.generator.SignalGenerator` uses) and returns the events as a
DataFrame in the :data:`~tradekit.signals.records.EVENT_COLUMNS` format. :func:`detect_arrays`
is the pandas-free variant for callers that hold arrays (the multi-timeframe layer), and
:func:`detect_smt` runs the SMT divergence detector on two aligned instruments.

Examples
--------
>>> from tradekit.testing import bars_from_rows
>>> bars = bars_from_rows([(10, 11, 9, 10, 1), (10, 12, 10, 11, 1), (11, 11.5, 10.5, 11, 1),
...                        (11, 13, 10.8, 12.5, 1)], freq="1D")
>>> detect(bars, kinds=["STRAT_212"])[["kind", "index", "anchor_index", "direction", "tag"]]
        kind  index  anchor_index  direction           tag
0  STRAT_212      3             2          1  CONTINUATION
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.config import AlgorithmConfig, SignalConfig
from tradekit.data.calendar import get_calendar
from tradekit.data.resample import session_positions
from tradekit.data.schema import bars_to_arrays, infer_bar_duration_ns, validate_bars
from tradekit.errors import DataError
from tradekit.signals import nb
from tradekit.signals.nb_step import batch_nb, events_sorted_nb, smt_batch_nb
from tradekit.signals.nb_structure import new_smt_state
from tradekit.signals.records import (
    COL_ANCHOR,
    COL_DIR,
    COL_ENTRY,
    COL_INDEX,
    COL_KIND,
    COL_STOP,
    COL_TAG,
    COL_TARGET,
    EVENT_COLUMNS,
    KIND_NAMES,
    LEVEL_COLUMNS,
    NCOL,
    TAG_NAMES,
    kind_code,
)

__all__ = [
    "DetectorState",
    "benchmark_batch",
    "detect",
    "detect_arrays",
    "detect_smt",
    "events_frame",
    "groups_for",
    "params_from_config",
    "smt_arrays",
    "sort_events",
]

_DAY_NS = 86_400_000_000_000
#: Kind / tag names indexed by code (object arrays: one vectorised take per frame).
_KIND_NAME_ARR = np.array([KIND_NAMES[k] for k in range(len(KIND_NAMES))], dtype=object)
_TAG_NAME_ARR = np.array([TAG_NAMES[k] for k in range(len(TAG_NAMES))], dtype=object)


#: Detector groups (``nb.G_*`` bits) that must run to produce each kind.
_KIND_GROUPS: dict[str, int] = {
    "STRAT_212": nb.G_STRAT,
    "STRAT_21_SETUP": nb.G_STRAT,
    "SWING_HIGH": nb.G_SWING,
    "SWING_LOW": nb.G_SWING,
    "BOS": nb.G_STRUCT,
    "CHOCH": nb.G_STRUCT,
    "MSS": nb.G_STRUCT,
    "SWEEP_LOW": nb.G_SWEEP | nb.G_PRIOR_DAY,
    "SWEEP_HIGH": nb.G_SWEEP | nb.G_PRIOR_DAY,
    "SMT": nb.G_SWING,
    "FVG": nb.G_FVG,
    "FVG_MITIGATED": nb.G_FVG,
    "FVG_FILLED": nb.G_FVG,
    "DISPLACEMENT": nb.G_DISP,
    "BREAKER": nb.G_BREAKER,
    "VOLUME_SURGE": nb.G_VOLUME,
    "ORB": nb.G_ORB,
}
#: Group → groups it depends on (state it reads).
_GROUP_DEPS: dict[int, int] = {
    nb.G_FVG: nb.G_DISP,
    nb.G_STRUCT: nb.G_SWING | nb.G_DISP,
    nb.G_BREAKER: nb.G_STRUCT | nb.G_SWING | nb.G_DISP,
    nb.G_SWEEP: nb.G_SWING,
}


def groups_for(kind_codes: Iterable[int] | None) -> int:
    """Bitmask of the detector groups needed for these kind codes (all when None).

    Running only the needed groups is faster and gives identical events for those kinds.
    Market structure (BOS/CHOCH) always runs, because the per-bar ``bias`` is an output.
    """
    if kind_codes is None:
        return nb.G_ALL
    mask = nb.G_STRUCT
    for code in kind_codes:
        mask |= _KIND_GROUPS[KIND_NAMES[int(code)]]
    for bit, deps in _GROUP_DEPS.items():
        if mask & bit:
            mask |= deps
    return mask


def params_from_config(cfg: SignalConfig, *, intraday: bool, groups: int = nb.G_ALL) -> FloatArray:
    """The kernel parameter vector (``nb.P_*`` slots) of a :class:`SignalConfig`.

    ``intraday`` enables the detectors that only make sense on intraday bars (prior-day
    sweeps, ORB); ``groups`` selects the detector groups to run (see :func:`groups_for`).
    """
    p = np.zeros(nb.NPARAM, dtype=np.float64)
    p[nb.P_ATR_PERIOD] = cfg.atr_period
    p[nb.P_RR] = cfg.rr
    p[nb.P_LEFT] = cfg.swing_left
    p[nb.P_RIGHT] = cfg.swing_right
    p[nb.P_BREAK_WICK] = 1.0 if cfg.break_on == "wick" else 0.0
    p[nb.P_FVG_MIN_GAP] = cfg.fvg_min_gap
    p[nb.P_FVG_MIN_GAP_ATR] = cfg.fvg_min_gap_atr
    p[nb.P_FVG_REQ_COLOR] = 1.0 if cfg.fvg_require_middle_color else 0.0
    p[nb.P_FVG_MAX_AGE] = cfg.fvg_max_age_bars or 0
    p[nb.P_SWEEP_MAX_AGE] = cfg.sweep_max_age_bars or 0
    p[nb.P_EQ_ATR] = cfg.sweep_equal_levels_atr
    p[nb.P_DAY_OFFSET_NS] = round(cfg.day_offset_hours * 3_600_000_000_000)
    p[nb.P_DISP_MULT] = cfg.displacement_body_atr_mult
    p[nb.P_DISP_RATIO] = cfg.displacement_min_body_ratio
    p[nb.P_BRK_MAX_AGE] = cfg.breaker_max_age_bars
    p[nb.P_VOL_N] = cfg.volume_window
    p[nb.P_VOL_MULT] = cfg.volume_mult
    p[nb.P_VOL_BODY] = cfg.volume_min_body_ratio
    p[nb.P_ORB_NS] = cfg.orb_minutes * 60_000_000_000
    p[nb.P_INTRADAY] = 1.0 if intraday else 0.0
    p[nb.P_SMT_MAX_LAG] = cfg.smt_max_lag_bars
    p[nb.P_GROUPS] = groups
    return p


@dataclass
class DetectorState:
    """Every array the detector kernels read and write (see :mod:`tradekit.signals.nb`).

    Plain numpy arrays, so the state pickles and can be restored with :meth:`from_dict`
    after a crash.
    """

    params: FloatArray
    istate: IntArray
    fstate: FloatArray
    ring: FloatArray
    fvg: FloatArray
    swh: FloatArray
    swl: FloatArray
    brk: FloatArray

    @classmethod
    def new(cls, cfg: SignalConfig, *, intraday: bool, groups: int = nb.G_ALL) -> DetectorState:
        """Fresh state (no bars seen) sized from the config, running ``groups``."""
        istate = np.zeros(nb.NISTATE, dtype=np.int64)
        for k in (
            nb.I_SH_ANCHOR,
            nb.I_SL_ANCHOR,
            nb.I_LB_IDX,
            nb.I_LU_IDX,
            nb.I_SESS_OPEN,
            nb.I_SH_ZONE_IDX,
            nb.I_SL_ZONE_IDX,
            nb.I_SH_EXT_IDX,
            nb.I_SL_EXT_IDX,
            nb.I_PEND_BULL,
            nb.I_PEND_BEAR,
        ):
            istate[k] = -1
        fstate = np.full(nb.NFSTATE, np.nan)
        fstate[nb.F_TR_SUM] = 0.0
        fstate[nb.F_FVG_BULL_MIT] = -np.inf  # empty pools: no price needs a look
        fstate[nb.F_FVG_BEAR_MIT] = np.inf
        fstate[nb.F_FVG_BULL_FILL] = -np.inf
        fstate[nb.F_FVG_BEAR_FILL] = np.inf
        istate[nb.I_FVG_PHYS] = 2 * cfg.fvg_max_active
        fstate[nb.F_SWH_MIN] = np.inf
        fstate[nb.F_SWL_MAX] = -np.inf
        rows = nb.ring_size(cfg.swing_left, cfg.swing_right, cfg.volume_window)
        return cls(
            params=params_from_config(cfg, intraday=intraday, groups=groups),
            istate=istate,
            fstate=fstate,
            ring=np.full((rows, nb.NRING), np.nan),
            fvg=_new_fvg_pool(cfg.fvg_max_active),
            swh=np.zeros((cfg.sweep_max_levels, 2)),
            swl=np.zeros((cfg.sweep_max_levels, 2)),
            brk=np.zeros((cfg.breaker_max_zones, nb.NBRK)),
        )

    @property
    def per_bar(self) -> int:
        """Upper bound of events one bar can emit with these pool sizes."""
        return nb.max_events_per_bar(int(self.istate[nb.I_FVG_PHYS]) // 2, self.brk.shape[0])

    def to_dict(self) -> dict[str, np.ndarray]:
        """Copies of all arrays, keyed by field name."""
        return {f.name: getattr(self, f.name).copy() for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, np.ndarray]) -> DetectorState:
        """Inverse of :meth:`to_dict` (validates names and dtypes)."""
        names = {f.name for f in fields(cls)}
        if set(data) != names:
            raise DataError(f"detector state needs keys {sorted(names)}, got {sorted(data)}")
        f = {k: np.array(v, dtype=np.float64) for k, v in data.items() if k != "istate"}
        return cls(
            params=f["params"],
            istate=np.array(data["istate"], dtype=np.int64),
            fstate=f["fstate"],
            ring=f["ring"],
            fvg=f["fvg"],
            swh=f["swh"],
            swl=f["swl"],
            brk=f["brk"],
        )


def _new_fvg_pool(cap: int) -> FloatArray:
    """Gap rows (2 cap) followed by one threshold row per block, thresholds empty."""
    phys = 2 * cap
    pool = np.zeros((phys + -(-phys // nb.FVG_BLOCK), nb.NFVG))
    pool[phys:, nb.BT_BULL_MIT] = -np.inf
    pool[phys:, nb.BT_BEAR_MIT] = np.inf
    pool[phys:, nb.BT_BULL_FILL] = -np.inf
    pool[phys:, nb.BT_BEAR_FILL] = np.inf
    return pool


def _bar_ns(ts: IntArray, timeframe: str | None) -> int:
    """Bar duration from the timeframe string, else inferred from the data (0 if < 2 bars)."""
    if timeframe is not None:
        try:
            offset = pd.tseries.frequencies.to_offset(timeframe)
        except (ValueError, TypeError):
            raise DataError(f"cannot parse timeframe {timeframe!r}", rule="timeframe") from None
        try:
            return int(pd.Timedelta(offset).value)
        except (ValueError, TypeError):
            return 7 * _DAY_NS  # calendar offsets (week, month): never intraday
    if ts.shape[0] < 2:
        return 0
    return infer_bar_duration_ns(ts)


def _session_opens(ts: IntArray, intraday: bool, calendar: str | None) -> IntArray:
    if not intraday or calendar is None or ts.shape[0] == 0:
        return np.full(ts.shape[0], -1, dtype=np.int64)
    opens, _, _ = session_positions(ts, get_calendar(calendar))
    return np.ascontiguousarray(opens, dtype=np.int64)


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``: the kernels then see one array type (so one compiled
    signature) whether the caller's arrays are writable (resampled HTF bars) or not
    (``bars_to_arrays`` of a copy-on-write frame). Free: no data is copied."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def _run(
    state: DetectorState,
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    sess_open: IntArray,
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """Run the batch kernel over all bars, growing the event buffer as needed."""
    ts, o, h, lo, c, v = (_readonly(a) for a in arrays)
    sess_open = _readonly(sess_open)
    n = ts.shape[0]
    per_bar = state.per_bar
    # np.empty does not touch memory: only the rows actually written are committed
    out = np.empty((max(1024, 2 * n + per_bar), NCOL))
    bias = np.zeros(n, dtype=np.int64)
    sh = np.full(n, np.nan)
    sl = np.full(n, np.nan)
    while True:
        pos = batch_nb(
            ts,
            o,
            h,
            lo,
            c,
            v,
            sess_open,
            state.params,
            state.istate,
            state.fstate,
            state.ring,
            state.fvg,
            state.swh,
            state.swl,
            state.brk,
            out,
            per_bar,
            bias,
            sh,
            sl,
        )
        if pos >= n:
            break
        grown = np.empty((out.shape[0] * 2, NCOL))
        grown[: out.shape[0]] = out
        out = grown
    return out[: state.istate[nb.I_NOUT]], bias, sh, sl


def sort_events(events: FloatArray) -> FloatArray:
    """Rows ordered by (index, kind code), stable within a kind (kernel order).

    The kernels already emit in this order except in rare bars (a bullish and a bearish
    structure break on one bar), so the input is returned as is when already sorted.
    """
    if events.shape[0] < 2:
        return events
    if events_sorted_nb(events):
        return events
    key = events[:, COL_INDEX] * 64.0 + events[:, COL_KIND]
    return np.ascontiguousarray(events[np.argsort(key, kind="stable")])


def detect_arrays(
    ts_ns: IntArray,
    o: FloatArray,
    h: FloatArray,
    l: FloatArray,  # noqa: E741
    c: FloatArray,
    v: FloatArray,
    config: AlgorithmConfig | SignalConfig | None = None,
    *,
    bar_ns: int | None = None,
    calendar: str | None = "XNYS",
    session_open: IntArray | None = None,
    kinds: Iterable[str] | None = None,
) -> tuple[FloatArray, IntArray]:
    """Run every detector on contract-valid arrays (no pandas, no validation).

    Parameters
    ----------
    ts_ns, o, h, l, c, v:
        Bar open times (int64 ns UTC, strictly increasing) and float64 OHLCV.
    config:
        Detector parameters (``AlgorithmConfig`` or its ``signals`` section); default config
        when None.
    bar_ns:
        Bar duration in ns; inferred from ``ts_ns`` when None. Bars shorter than one day
        enable the intraday-only detectors (prior-day sweeps, ORB).
    calendar:
        Exchange calendar for ORB session opens (None disables ORB).
    session_open:
        Per-bar session open ns (-1 outside) to use instead of ``calendar``.
    kinds:
        Only run the detectors these kinds need (default: ``config.signals.kinds`` or all);
        rows of other kinds the needed detectors emit are kept (filter on ``COL_KIND``).

    Returns
    -------
    events : ndarray, shape (n_events, NCOL)
        Event rows sorted by (index, kind code); columns are ``records.COL_*``.
    bias : ndarray of int64, shape (n,)
        BOS/CHOCH trend bias after each bar (§3.4): +1, -1 or 0 before the first break.
    """
    sc = _signal_config(config)
    ts = np.ascontiguousarray(ts_ns, dtype=np.int64)
    arrays = (ts, *(np.ascontiguousarray(x, dtype=np.float64) for x in (o, h, l, c, v)))
    if any(a.shape != ts.shape for a in arrays):
        raise DataError("detect_arrays: all arrays must have the same length", rule="shape")
    intraday = _is_intraday(ts, bar_ns)
    if session_open is None:
        sess = _session_opens(ts, intraday, calendar)
    else:
        sess = np.ascontiguousarray(session_open, dtype=np.int64)
    state = DetectorState.new(sc, intraday=intraday, groups=groups_for(_kind_filter(kinds, sc)))
    events, bias, _, _ = _run(state, arrays, sess)  # type: ignore[arg-type]
    return sort_events(events), bias


def _is_intraday(ts: IntArray, bar_ns: int | None) -> bool:
    dur = _bar_ns(ts, None) if bar_ns is None else int(bar_ns)
    return 0 < dur < _DAY_NS


def _signal_config(config: AlgorithmConfig | SignalConfig | None) -> SignalConfig:
    if config is None:
        return SignalConfig()
    if isinstance(config, AlgorithmConfig):
        return config.signals
    if isinstance(config, SignalConfig):
        return config
    raise DataError(f"config must be AlgorithmConfig or SignalConfig, got {type(config).__name__}")


def _kind_filter(kinds: Iterable[str] | None, cfg: SignalConfig) -> set[int] | None:
    chosen = kinds if kinds is not None else cfg.kinds
    if chosen is None:
        return None
    if isinstance(chosen, str):
        chosen = [chosen]
    return {kind_code(k) for k in chosen}


def events_frame(
    events: FloatArray, ts_ns: IntArray, kinds: set[int] | None = None
) -> pd.DataFrame:
    """Event rows → the :data:`EVENT_COLUMNS` DataFrame (optionally only some kind codes)."""
    if kinds is not None and events.shape[0]:
        events = events[np.isin(events[:, COL_KIND].astype(np.int64), list(kinds))]
    idx = events[:, COL_INDEX].astype(np.int64)
    data: dict[str, object] = {
        "kind": pd.array(_KIND_NAME_ARR[events[:, COL_KIND].astype(np.intp)], dtype="str"),
        "index": idx,
        "ts": pd.DatetimeIndex(np.asarray(ts_ns, dtype=np.int64)[idx], tz="UTC").as_unit("ns")
        if idx.shape[0]
        else pd.DatetimeIndex([], tz="UTC").as_unit("ns"),
        "anchor_index": events[:, COL_ANCHOR].astype(np.int64),
        "direction": events[:, COL_DIR].astype(np.int64),
        "entry": events[:, COL_ENTRY],
        "stop": events[:, COL_STOP],
        "target": events[:, COL_TARGET],
        "tag": pd.array(_TAG_NAME_ARR[events[:, COL_TAG].astype(np.intp)], dtype="str"),
    }
    for name, col in LEVEL_COLUMNS:
        data[name] = events[:, col]
    df = pd.DataFrame(data, columns=list(EVENT_COLUMNS))
    df["ts"] = pd.DatetimeIndex(df["ts"]).as_unit("ns")
    return df.reset_index(drop=True)


def detect(
    bars: pd.DataFrame,
    config: AlgorithmConfig | SignalConfig | None = None,
    kinds: Iterable[str] | None = None,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    calendar: str | None = "XNYS",
) -> pd.DataFrame:
    """Detect every signal event in a bar frame (SIGNALS.md §3), without look-ahead.

    Parameters
    ----------
    bars:
        OHLCV bars (tz-aware UTC index of bar open times). Validated with
        :func:`~tradekit.data.schema.validate_bars` first; invalid bars raise ``DataError``.
    config:
        Parameters (``config.signals``); defaults when None.
    kinds:
        Kind names to keep (default: ``config.signals.kinds`` or all). Helper kinds
        (``SWING_HIGH``, ``FVG_MITIGATED``, ``STRAT_21_SETUP``, ...) may be named too.
    symbol, timeframe:
        Added as columns when given; ``timeframe`` (a pandas offset such as ``"1min"``)
        also fixes the bar duration instead of inferring it.
    calendar:
        Exchange calendar of the ORB session (intraday data only); None disables ORB.

    Returns
    -------
    pandas.DataFrame
        One row per event, columns :data:`~tradekit.signals.records.EVENT_COLUMNS`, sorted by
        (index, kind code). ``index`` is the emission bar, ``ts`` its open time; the event
        may be acted on from bar ``index + 1``.
    """
    sc = _signal_config(config)
    clean = validate_bars(bars)
    ts, o, h, lo, c, v = bars_to_arrays(clean)
    bar_ns = _bar_ns(ts, timeframe)
    wanted = _kind_filter(kinds, sc)
    names = None if wanted is None else [KIND_NAMES[k] for k in wanted]
    events, _ = detect_arrays(ts, o, h, lo, c, v, sc, bar_ns=bar_ns, calendar=calendar, kinds=names)
    df = events_frame(events, ts, wanted)
    if symbol is not None:
        df["symbol"] = symbol
    if timeframe is not None:
        df["timeframe"] = timeframe
    return df


def detect_smt(
    bars_a: pd.DataFrame,
    bars_b: pd.DataFrame,
    config: AlgorithmConfig | SignalConfig | None = None,
) -> pd.DataFrame:
    """SMT divergence events on instrument A against B (SIGNALS.md §3.7).

    The two frames are aligned on their common timestamps (inner join); ``index`` and
    ``anchor_index`` are positions in that common series. Swings are those of §3.3 with the
    configured ``swing_left/right``.

    Returns
    -------
    pandas.DataFrame
        SMT rows in the :data:`EVENT_COLUMNS` format (``level`` = A's swing, ``other_level``
        = B's); the ``ts`` column locates them unambiguously.
    """
    sc = _signal_config(config)
    a = validate_bars(bars_a)
    b = validate_bars(bars_b)
    common = a.index.intersection(b.index)
    a, b = a.loc[common], b.loc[common]
    arr_a = bars_to_arrays(a)
    arr_b = bars_to_arrays(b)
    ts = arr_a[0]
    sh_a, sl_a = _swings(sc, arr_a)
    sh_b, sl_b = _swings(sc, arr_b)
    events = smt_arrays(sc, arr_a[2], arr_a[3], arr_a[4], sh_a, sl_a, sh_b, sl_b)
    return events_frame(events, ts)


def _swings(
    sc: SignalConfig,
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    state = DetectorState.new(sc, intraday=False, groups=nb.G_SWING)
    sess = np.full(arrays[0].shape[0], -1, dtype=np.int64)
    _, _, sh, sl = _run(state, arrays, sess)
    return sh, sl


def smt_arrays(
    sc: SignalConfig,
    h_a: FloatArray,
    l_a: FloatArray,
    c_a: FloatArray,
    sh_a: FloatArray,
    sl_a: FloatArray,
    sh_b: FloatArray,
    sl_b: FloatArray,
) -> FloatArray:
    """SMT rows from per-bar confirmed swing levels of A and B (NaN where none)."""
    n = h_a.shape[0]
    out = np.empty((2 * n + 2, NCOL))
    cnt = np.zeros(nb.NISTATE, dtype=np.int64)
    params = params_from_config(sc, intraday=False)
    k = smt_batch_nb(h_a, l_a, c_a, sh_a, sl_a, sh_b, sl_b, params, new_smt_state(), cnt, out)
    return sort_events(out[:k])


def benchmark_batch(
    bars: pd.DataFrame,
    config: AlgorithmConfig | SignalConfig | None = None,
    *,
    timeframe: str | None = None,
    kinds: Iterable[str] | None = None,
    repeat: int = 3,
) -> list[dict[str, float | int | str]]:
    """Time the batch kernels on ``bars`` (for ``benchmarks/bench_signals.py``).

    One row for all detectors together, one for the baseline that always runs (bar intake,
    swings, displacement and BOS/CHOCH for the ``bias`` output), then one per kind (running
    only the detector groups that kind needs, see :func:`groups_for`, so each includes the
    baseline). Session opens are computed once beforehand, so the figures are kernel time
    plus buffer handling. Best of ``repeat``.

    Returns
    -------
    list of dict
        ``name``, ``seconds``, ``ns_per_bar``, ``n_bars``, ``n_events``.
    """
    import time

    sc = _signal_config(config)
    clean = validate_bars(bars)
    ts, o, h, lo, c, v = bars_to_arrays(clean)
    bar_ns = _bar_ns(ts, timeframe)
    sess = _session_opens(ts, _is_intraday(ts, bar_ns), "XNYS")
    names = list(kinds) if kinds is not None else sorted(_KIND_GROUPS, key=kind_code)
    rows: list[dict[str, float | int | str]] = []
    cases: list[tuple[str, list[str] | None]] = [("all", None), ("baseline", [])]
    for label, sel in [*cases, *((k, [k]) for k in names)]:
        best, n_ev = float("inf"), 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            ev, _ = detect_arrays(
                ts, o, h, lo, c, v, sc, bar_ns=bar_ns, session_open=sess, kinds=sel
            )
            best = min(best, time.perf_counter() - t0)
            codes = [kind_code(k) for k in sel] if sel is not None else None
            n_ev = ev.shape[0] if codes is None else int(np.isin(ev[:, COL_KIND], codes).sum())
        rows.append(
            {
                "name": f"detect[{label}]",
                "seconds": best,
                "ns_per_bar": best / max(1, ts.shape[0]) * 1e9,
                "n_bars": int(ts.shape[0]),
                "n_events": n_ev,
            }
        )
    return rows
