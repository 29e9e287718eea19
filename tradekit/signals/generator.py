"""Streaming signal generation: one closed bar in, that bar's signals out.

:class:`SignalGenerator` feeds each bar to :func:`tradekit.signals.nb_step.step_all_nb`, the
same kernel :func:`tradekit.signals.detectors.detect` loops over, so a bar-by-bar run equals
the batch run exactly. All state is numpy arrays (:class:`~tradekit.signals.detectors.
DetectorState`), saved and restored with :meth:`SignalGenerator.state_dict` /
:meth:`SignalGenerator.load_state_dict`. :class:`PairSignalGenerator` adds SMT divergence for
two instruments fed together.

Examples
--------
>>> from tradekit.core.events import Bar
>>> gen = SignalGenerator(None, "SPY", "1D")
>>> rows = [(10, 11, 9, 10), (10, 12, 10, 11), (11, 11.5, 10.5, 11), (11, 13, 10.8, 12.5)]
>>> out = [gen.update(Bar("SPY", "1D", i * 86_400_000_000_000, *r, 1.0, 86_400_000_000_000))
...        for i, r in enumerate(rows)]
>>> [s.kind for s in out[3]]
['STRAT_212']
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray
from tradekit.config import AlgorithmConfig, SignalConfig
from tradekit.core.events import Bar, Signal
from tradekit.data.calendar import get_calendar
from tradekit.data.schema import bars_to_events
from tradekit.errors import DataError
from tradekit.signals import nb
from tradekit.signals.detectors import (
    DetectorState,
    _bar_ns,
    _kind_filter,
    _signal_config,
    groups_for,
    params_from_config,
    sort_events,
)
from tradekit.signals.nb_step import step_all_nb
from tradekit.signals.nb_structure import new_smt_state, smt_step_nb
from tradekit.signals.records import COL_KIND, NCOL, buffer_to_signals

__all__ = ["PairSignalGenerator", "SignalGenerator", "benchmark_streaming"]

_DAY_NS = 86_400_000_000_000


class _SessionCache:
    """Per-bar session open (ns, -1 outside) with O(log n) lookups in a cached schedule."""

    def __init__(self, calendar: str) -> None:
        self._cal = get_calendar(calendar)
        self._opens: list[int] = []
        self._closes: list[int] = []
        self._lo = 0
        self._hi = -1

    def _load(self, ts_ns: int) -> None:
        day = pd.Timestamp(ts_ns, tz="UTC").tz_localize(None).normalize()
        sched = self._cal.sessions(day - pd.Timedelta(days=10), day + pd.Timedelta(days=400))
        self._opens = [int(x) for x in sched["open_ns"]]
        self._closes = [int(x) for x in sched["close_ns"]]
        self._lo = int((day - pd.Timedelta(days=5)).value)
        self._hi = int((day + pd.Timedelta(days=395)).value)

    def open_of(self, ts_ns: int) -> int:
        """Open of the session containing ``ts_ns`` (``open <= ts < close``), else -1."""
        if not (self._lo <= ts_ns < self._hi):
            self._load(ts_ns)
        i = bisect.bisect_right(self._opens, ts_ns) - 1
        if i >= 0 and ts_ns < self._closes[i]:
            return self._opens[i]
        return -1


def _check_bar(bar: Bar, last_ts: int) -> None:
    vals = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    if not all(math.isfinite(x) for x in vals):
        raise DataError(f"bar at {bar.ts_ns} has a non-finite value", rule="non_finite")
    if min(bar.open, bar.high, bar.low, bar.close) <= 0:
        raise DataError(f"bar at {bar.ts_ns} has a non-positive price", rule="non_positive_price")
    if bar.high < max(bar.open, bar.close) or bar.low > min(bar.open, bar.close):
        raise DataError(f"bar at {bar.ts_ns}: open/close outside [low, high]", rule="high_lt_low")
    if bar.volume < 0:
        raise DataError(f"bar at {bar.ts_ns} has negative volume", rule="negative_volume")
    if bar.ts_ns <= last_ts:
        raise DataError(
            f"bar at {bar.ts_ns} is not after the previous bar ({last_ts})", rule="out_of_order"
        )


class SignalGenerator:
    """Bar-by-bar detector engine for one symbol and timeframe.

    Parameters
    ----------
    config:
        ``AlgorithmConfig`` (or its ``signals`` section); defaults when None.
    symbol, timeframe:
        Written into every signal and its id; ``timeframe`` (pandas offset, e.g. ``"1min"``)
        sets the bar duration, which switches the intraday-only detectors on below one day.
    calendar:
        Exchange calendar of the ORB session; None disables ORB.
    kinds:
        Kinds to return (default ``config.signals.kinds`` or all, helper kinds included).

    Notes
    -----
    One numba call per bar; the event order within a bar is by kind code, as in
    :func:`~tradekit.signals.detectors.detect`.
    """

    def __init__(
        self,
        config: AlgorithmConfig | SignalConfig | None,
        symbol: str,
        timeframe: str,
        *,
        calendar: str | None = "XNYS",
        kinds: Iterable[str] | None = None,
    ) -> None:
        self.config = _signal_config(config)
        self.symbol = symbol
        self.timeframe = timeframe
        self._bar_ns = _bar_ns(np.empty(0, dtype=np.int64), timeframe)
        self._intraday = 0 < self._bar_ns < _DAY_NS
        self._sessions = _SessionCache(calendar) if (calendar and self._intraday) else None
        self._kinds = _kind_filter(kinds, self.config)
        self._groups = groups_for(self._kinds)
        self.state = DetectorState.new(self.config, intraday=self._intraday, groups=self._groups)
        self._out = np.empty((self.state.per_bar, NCOL))
        self._last_ts = -(2**63)
        self._last_sh = math.nan
        self._last_sl = math.nan

    # ---------------------------------------------------------------- properties
    @property
    def bias(self) -> int:
        """BOS/CHOCH trend bias after the last bar (+1, -1, 0 before the first break)."""
        return int(self.state.istate[nb.I_BIAS])

    @property
    def n_bars(self) -> int:
        """Bars processed so far (the next bar gets this ``index``)."""
        return int(self.state.istate[nb.I_N])

    # ---------------------------------------------------------------- stepping
    def step(
        self,
        ts_ns: int,
        o: float,
        h: float,
        low: float,
        c: float,
        v: float,
    ) -> FloatArray:
        """Advance by one closed bar given as scalars (no validation) and return its event
        rows (``records.COL_*`` columns, ordered by kind code, unfiltered, a copy)."""
        st = self.state
        sess = self._sessions.open_of(ts_ns) if self._sessions is not None else -1
        st.istate[nb.I_NOUT] = 0
        sh, sl = step_all_nb(
            np.int64(ts_ns),
            float(o),
            float(h),
            float(low),
            float(c),
            float(v),
            np.int64(sess),
            st.params,
            st.istate,
            st.fstate,
            st.ring,
            st.fvg,
            st.swh,
            st.swl,
            st.brk,
            self._out,
        )
        self._last_ts = int(ts_ns)
        self._last_sh, self._last_sl = float(sh), float(sl)
        k = int(st.istate[nb.I_NOUT])
        rows = self._out[:k]
        return sort_events(rows).copy()

    def update(self, bar: Bar) -> list[Signal]:
        """Process one closed bar; return the signals emitted at it (possibly none).

        Raises
        ------
        DataError
            If the bar breaks the bar contract or is not after the previous bar; the state
            is left unchanged.
        """
        _check_bar(bar, self._last_ts)
        rows = self.step(bar.ts_ns, bar.open, bar.high, bar.low, bar.close, bar.volume)
        return self._to_signals(rows, bar.ts_ns)

    def _to_signals(self, rows: FloatArray, ts_ns: int) -> list[Signal]:
        if rows.shape[0] == 0:
            return []
        if self._kinds is not None:
            rows = rows[np.isin(rows[:, COL_KIND].astype(np.int64), list(self._kinds))]
        return buffer_to_signals(rows, int(ts_ns), self.symbol, self.timeframe)

    # ---------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (plain arrays and scalars; picklable)."""
        return {
            "detector": self.state.to_dict(),
            "last_ts": self._last_ts,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
        }

    def load_state_dict(self, data: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (symbol and timeframe must match)."""
        if data.get("symbol") != self.symbol or data.get("timeframe") != self.timeframe:
            raise DataError("state_dict belongs to another symbol/timeframe", rule="state")
        state = DetectorState.from_dict(data["detector"])
        mine, theirs = self.state.to_dict(), state.to_dict()
        same_shapes = all(mine[k].shape == theirs[k].shape for k in mine)
        if not same_shapes or not np.array_equal(state.params, self.state.params):
            raise DataError("state_dict was made with other detector parameters", rule="state")
        self.state = state
        self._last_ts = int(data["last_ts"])


class PairSignalGenerator:
    """Two aligned instruments bar by bar, with SMT divergence (SIGNALS.md §3.7).

    ``update_pair(bar_a, bar_b)`` returns ``(signals_a, signals_b)``: each instrument's own
    detector events plus its SMT events against the other (A's higher high while B makes a
    lower high is a bearish SMT on A; the mirror case is a bearish SMT on B).
    """

    def __init__(
        self,
        config: AlgorithmConfig | SignalConfig | None,
        symbol_a: str,
        symbol_b: str,
        timeframe: str,
        *,
        calendar: str | None = "XNYS",
        kinds: Iterable[str] | None = None,
    ) -> None:
        self.a = SignalGenerator(config, symbol_a, timeframe, calendar=calendar, kinds=kinds)
        self.b = SignalGenerator(config, symbol_b, timeframe, calendar=calendar, kinds=kinds)
        for gen in (self.a, self.b):  # SMT reads each side's swings
            if not gen._groups & nb.G_SWING:
                gen._groups |= nb.G_SWING
                gen.state = DetectorState.new(
                    gen.config, intraday=gen._intraday, groups=gen._groups
                )
        self._params = params_from_config(self.a.config, intraday=False)
        self._smt = (new_smt_state(), new_smt_state())
        self._cnt = np.zeros(nb.NISTATE, dtype=np.int64)
        self._out = np.empty((4, NCOL))

    def update_pair(self, bar_a: Bar, bar_b: Bar) -> tuple[list[Signal], list[Signal]]:
        """Process one aligned bar of each instrument (same ``ts_ns``)."""
        if bar_a.ts_ns != bar_b.ts_ns:
            raise DataError(
                f"pair bars not aligned: {bar_a.ts_ns} vs {bar_b.ts_ns}", rule="alignment"
            )
        _check_bar(bar_a, self.a._last_ts)
        _check_bar(bar_b, self.b._last_ts)
        t = self.a.n_bars
        rows_a = self.a.step(
            bar_a.ts_ns, bar_a.open, bar_a.high, bar_a.low, bar_a.close, bar_a.volume
        )
        rows_b = self.b.step(
            bar_b.ts_ns, bar_b.open, bar_b.high, bar_b.low, bar_b.close, bar_b.volume
        )
        a_sh, a_sl, b_sh, b_sl = self.a._last_sh, self.a._last_sl, self.b._last_sh, self.b._last_sl
        smt_a = self._smt_rows(t, bar_a, a_sh, a_sl, b_sh, b_sl, 0)
        smt_b = self._smt_rows(t, bar_b, b_sh, b_sl, a_sh, a_sl, 1)
        out_a = self.a._to_signals(_merge(rows_a, smt_a), bar_a.ts_ns)
        out_b = self.b._to_signals(_merge(rows_b, smt_b), bar_b.ts_ns)
        return out_a, out_b

    def _smt_rows(
        self, t: int, bar: Bar, sh: float, sl: float, o_sh: float, o_sl: float, which: int
    ) -> FloatArray:
        self._cnt[nb.I_NOUT] = 0
        smt_step_nb(
            t,
            bar.high,
            bar.low,
            bar.close,
            sh,
            sl,
            o_sh,
            o_sl,
            self._params,
            self._smt[which],
            self._cnt,
            self._out,
        )
        return self._out[: int(self._cnt[nb.I_NOUT])].copy()

    def state_dict(self) -> dict[str, Any]:
        """Both generators' states plus the SMT states."""
        return {
            "a": self.a.state_dict(),
            "b": self.b.state_dict(),
            "smt": [s.copy() for s in self._smt],
        }

    def load_state_dict(self, data: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`."""
        self.a.load_state_dict(data["a"])
        self.b.load_state_dict(data["b"])
        smt = [np.array(s, dtype=np.float64) for s in data["smt"]]
        self._smt = (smt[0], smt[1])


def _merge(rows: FloatArray, extra: FloatArray) -> FloatArray:
    if extra.shape[0] == 0:
        return rows
    both = np.concatenate([rows, extra])
    return both[np.argsort(both[:, COL_KIND], kind="stable")]


def benchmark_streaming(
    bars: pd.DataFrame,
    config: AlgorithmConfig | SignalConfig | None = None,
    *,
    symbol: str = "SPY",
    timeframe: str = "1min",
    n_bars: int = 20_000,
) -> list[dict[str, float | int | str]]:
    """Per-bar latency of :meth:`SignalGenerator.update` (Signals built) and of
    :meth:`SignalGenerator.step` (raw rows), over the first ``n_bars`` of ``bars``.

    Returns
    -------
    list of dict
        ``name``, ``median_us``, ``p99_us``, ``n_bars`` (for ``benchmarks/bench_signals.py``).
    """
    import time

    df = bars.iloc[:n_bars]
    dur = _bar_ns(np.empty(0, dtype=np.int64), timeframe)
    events = bars_to_events(df, symbol, timeframe, dur)
    rows: list[dict[str, float | int | str]] = []
    for name in ("update", "step"):
        gen = SignalGenerator(config, symbol, timeframe)
        lat = np.empty(len(events))
        for i, b in enumerate(events):
            t0 = time.perf_counter()
            if name == "update":
                gen.update(b)
            else:
                gen.step(b.ts_ns, b.open, b.high, b.low, b.close, b.volume)
            lat[i] = time.perf_counter() - t0
        rows.append(
            {
                "name": f"SignalGenerator.{name}",
                "median_us": float(np.median(lat) * 1e6),
                "p99_us": float(np.percentile(lat, 99) * 1e6),
                "n_bars": len(events),
            }
        )
    return rows
