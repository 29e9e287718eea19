"""From bars to setups: base detectors + higher timeframes + confluence (SIGNALS.md §4–§5.1).

Two entry points over one implementation:

* :class:`SetupPipeline` -- the live engine's per-bar call: ``update(bar)`` runs the base
  :class:`~tradekit.signals.generator.SignalGenerator`, the streaming HTF trackers
  (:class:`~tradekit.signals.mtf.HtfTracker`) and one confluence step, and returns the signals
  and setups known at that bar's close.
* :func:`detect_setups` -- the batch path for research: the same kernels over a whole frame
  (:func:`~tradekit.signals.detectors.detect_arrays`, :func:`~tradekit.signals.mtf.build_htf`,
  :func:`~tradekit.signals.confluence.confluence_arrays`). Bar by bar the pipeline produces
  exactly the batch setups (tested), and the batch setups are prefix-invariant.

Per-bar order inside ``update(bar t)``: HTF buckets are advanced first (an HTF bar that closes
with bar ``t`` is usable at ``t``'s close, exactly like ``known_index == t`` in batch), then the
base detectors, then confluence with the HTF biases as of ``t``'s close.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.config import AlgorithmConfig
from tradekit.core.columns import SetupColumns
from tradekit.core.events import Bar, Setup, Signal
from tradekit.data.schema import bars_to_arrays, bars_to_events, validate_bars
from tradekit.errors import DataError
from tradekit.signals import nb_confluence as nbc
from tradekit.signals.confluence import (
    ConfluenceParams,
    ConfluenceState,
    build_setup,
    confluence_arrays,
    contributing_ids,
    htf_term,
    htf_weights,
    setup_columns,
    type_of_kind_codes,
)
from tradekit.signals.detectors import detect_arrays, events_frame
from tradekit.signals.generator import SignalGenerator
from tradekit.signals.mtf import (
    HtfSeries,
    HtfTracker,
    build_htf,
    resolve_htfs,
    resolve_session_aware,
    timeframe_ns,
)
from tradekit.signals.records import (
    COL_ANCHOR,
    COL_DIR,
    COL_INDEX,
    COL_KIND,
    COL_STOP,
    COL_TAG,
    KIND_NAMES,
    TAG_NAMES,
    KindCode,
    kind_code,
    signal_id,
)

__all__ = [
    "SETUP_COLUMNS",
    "BatchSetups",
    "PipelineOutput",
    "SetupArrays",
    "SetupPipeline",
    "detect_setups",
    "iter_bars",
    "iter_batch_setups",
    "setup_arrays",
    "setups_from_frame",
]

_CODE_OF_KIND: dict[str, int] = {k.name: int(k) for k in KindCode}

#: Columns of the setups frame of :func:`detect_setups` (the ``Setup`` fields, ``ts_ns`` → ``ts``).
SETUP_COLUMNS: tuple[str, ...] = (
    "id",
    "symbol",
    "timeframe",
    "ts",
    "index",
    "direction",
    "entry",
    "stop",
    "tp1",
    "tp2",
    "tp3",
    "confidence",
    "score",
    "confluence_count",
    "active_signals",
    "signal_ids",
    "htf_bias",
)


@dataclass(frozen=True, slots=True)
class PipelineOutput:
    """What one base bar produced.

    Attributes
    ----------
    signals : list of Signal
        Base-timeframe signals emitted at this bar, then HTF signals that became visible at
        its close (their ``timeframe`` is the HTF and ``index`` an HTF position).
    setups : list of Setup
        At most one confluence setup (SIGNALS.md §5.1).
    passed : int
        Setups of this bar passed over as certain SKIPs, counted but not built (a batch
        pipeline told to, :meth:`~tradekit.runtime.precomputed.PrecomputedPipeline.pass_over_setups`).
    """

    signals: list[Signal] = field(default_factory=list)
    setups: list[Setup] = field(default_factory=list)
    passed: int = 0


def _config(config: AlgorithmConfig | None) -> AlgorithmConfig:
    return config if config is not None else AlgorithmConfig()


class SetupPipeline:
    """Streaming signals → HTF context → confluence → setups, one call per closed base bar.

    Parameters
    ----------
    config:
        Algorithm configuration (defaults when None).
    symbol, timeframe:
        The base series (``timeframe`` a rule such as ``"1min"``, ``"1h"``, ``"1D"``).
    htfs:
        Higher timeframes (default ``config.signals.htf`` or the defaults of the base).
    session_aware:
        HTF bucket mode; None resolves it from the first bar
        (:func:`~tradekit.signals.mtf.resolve_session_aware`), as :func:`detect_setups` does.
    calendar:
        Exchange calendar for sessions and ORB.

    Examples
    --------
    >>> from tradekit.testing import bars_from_rows
    >>> pipe = SetupPipeline(symbol="SPY", timeframe="1min")
    >>> bars = bars_from_rows([(10, 11, 9, 10, 1)] * 3, start="2024-01-02 14:30", freq="1min")
    >>> [len(pipe.update(b).setups) for b in iter_bars(bars, "SPY", "1min")]
    [0, 0, 0]
    """

    def __init__(
        self,
        config: AlgorithmConfig | None = None,
        symbol: str = "SPY",
        timeframe: str = "1min",
        *,
        htfs: tuple[str, ...] | list[str] | None = None,
        session_aware: bool | None = None,
        calendar: str = "XNYS",
    ) -> None:
        self.config = _config(config)
        self.symbol = symbol
        self.timeframe = timeframe
        self.htfs = resolve_htfs(self.config, timeframe, htfs)
        self.calendar = calendar
        self._session_aware = session_aware
        self._params = ConfluenceParams.from_config(self.config)
        self._htf_w = htf_weights(len(self.htfs), self.config)
        self._gen = SignalGenerator(self.config, symbol, timeframe, calendar=calendar)
        self._trackers: list[HtfTracker] | None = None
        self._conf = ConfluenceState(self._params)
        self._recent: deque[tuple[int, str, int, str]] = deque()
        self._t = 0
        self._last_ts: int | None = None

    @property
    def n_bars(self) -> int:
        """Base bars processed so far."""
        return self._t

    @property
    def htf_bias(self) -> tuple[int, ...]:
        """Current bias of each HTF (lowest first); zeros before the first bar."""
        if self._trackers is None:
            return tuple(0 for _ in self.htfs)
        return tuple(tr.bias for tr in self._trackers)

    @property
    def htf_continuity(self) -> tuple[int, ...]:
        """Strat timeframe continuity of each HTF (lowest first) at the last bar (§4): +1 if the
        last close is above the forming HTF bucket's open, -1 below, 0 equal / no bucket."""
        if self._trackers is None:
            return tuple(0 for _ in self.htfs)
        return tuple(tr.continuity for tr in self._trackers)

    def _start(self, ts_ns: int) -> list[HtfTracker]:
        sa = resolve_session_aware(ts_ns, self._session_aware, self.calendar)
        self._session_aware = sa
        return [
            HtfTracker(r, self.config, symbol=self.symbol, session_aware=sa, calendar=self.calendar)
            for r in self.htfs
        ]

    def update(self, bar: Bar) -> PipelineOutput:
        """Process one closed base bar; return the signals and setups known at its close.

        Raises
        ------
        DataError
            A bar that breaks the bar contract or is not strictly after the previous one; the
            pipeline state is left unchanged, so the caller may skip the bar and continue.
        """
        ts = int(bar.ts_ns)
        if self._last_ts is not None and ts <= self._last_ts:
            raise DataError(
                f"bar at {ts} ns is not after the previous bar ({self._last_ts} ns)",
                row=self._t,
                rule="out_of_order",
            )
        base = self._gen.update(bar)  # validates the bar first; state untouched on error
        if self._trackers is None:
            self._trackers = self._start(ts)
        t = self._t
        htf_signals: list[Signal] = []
        term = 0.0
        for tracker, w in zip(self._trackers, self._htf_w, strict=True):
            htf_signals.extend(tracker.update(bar, t))
            term += w * tracker.bias
        self._last_ts = ts
        self._t = t + 1
        setup = self._confluence(t, bar, base, term)
        return PipelineOutput(base + htf_signals, [setup] if setup is not None else [])

    def _confluence(self, t: int, bar: Bar, base: list[Signal], term: float) -> Setup | None:
        row = self._conf.step_signals(t, bar.close, base, term)
        if base:
            self._recent.extend((s.index, s.kind, s.direction, s.id) for s in base)
        lo = t - self._params.window + 1
        while self._recent and self._recent[0][0] < lo:
            self._recent.popleft()
        if int(row[nbc.OUT_FIRE]) == 0 or int(row[nbc.OUT_STOP_TYPE]) < 0:
            return None
        ids = contributing_ids(self._recent, t, int(row[nbc.OUT_FIRE]), self._params)
        return build_setup(
            row,
            symbol=self.symbol,
            timeframe=self.timeframe,
            index=t,
            ts_ns=int(bar.ts_ns),
            close_t=float(bar.close),
            signal_ids=ids,
            params=self._params,
        )

    # ---- persistence ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Picklable state: base generator, HTF trackers, confluence, recent signal ids."""
        return {
            "t": self._t,
            "last_ts": self._last_ts,
            "session_aware": self._session_aware,
            "generator": self._gen.state_dict(),
            "trackers": None
            if self._trackers is None
            else [tr.state_dict() for tr in self._trackers],
            "confluence": self._conf.state_dict(),
            "recent": list(self._recent),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output into a pipeline built with the same arguments."""
        self._t = int(state["t"])
        self._last_ts = None if state["last_ts"] is None else int(state["last_ts"])
        self._session_aware = state["session_aware"]
        self._gen.load_state_dict(state["generator"])
        if state["trackers"] is None:
            self._trackers = None
        else:
            self._trackers = self._start(self._last_ts or 0)
            for tr, st in zip(self._trackers, state["trackers"], strict=True):
                tr.load_state_dict(st)
        self._conf.load_state_dict(state["confluence"])
        self._recent = deque(tuple(x) for x in state["recent"])


# =========================================================================== batch
class SetupArrays(NamedTuple):
    """Array-level batch result of :func:`setup_arrays` (no pandas, no validation).

    ``events`` are the base event rows (``records.COL_*``), ``scores`` the per-bar confluence
    rows (``confluence.SCORE_COLUMNS``), ``htf`` one :class:`~tradekit.signals.mtf.HtfSeries`
    per HTF (lowest first), ``fired`` the base positions with a setup.
    """

    events: FloatArray
    scores: FloatArray
    htf: list[HtfSeries]
    fired: IntArray


def setup_arrays(
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    config: AlgorithmConfig | None = None,
    *,
    symbol: str,
    timeframe: str,
    htfs: tuple[str, ...] | list[str] | None = None,
    session_aware: bool | None = None,
    calendar: str = "XNYS",
) -> SetupArrays:
    """Detectors + MTF + confluence over contract-valid arrays (the fast batch path).

    Parameters are those of :func:`detect_setups`; ``arrays`` is
    ``(ts_ns, open, high, low, close, volume)`` as returned by ``bars_to_arrays``.
    """
    cfg = _config(config)
    ts = arrays[0]
    if ts.shape[0] == 0:
        raise DataError("no bars", rule="empty")
    rules = resolve_htfs(cfg, timeframe, htfs)
    dur = timeframe_ns(timeframe)
    events, _ = detect_arrays(*arrays, cfg, bar_ns=dur, calendar=calendar)
    if cfg.signals.kinds is not None:
        keep = np.isin(events[:, COL_KIND], [kind_code(k) for k in cfg.signals.kinds])
        events = np.ascontiguousarray(events[keep])
    sa = resolve_session_aware(int(ts[0]), session_aware, calendar)
    series = [
        build_htf(
            arrays, r, cfg, symbol=symbol, base_duration_ns=dur, session_aware=sa, calendar=calendar
        )
        for r in rules
    ]
    term = htf_term([s.bias for s in series], htf_weights(len(series), cfg), ts.shape[0])
    params = ConfluenceParams.from_config(cfg)
    types = type_of_kind_codes(events[:, COL_KIND].astype(np.int64))
    rows = np.flatnonzero(types >= 0)  # helper kinds never count: skip them up front
    scores = confluence_arrays(
        arrays[4],
        events[rows, COL_INDEX].astype(np.int64),
        types[rows],
        events[rows, COL_DIR].astype(np.int64),
        events[rows, COL_STOP],
        term,
        params,
    )
    fired = np.flatnonzero((scores[:, nbc.OUT_FIRE] != 0) & (scores[:, nbc.OUT_STOP_TYPE] >= 0))
    return SetupArrays(events, scores, series, fired.astype(np.int64))


def _batch_setups(
    res: SetupArrays,
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    params: ConfluenceParams,
    symbol: str,
    timeframe: str,
) -> list[Setup]:
    """Setup records of the fired bars; signal ids only for the events in their windows."""
    pending = iter_batch_setups(res, arrays, params, symbol, timeframe)
    return [setup for _, setup in pending if setup is not None]


def iter_batch_setups(
    res: SetupArrays,
    arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    params: ConfluenceParams,
    symbol: str,
    timeframe: str,
) -> Iterator[tuple[int, Setup | None]]:
    """``(bar, setup)`` of every fired bar of ``res`` in bar order, each record built when it
    is asked for (None where :func:`~tradekit.signals.confluence.build_setup` declines); see
    :class:`BatchSetups`."""
    return iter(BatchSetups(res, arrays, params, symbol, timeframe))


class _CountedEvents(NamedTuple):
    """The base events that count for confluence, in event order (sorted by ``bar``, the
    emission bar)."""

    bar: IntArray
    direction: np.ndarray
    kind: np.ndarray
    tag: np.ndarray
    anchor: IntArray


class BatchSetups:
    """The setup records of the fired bars of a batch result, built one at a time in bar order.

    What the records need is copied out of ``res`` here, and only that: the counted events
    (bar, direction, kind, tag, anchor; about 19 bytes each instead of the 168 of an event row)
    and the confluence rows of the fired bars. So a replay can drop ``res`` and build each
    setup at its bar; a million 1-minute bars fire about 100k setups, which as records (signal
    id strings included) take about 70 MB. Fired bars may also be passed over without building
    their records (:meth:`skip_before`), and :meth:`columns` gives the fields the decision
    gates read for all of them at once.
    """

    def __init__(
        self,
        res: SetupArrays,
        arrays: tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
        params: ConfluenceParams,
        symbol: str,
        timeframe: str,
    ) -> None:
        ev = res.events
        ev_type = type_of_kind_codes(ev[:, COL_KIND].astype(np.int64))
        counted = np.flatnonzero((ev_type >= 0) & (params.weights[np.clip(ev_type, 0, None)] > 0))
        del ev_type
        self._ev = _CountedEvents(
            bar=ev[counted, COL_INDEX].astype(np.int64),
            direction=ev[counted, COL_DIR].astype(np.int8),
            kind=ev[counted, COL_KIND].astype(np.int8),
            tag=ev[counted, COL_TAG].astype(np.int8),
            anchor=ev[counted, COL_ANCHOR].astype(np.int64),
        )
        self.fired: IntArray = np.array(res.fired, dtype=np.int64)
        self._verdicts = np.ascontiguousarray(res.scores[self.fired])
        self._ts, self._close = arrays[0], arrays[4]
        self._params, self.symbol, self.timeframe = params, symbol, timeframe
        # window bounds of every fired bar in the counted events, in one call each
        self._lo = np.searchsorted(self._ev.bar, self.fired - params.window + 1).tolist()
        self._hi = np.searchsorted(self._ev.bar, self.fired + 1).tolist()
        self._fired_list: list[int] = self.fired.tolist()
        # counted-event row -> (index, kind, dir, id), for the rows of the recent windows only:
        # the windows of the fired bars move forward, so a row before the current window is
        # never asked again and is dropped (kept, it would hold an entry for most events)
        self._ids: OrderedDict[int, tuple[int, str, int, str]] = OrderedDict()
        #: the next fired bar to build (a position in :attr:`fired`)
        self.position = 0

    def __len__(self) -> int:
        return len(self._fired_list)

    def __iter__(self) -> Iterator[tuple[int, Setup | None]]:
        while self.position < len(self._fired_list):
            yield self.build_next()

    def columns(self) -> SetupColumns:
        """The gate-read fields of every fired bar's setup
        (:func:`~tradekit.signals.confluence.setup_columns`)."""
        return setup_columns(self._verdicts, self.fired, self._ts, self._close, self._params,
                             symbol=self.symbol, timeframe=self.timeframe)  # fmt: skip

    def skip_before(self, bar: int) -> int:
        """Pass over the fired bars before ``bar`` without building them; returns how many."""
        j = self.position
        stop = max(j, bisect_left(self._fired_list, bar))
        self.position = stop
        return stop - j

    def build_next(self) -> tuple[int, Setup | None]:
        """``(bar, setup)`` of the next fired bar. Raises StopIteration after the last."""
        j = self.position
        if j >= len(self._fired_list):
            raise StopIteration
        self.position = j + 1
        ev, ids, params, ts = self._ev, self._ids, self._params, self._ts
        symbol, timeframe = self.symbol, self.timeframe
        t = self._fired_list[j]
        row = self._verdicts[j].tolist()  # (a few values read: cheaper from a list)
        fire = int(row[nbc.OUT_FIRE])
        lo = self._lo[j]
        # drop from the oldest entry on; rows enter about in row order, so a stale row that
        # entered after a live one waits for it (at most about one more window)
        while ids and next(iter(ids)) < lo:
            ids.popitem(last=False)
        # the window's rows on the setup's side (a few: a list beats array indexing)
        sides = ev.direction[lo : self._hi[j]].tolist()
        rows = [lo + k for k, d in enumerate(sides) if d == fire]
        for r in rows:
            if r not in ids:
                kind = KIND_NAMES[int(ev.kind[r])]
                e_t = int(ev.bar[r])
                tag = TAG_NAMES[int(ev.tag[r])]
                anchor = int(ev.anchor[r])
                sid = signal_id(symbol, timeframe, kind, int(ts[e_t]), fire, anchor, tag)
                ids[r] = (e_t, kind, fire, sid)
        recent = [ids[r] for r in rows]
        setup = build_setup(
            row,
            symbol=symbol,
            timeframe=timeframe,
            index=t,
            ts_ns=int(ts[t]),
            close_t=float(self._close[t]),
            signal_ids=contributing_ids(recent, t, fire, params),
            params=params,
        )
        return t, setup


def _setups_frame(setups: list[Setup]) -> pd.DataFrame:
    rows = []
    for s in setups:
        rows.append(
            {
                "id": s.id,
                "symbol": s.symbol,
                "timeframe": s.timeframe,
                "ts": s.ts_ns,
                "index": s.index,
                "direction": s.direction,
                "entry": s.entry,
                "stop": s.stop,
                "tp1": s.tp1,
                "tp2": s.tp2,
                "tp3": s.tp3,
                "confidence": s.confidence,
                "score": s.score,
                "confluence_count": s.confluence_count,
                "active_signals": s.active_signals,
                "signal_ids": s.signal_ids,
                "htf_bias": s.htf_bias,
            }
        )
    df = pd.DataFrame(rows, columns=list(SETUP_COLUMNS))
    df["ts"] = pd.DatetimeIndex(pd.to_datetime(df["ts"].to_numpy(np.int64), unit="ns", utc=True))
    for col in ("index", "direction", "confluence_count", "htf_bias"):
        df[col] = df[col].astype(np.int64)
    return df


def setups_from_frame(df: pd.DataFrame) -> list[Setup]:
    """The :class:`~tradekit.core.events.Setup` records of a :func:`detect_setups` setups frame."""
    ts_ns = pd.DatetimeIndex(df["ts"]).as_unit("ns").asi8
    out: list[Setup] = []
    for i, row in enumerate(df.to_dict("records")):
        out.append(
            Setup(
                id=str(row["id"]),
                symbol=str(row["symbol"]),
                timeframe=str(row["timeframe"]),
                ts_ns=int(ts_ns[i]),
                index=int(row["index"]),
                direction=int(row["direction"]),
                entry=float(row["entry"]),
                stop=float(row["stop"]),
                tp1=float(row["tp1"]),
                tp2=float(row["tp2"]),
                tp3=float(row["tp3"]),
                confidence=float(row["confidence"]),
                score=float(row["score"]),
                confluence_count=int(row["confluence_count"]),
                active_signals=tuple(row["active_signals"]),
                signal_ids=tuple(row["signal_ids"]),
                htf_bias=int(row["htf_bias"]),
            )
        )
    return out


def _codes(col: pd.Series, categories: list[str]) -> IntArray:
    """Position of each value in ``categories`` (all values must be among them)."""
    codes = pd.Categorical(col, categories=categories).codes.astype(np.int64)
    if codes.size and codes.min() < 0:
        raise DataError("unexpected kind or timeframe in the events frame", rule="events")
    return codes


def _events_frame(res: SetupArrays, ts: IntArray, symbol: str, timeframe: str) -> pd.DataFrame:
    base = events_frame(res.events, ts)
    base.insert(1, "timeframe", timeframe)
    base["htf_index"] = base["index"]
    base["htf_ts"] = base["ts"]
    frames = [base, *(s.events for s in res.htf)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return base.assign(symbol=symbol)
    out = pd.concat(frames, ignore_index=True)
    tf_rank = {tf: i for i, tf in enumerate([timeframe, *(s.rule for s in res.htf)])}
    # categorical codes: one hash pass over the strings (Series.map on 1e6 strings is slow)
    rank = _codes(out["timeframe"], list(tf_rank))
    kcode = _codes(out["kind"], list(_CODE_OF_KIND))
    order = np.lexsort((kcode, out["htf_index"].to_numpy(np.int64), rank, out["index"]))
    out = out.iloc[order].reset_index(drop=True)
    out["symbol"] = symbol
    return out


def detect_setups(
    bars: pd.DataFrame,
    config: AlgorithmConfig | None = None,
    *,
    symbol: str,
    timeframe: str,
    htfs: tuple[str, ...] | list[str] | None = None,
    session_aware: bool | None = None,
    calendar: str = "XNYS",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Batch signals and setups of a bar frame, equal to feeding :class:`SetupPipeline`.

    Parameters
    ----------
    bars:
        Base OHLCV bars (validated with ``validate_bars``; invalid bars raise ``DataError``).
    config:
        Algorithm configuration (defaults when None).
    symbol, timeframe:
        Identity of the base series; ``timeframe`` fixes the base bar duration.
    htfs:
        Higher timeframes (default ``config.signals.htf`` or the defaults of the base).
    session_aware:
        HTF bucket mode; None → decided from the first bar (see ``mtf``).
    calendar:
        Exchange calendar.

    Returns
    -------
    events : pandas.DataFrame
        Every detector event of the base and of each HTF (``detect`` columns plus
        ``timeframe``, ``htf_index``, ``htf_ts``, ``symbol``). ``index``/``ts`` are on the base
        timeline: for HTF rows the base bar at whose close the event became visible.
        Sorted by (index, timeframe rank, htf_index, kind code).
    setups : pandas.DataFrame
        One row per setup, columns :data:`SETUP_COLUMNS` (``ts`` = open time of the setup bar).

    Examples
    --------
    >>> from tradekit.testing import bars_from_rows
    >>> bars = bars_from_rows([(10, 11, 9, 10, 1)] * 5, start="2024-01-02 14:30", freq="1min")
    >>> events, setups = detect_setups(bars, symbol="SPY", timeframe="1min")
    >>> len(setups)
    0
    """
    cfg = _config(config)
    clean = cast(pd.DataFrame, validate_bars(bars))
    arrays = bars_to_arrays(clean)
    res = setup_arrays(
        arrays, cfg, symbol=symbol, timeframe=timeframe, htfs=htfs,
        session_aware=session_aware, calendar=calendar,
    )  # fmt: skip
    params = ConfluenceParams.from_config(cfg)
    setups = _batch_setups(res, arrays, params, symbol, timeframe)
    return _events_frame(res, arrays[0], symbol, timeframe), _setups_frame(setups)


def iter_bars(df: pd.DataFrame, symbol: str, timeframe: str) -> Iterator[Bar]:
    """Closed :class:`~tradekit.core.events.Bar` records of a bar frame, in order, each
    lasting the timeframe's duration. Used for replay and streaming tests."""
    return iter(bars_to_events(df, symbol, timeframe, timeframe_ns(timeframe)))
