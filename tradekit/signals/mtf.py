"""Multi-timeframe context without look-ahead (SIGNALS.md §4): batch and streaming.

Higher-timeframe (HTF) bars come from :func:`tradekit.data.resample.resample_arrays` (never a
private resample); each closed HTF bar carries ``known_index``, the base bar at whose close it
became usable. Everything derived from an HTF bar (its detector events, the HTF bias) is mapped
onto the base timeline **by that known index** with a backward as-of join, never by the HTF
label, so no base bar ever sees an HTF value before the HTF bar has closed.

* :func:`build_htf` (batch): resample, run the signal detectors on the closed HTF bars, map
  events and bias to base bars, plus the optional Strat timeframe continuity.
* :class:`HtfAggregator` (streaming): aggregates base bars into the same buckets, closing a
  bucket when the clock reaches its end (rule a) or when a base bar at/after its end arrives
  (rule b, data gaps) -- the rules of ``resample`` -- and :class:`HtfTracker` feeds each closed
  HTF bar to an HTF :class:`~tradekit.signals.generator.SignalGenerator`.

"The clock passes the bucket end" is read from the base bar itself (``ts + duration >= end``),
exactly as ``resample`` does. A wall-clock timer closing buckets is deliberately not offered:
a last bar delivered a few seconds late would then be left out of the live HTF bar and live
would no longer equal batch; a bucket whose last bars never come is closed by the next bar.

Session mode
------------
``resample`` decides between exchange-session buckets and the plain UTC grid from the share of
bars inside sessions (a whole-sample statistic, so not prefix-invariant and not available to a
live feed). Here the mode is resolved **once from the first base bar**
(:func:`resolve_session_aware`: session buckets iff the first bar lies inside a session of the
calendar) unless given explicitly, and the same answer is used in batch and streaming. Pass
``session_aware=False`` for 24h markets whose first bar happens to fall in NYSE hours.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.config import AlgorithmConfig
from tradekit.core.events import Bar, Signal
from tradekit.data.calendar import MarketCalendar, get_calendar
from tradekit.data.resample import HTFBars, parse_rule, resample_arrays
from tradekit.errors import ConfigError, DataError
from tradekit.signals import nb_confluence as nbc
from tradekit.signals.detectors import detect_arrays, events_frame
from tradekit.signals.generator import SignalGenerator
from tradekit.signals.records import kind_code

__all__ = [
    "HtfAggregator",
    "HtfSeries",
    "HtfTracker",
    "build_htf",
    "default_htfs",
    "resolve_htfs",
    "resolve_session_aware",
    "strat_continuity",
    "timeframe_ns",
]

_MIN: Final = 60_000_000_000
_HOUR: Final = 60 * _MIN
_DAY: Final = 24 * _HOUR

#: Default HTFs by base bar duration (ns), lowest first (§4: 1min → 15min, 1h; 1h → 4h, 1D;
#: 1D → 1W). Base durations between the anchors use the next anchor at or above them.
_DEFAULT_HTFS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (1 * _MIN, ("15min", "1h")),
    (5 * _MIN, ("1h", "1D")),
    (15 * _MIN, ("1h", "1D")),
    (1 * _HOUR, ("4h", "1D")),
    (4 * _HOUR, ("1D", "1W")),
    (1 * _DAY, ("1W",)),
)


def timeframe_ns(timeframe: str) -> int:
    """Duration in ns of a timeframe string (``"1min"``, ``"15min"``, ``"1h"``, ``"1D"``, ``"1W"``).

    Raises
    ------
    ConfigError
        Unsupported string (see :func:`tradekit.data.resample.parse_rule`).
    """
    _, step = parse_rule(timeframe)
    return int(step)


def default_htfs(timeframe: str) -> tuple[str, ...]:
    """Default higher timeframes of a base timeframe, lowest first.

    Examples
    --------
    >>> default_htfs("1min"), default_htfs("1h"), default_htfs("1D")
    (('15min', '1h'), ('4h', '1D'), ('1W',))
    """
    dur = timeframe_ns(timeframe)
    for anchor, htfs in _DEFAULT_HTFS:
        if dur <= anchor:
            return htfs
    return ()


def resolve_htfs(
    config: AlgorithmConfig, timeframe: str, htfs: tuple[str, ...] | list[str] | None = None
) -> tuple[str, ...]:
    """The HTFs to use: ``htfs`` if given (``()`` = none), else ``config.signals.htf``, else
    the defaults of the base timeframe (:func:`default_htfs`).

    Returned sorted from lowest to highest; each must be strictly longer than the base.

    Raises
    ------
    ConfigError
        An HTF that is not longer than the base timeframe, or a duplicate.
    """
    if htfs is not None:
        chosen = tuple(htfs)
    else:
        chosen = tuple(config.signals.htf) or default_htfs(timeframe)
    base = timeframe_ns(timeframe)
    durs = [timeframe_ns(r) for r in chosen]
    if len(set(durs)) != len(durs):
        raise ConfigError(f"duplicate higher timeframes {chosen}")
    for rule, dur in zip(chosen, durs, strict=True):
        if dur <= base:
            raise ConfigError(f"HTF {rule!r} is not longer than the base timeframe {timeframe!r}")
    return tuple(r for _, r in sorted(zip(durs, chosen, strict=True)))


def resolve_session_aware(
    first_ts_ns: int, session_aware: bool | None, calendar: str = "XNYS"
) -> bool:
    """Session-bucket mode: ``session_aware`` if given, else whether the first bar is in a session."""
    if session_aware is not None:
        return bool(session_aware)
    return get_calendar(calendar).session_bounds(int(first_ts_ns)) is not None


# =========================================================================== batch
@dataclass(frozen=True)
class HtfSeries:
    """One higher timeframe mapped onto the base timeline.

    Attributes
    ----------
    rule : str
        The HTF (``"15min"``, ``"1h"``, ...).
    bars : HTFBars
        Closed HTF bars (``known_index >= 0``, non-decreasing).
    events : pandas.DataFrame
        HTF detector events (the ``detect`` columns) where ``index``/``ts`` are the base bar at
        which the event became visible, ``htf_index``/``htf_ts`` the HTF emission bar and its
        label, ``anchor_index`` an HTF position, ``timeframe`` = ``rule``.
    bias_htf : ndarray of int64
        HTF bias per closed HTF bar (structure bias or EMA sign, per config).
    bias : ndarray of int64
        Per base bar: ``bias_htf`` of the last HTF bar known at that bar's close (0 before).
    continuity : ndarray of int64 or None
        Per base bar: Strat timeframe continuity, sign of ``C[t]`` minus the open of the (forming)
        bucket containing ``t`` (0 outside any bucket); None unless requested.
    """

    rule: str
    bars: HTFBars
    events: pd.DataFrame
    bias_htf: IntArray
    bias: IntArray
    continuity: IntArray | None = field(default=None, repr=False)


def _resample(
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    rule: str,
    config: AlgorithmConfig,
    *,
    base_duration_ns: int,
    session_aware: bool,
    calendar: MarketCalendar,
    keep_all: bool = False,
) -> HTFBars:
    ts, o, h, lo, c, v = arrays
    return resample_arrays(
        ts, o, h, lo, c, v, rule,
        base_duration_ns=base_duration_ns,
        session_aware=session_aware,
        day_offset_hours=config.signals.day_offset_hours,
        drop_partial_first=False if keep_all else config.signals.drop_partial_first,
        include_forming=keep_all,
        calendar=calendar,
    )  # fmt: skip


def strat_continuity(
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    rule: str,
    config: AlgorithmConfig | None = None,
    *,
    base_duration_ns: int,
    session_aware: bool,
    calendar: str = "XNYS",
) -> IntArray:
    """Strat timeframe continuity per base bar (§4): ``sign(C[t] - open of t's HTF bucket)``.

    Causal although the bucket is still forming: it uses the bucket's first open and the
    current close only. Bars in no bucket (outside sessions in session mode) get 0.
    """
    cfg = config if config is not None else AlgorithmConfig()
    cal = get_calendar(calendar)
    htf = _resample(
        arrays, rule, cfg, base_duration_ns=base_duration_ns, session_aware=session_aware,
        calendar=cal, keep_all=True,
    )  # fmt: skip
    pos = np.arange(arrays[0].shape[0])
    k = np.searchsorted(htf.first_index, pos, side="right") - 1  # bucket starting at or before
    kc = np.clip(k, 0, None)
    in_bucket = (k >= 0) & (pos <= htf.last_index[kc]) if kc.size and htf.ts.size else k >= 0
    bucket_open = htf.open[kc] if htf.ts.size else np.zeros(pos.shape[0])
    ts = arrays[0]
    if session_aware:  # out-of-session bars inside a weekly bucket belong to no bucket
        opens, _ = cal.session_open_close(ts)
        in_bucket &= opens >= 0
    diff = np.where(in_bucket, arrays[4] - bucket_open, 0.0)
    return np.sign(diff).astype(np.int64)


def _htf_bias(htf: HTFBars, structure_bias: IntArray, config: AlgorithmConfig) -> IntArray:
    if config.signals.htf_bias_method == "ema":
        return nbc.ema_bias_nb(htf.close, int(config.signals.htf_ema_period))
    return np.asarray(structure_bias, dtype=np.int64)


def build_htf(
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    rule: str,
    config: AlgorithmConfig,
    *,
    symbol: str,
    base_duration_ns: int,
    session_aware: bool,
    calendar: str = "XNYS",
    with_continuity: bool = False,
) -> HtfSeries:
    """Resample base bars to ``rule`` and map HTF events and bias onto the base timeline.

    Parameters
    ----------
    arrays:
        Base ``(ts_ns, open, high, low, close, volume)`` (see ``bars_to_arrays``).
    rule:
        Higher timeframe.
    config:
        Detector parameters (the HTF runs the very same detectors) and HTF bias method.
    symbol:
        Written into the events' ids downstream.
    base_duration_ns, session_aware, calendar:
        Base bar duration, bucket mode (:func:`resolve_session_aware`) and exchange calendar.
    with_continuity:
        Also compute the Strat timeframe continuity (an optional feature; off by default
        because confluence does not use it).
    """
    cal = get_calendar(calendar)
    htf = _resample(
        arrays, rule, config, base_duration_ns=base_duration_ns, session_aware=session_aware,
        calendar=cal,
    )  # fmt: skip
    known = htf.known_index
    if known.shape[0] > 1 and np.any(np.diff(known) < 0):
        raise DataError(f"HTF {rule}: known_index is not non-decreasing", rule="htf")
    events, sbias = _detect_htf(htf, config, rule, calendar)
    bias_htf = _htf_bias(htf, sbias, config)
    n = arrays[0].shape[0]
    bias = nbc.asof_take_nb(bias_htf, known, n, 0)
    events = _to_base_timeline(events, known, arrays[0], rule)
    cont = None
    if with_continuity:
        cont = strat_continuity(
            arrays, rule, config, base_duration_ns=base_duration_ns, session_aware=session_aware,
            calendar=calendar,
        )  # fmt: skip
    return HtfSeries(rule, htf, events, bias_htf, bias, cont)


def _detect_htf(
    htf: HTFBars, config: AlgorithmConfig, rule: str, calendar: str
) -> tuple[pd.DataFrame, IntArray]:
    """Run the base detectors on closed HTF bars: (events frame in HTF positions, bias)."""
    buf, bias = detect_arrays(
        htf.ts, htf.open, htf.high, htf.low, htf.close, htf.volume, config,
        bar_ns=timeframe_ns(rule), calendar=calendar,
    )  # fmt: skip
    kinds = config.signals.kinds
    codes = None if kinds is None else {kind_code(k) for k in kinds}
    return events_frame(buf, htf.ts, codes), bias


def _to_base_timeline(
    events: pd.DataFrame, known_index: IntArray, base_ts: IntArray, rule: str
) -> pd.DataFrame:
    """Re-index HTF events to the base bar at which their HTF emission bar became known."""
    out = events.copy()
    htf_idx = out["index"].to_numpy(np.int64)
    vis = known_index[htf_idx] if htf_idx.size else np.zeros(0, dtype=np.int64)
    out.insert(1, "timeframe", rule)
    out["htf_index"] = htf_idx
    out["htf_ts"] = out["ts"]
    out["index"] = vis.astype(np.int64)
    out["ts"] = pd.DatetimeIndex(pd.to_datetime(base_ts[vis], unit="ns", utc=True)).as_unit("ns")
    return out


# =========================================================================== streaming
def _sign(x: float) -> int:
    return 1 if x > 0 else (-1 if x < 0 else 0)


class HtfAggregator:
    """Streaming HTF bucket aggregator with the closing rules of ``resample`` (§4).

    Feed every closed base bar with its base position ``t``; :meth:`update` returns the HTF
    bars that became known at the close of ``t`` (at most two: a bucket ended early by a gap,
    closed by rule b, and a one-bar bucket closed by rule a), each as ``(Bar, known_index)``.

    Bucket bounds come from ``resample_arrays`` itself, so live and batch share one bucket
    definition. To keep the per-bar cost low, bounds are fetched for a horizon of
    :attr:`HORIZON` future sample times in one call and cached; a bar whose time lies in a
    cached ``[start, end)`` belongs to that bucket (buckets are disjoint and lie inside
    sessions in session mode). A bar outside every cached bucket triggers a refetch, so bars in
    no bucket (pre/post market in session mode) cost one ``resample_arrays`` call each.
    """

    #: Sample times fetched per refill of the bucket cache.
    HORIZON: Final = 64

    def __init__(
        self,
        rule: str,
        *,
        symbol: str,
        session_aware: bool,
        day_offset_hours: float = 0.0,
        drop_partial_first: bool = True,
        calendar: str = "XNYS",
    ) -> None:
        self.rule = rule
        self.symbol = symbol
        self.session_aware = bool(session_aware)
        kind, step = parse_rule(rule)
        self._week_sessions = self.session_aware and kind == "week"
        self._spacing = _DAY if kind == "week" else int(step)
        self._offset = float(day_offset_hours)
        self._drop_first = bool(drop_partial_first)
        self._cal = get_calendar(calendar)
        self._ones = np.ones(self.HORIZON)
        self._starts: list[int] = []  # bucket cache, sorted
        self._ends: list[int] = []
        self._sess = (-1, -1)  # week/session mode: (open, close) of the last session seen
        # pending bucket
        self._start = -1
        self._end = -1
        self._o = self._h = self._l = self._c = self._v = 0.0
        self._dropped = False
        self._seen_bucket = False
        #: Strat continuity of the bucket of the last bar fed (0 if it had no bucket).
        self.last_continuity = 0

    # ---- bucket lookup --------------------------------------------------------------
    def _in_session(self, ts_ns: int) -> bool:
        lo, hi = self._sess
        if lo <= ts_ns < hi:
            return True
        bounds = self._cal.session_bounds(ts_ns)
        if bounds is None:
            return False
        self._sess = bounds
        return True

    def _cached(self, ts_ns: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self._starts, ts_ns) - 1
        if i >= 0 and ts_ns < self._ends[i]:
            return self._starts[i], self._ends[i]
        return None

    def _refill(self, ts_ns: int, dur: int) -> None:
        samples = ts_ns + np.arange(self.HORIZON, dtype=np.int64) * self._spacing
        ones = self._ones
        htf = resample_arrays(
            samples, ones, ones, ones, ones, ones, self.rule,
            base_duration_ns=dur, session_aware=self.session_aware,
            day_offset_hours=self._offset, drop_partial_first=False, include_forming=True,
            calendar=self._cal,
        )  # fmt: skip
        self._starts = htf.ts.tolist()
        self._ends = htf.end.tolist()

    def _bucket_of(self, ts_ns: int, dur: int) -> tuple[int, int] | None:
        """(start, end) of the bucket of a bar opening at ``ts_ns``, None if it has none."""
        if self._week_sessions and not self._in_session(ts_ns):
            return None
        if self._start >= 0 and self._start <= ts_ns < self._end:
            return self._start, self._end
        hit = self._cached(ts_ns)
        if hit is None:
            self._refill(ts_ns, dur)
            hit = self._cached(ts_ns)
        return hit

    # ---- updates --------------------------------------------------------------------
    def _close(self, t: int, out: list[tuple[Bar, int]]) -> None:
        if not self._dropped:
            dur = self._end - self._start
            bar = Bar(self.symbol, self.rule, self._start, self._o, self._h, self._l, self._c,
                      self._v, dur)  # fmt: skip
            out.append((bar, t))
        self._start = -1
        self._end = -1

    def _open(self, bar: Bar, bucket: tuple[int, int]) -> None:
        self._start, self._end = bucket
        self._o, self._h, self._l = bar.open, bar.high, bar.low
        self._c, self._v = bar.close, bar.volume
        self._dropped = self._drop_first and not self._seen_bucket and bar.ts_ns > bucket[0]
        self._seen_bucket = True

    def update(self, bar: Bar, t: int) -> list[tuple[Bar, int]]:
        """Add closed base bar ``t``; return the HTF bars known at its close, oldest first."""
        closed: list[tuple[Bar, int]] = []
        ts = int(bar.ts_ns)
        if self._start >= 0 and ts >= self._end:  # rule (b): a bar at/after the bucket end
            self._close(t, closed)
        bucket = self._bucket_of(ts, int(bar.duration_ns))
        if bucket is None:
            self.last_continuity = 0
            return closed
        if self._start >= 0 and bucket[0] == self._start:
            if bar.high > self._h:
                self._h = bar.high
            if bar.low < self._l:
                self._l = bar.low
            self._c = bar.close
            self._v += bar.volume
        else:
            if self._start >= 0:  # defensive: a later bucket starting before our end
                self._close(t, closed)
            self._open(bar, bucket)
        self.last_continuity = _sign(bar.close - self._o)
        if ts + int(bar.duration_ns) >= self._end:  # rule (a)
            self._close(t, closed)
        return closed

    def state_dict(self) -> dict[str, Any]:
        """Picklable state (the bucket cache is not part of it; it is refetched)."""
        return {
            "start": self._start,
            "end": self._end,
            "ohlcv": (self._o, self._h, self._l, self._c, self._v),
            "dropped": self._dropped,
            "seen_bucket": self._seen_bucket,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self._start = int(state["start"])
        self._end = int(state["end"])
        self._o, self._h, self._l, self._c, self._v = (float(x) for x in state["ohlcv"])
        self._dropped = bool(state["dropped"])
        self._seen_bucket = bool(state["seen_bucket"])


def _on_base_timeline(sig: Signal, bar: Bar, t: int) -> Signal:
    """Stamp an HTF signal with the base bar at whose close it became known (``ts_ns``,
    ``index``), as :func:`_to_base_timeline` does for the batch frame; the HTF emission bar
    stays in ``levels["htf_index"]`` and ``levels["htf_ts_s"]`` (epoch seconds, exact for bar
    times). Stamping it with the HTF label would date it before it was knowable."""
    levels = {**sig.levels, "htf_index": float(sig.index), "htf_ts_s": sig.ts_ns / 1e9}
    return replace(sig, ts_ns=int(bar.ts_ns), index=t, levels=levels)


class HtfTracker:
    """One streaming HTF: :class:`HtfAggregator` → HTF :class:`SignalGenerator` → HTF bias.

    :meth:`update` is called once per closed base bar; it returns the HTF signals that became
    visible at that bar (HTF timeframe; ``ts_ns``/``index`` of that base bar, the HTF emission
    bar in ``levels``, ``anchor_index`` an HTF position) and
    leaves :attr:`bias` = bias of the last closed HTF bar, exactly as :func:`build_htf` maps it.
    """

    def __init__(
        self,
        rule: str,
        config: AlgorithmConfig,
        *,
        symbol: str,
        session_aware: bool,
        calendar: str = "XNYS",
    ) -> None:
        self.rule = rule
        self.aggregator = HtfAggregator(
            rule,
            symbol=symbol,
            session_aware=session_aware,
            day_offset_hours=config.signals.day_offset_hours,
            drop_partial_first=config.signals.drop_partial_first,
            calendar=calendar,
        )
        self.generator = SignalGenerator(config, symbol, rule, calendar=calendar)
        self._ema = config.signals.htf_bias_method == "ema"
        self._ema_period = int(config.signals.htf_ema_period)
        self._ema_state = np.zeros(2, dtype=np.float64)
        #: HTF bias as of the last closed HTF bar (+1/-1, 0 before any break / EMA warm-up).
        self.bias = 0
        #: Closed HTF bars fed to the generator so far.
        self.n_closed = 0

    @property
    def continuity(self) -> int:
        """Strat timeframe continuity of the last base bar fed."""
        return self.aggregator.last_continuity

    def update(self, bar: Bar, t: int) -> list[Signal]:
        """Feed closed base bar ``t``; return HTF signals that became known at its close."""
        out: list[Signal] = []
        for hbar, _known in self.aggregator.update(bar, t):
            out.extend(_on_base_timeline(sig, bar, t) for sig in self.generator.update(hbar))
            self.n_closed += 1
            if self._ema:
                self.bias = int(nbc.ema_bias_step_nb(self._ema_state, hbar.close, self._ema_period))
            else:
                self.bias = int(self.generator.bias)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Picklable state of the aggregator, the HTF generator and the bias."""
        return {
            "aggregator": self.aggregator.state_dict(),
            "generator": self.generator.state_dict(),
            "ema_state": self._ema_state.copy(),
            "bias": self.bias,
            "n_closed": self.n_closed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.aggregator.load_state_dict(state["aggregator"])
        self.generator.load_state_dict(state["generator"])
        self._ema_state = np.array(state["ema_state"], dtype=np.float64)
        self.bias = int(state["bias"])
        self.n_closed = int(state["n_closed"])
