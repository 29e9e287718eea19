"""``PrecomputedPipeline``: the setup pipeline of a whole replay computed once, in batch.

A backtest knows every bar before it starts, so the 12 detectors, the higher timeframes and the
confluence can run over the full series in one pass of the numba kernels
(:func:`~tradekit.signals.pipeline.setup_arrays`) instead of one streaming step per bar. This
object then answers the engine's per-bar question — "what signals and setups are known at the
close of this bar?" — by reading the batch result at the bar's position, so
:meth:`~tradekit.runtime.kernel.Engine.on_bar` runs unchanged around it.

Why this is not look-ahead: every batch kernel is causal (the value at bar ``t`` uses bars
``<= t`` only; HTF events are placed at the base bar at whose close their HTF bar became
known), which is exactly what the streaming pipeline computes; the integration tests compare
the two record by record and truncate the future to prove it. :class:`Signal` and
:class:`Setup` records are built lazily, when their bar is processed, so nothing is
materialised ahead of its time (and a long replay holds arrays, not a million records).

Examples
--------
>>> from tradekit.data.datasets import load
>>> from tradekit.data.schema import bars_to_arrays
>>> from tradekit.signals.pipeline import SetupPipeline, iter_bars
>>> bars = load("aapl").iloc[:300]
>>> cfg = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")
>>> pre = PrecomputedPipeline(cfg, "AAPL", "1D", bars_to_arrays(bars))
>>> stream = SetupPipeline(cfg, "AAPL", "1D")
>>> all(pre.update(b) == stream.update(b) for b in iter_bars(bars, "AAPL", "1D"))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tradekit._typing import BoolArray, FloatArray, IntArray
from tradekit.config import AlgorithmConfig
from tradekit.core.columns import SetupColumns
from tradekit.core.events import Bar, Setup, Signal
from tradekit.errors import DataError
from tradekit.signals.confluence import ConfluenceParams
from tradekit.signals.pipeline import BatchSetups, PipelineOutput, setup_arrays
from tradekit.signals.records import COL_INDEX, LEVEL_COLUMNS, buffer_to_signals, signal_id

__all__ = ["PrecomputedPipeline"]

BarArrays = tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


class _HtfRows:
    """The HTF events of one higher timeframe, grouped by the base bar that reveals them.

    Kept as columns (codes, ints, one float64 matrix of the level columns), not as one dict
    per row: a million 1-minute bars have about 220k HTF events (15min and 1h), and as dicts
    of 25 boxed values they took about 860 bytes each (190 MB), as these columns about 180.
    With ``rows=False`` only the counts per base bar are kept (a replay that never builds the
    signal records).
    """

    def __init__(self, rule: str, events: pd.DataFrame, n_base: int, *, rows: bool = True) -> None:
        self.rule = rule
        self._rows = rows and not events.empty
        if events.empty:
            self._bounds = np.zeros(n_base + 1, dtype=np.int64)
            return
        base_idx = events["index"].to_numpy(np.int64)
        order = np.argsort(base_idx, kind="stable")
        self._bounds = np.searchsorted(base_idx[order], np.arange(n_base + 1)).astype(np.int64)
        if not self._rows:
            return
        frame = events.iloc[order]
        kinds = pd.Categorical(frame["kind"].astype(str))
        self._kind_names: list[str] = [str(k) for k in kinds.categories]
        self._kind = kinds.codes.astype(np.int64)
        tags = frame["tag"].to_numpy(object)
        tag_cat = pd.Categorical([t if isinstance(t, str) else None for t in tags])
        self._tag_names: list[str] = [str(t) for t in tag_cat.categories]
        self._tag = tag_cat.codes.astype(np.int64)  # -1: no tag
        self._ints = np.column_stack([frame[c].to_numpy(np.int64) for c in
                                      ("direction", "anchor_index", "htf_index")])  # fmt: skip
        self._htf_ts = pd.DatetimeIndex(frame["htf_ts"]).as_unit("ns").asi8.astype(np.int64)
        self._trade = np.column_stack(
            [frame[c].to_numpy(np.float64) for c in ("entry", "stop", "target")]
        )
        self._levels = np.column_stack(
            [frame[name].to_numpy(np.float64) for name, _ in LEVEL_COLUMNS]
        )

    def counts(self) -> IntArray:
        """How many HTF signals each base bar reveals."""
        return np.diff(self._bounds)

    def count(self, t: int) -> int:
        """How many HTF signals base bar ``t`` reveals."""
        return int(self._bounds[t + 1] - self._bounds[t])

    def at(self, t: int, ts_ns: int, symbol: str) -> list[Signal]:
        lo, hi = int(self._bounds[t]), int(self._bounds[t + 1])
        if hi <= lo:
            return []
        if not self._rows:
            raise RuntimeError("the HTF signal records were not kept (signals=False)")
        return [self._signal(r, t, ts_ns, symbol) for r in range(lo, hi)]

    def _signal(self, r: int, t: int, ts_ns: int, symbol: str) -> Signal:
        kind = self._kind_names[int(self._kind[r])]
        direction, anchor, htf_index = (int(x) for x in self._ints[r])
        code = int(self._tag[r])
        tag = self._tag_names[code] if code >= 0 else None
        htf_ts = int(self._htf_ts[r])
        entry, stop, target = self._trade[r].tolist()
        levels = {}
        for (name, _), v in zip(LEVEL_COLUMNS, self._levels[r].tolist(), strict=True):
            if v == v:
                levels[name] = v
        # what the streaming HtfTracker stamps on an HTF signal (see mtf._on_base_timeline)
        levels["htf_index"] = float(htf_index)
        levels["htf_ts_s"] = htf_ts / 1e9
        return Signal(
            id=signal_id(symbol, self.rule, kind, htf_ts, direction, anchor, tag),
            symbol=symbol,
            timeframe=self.rule,
            kind=kind,
            ts_ns=ts_ns,
            index=t,
            anchor_index=anchor,
            direction=direction,
            entry=entry,
            stop=stop,
            target=target,
            tag=tag,
            levels=levels,
        )


class PrecomputedPipeline:
    """Per-bar :class:`~tradekit.signals.pipeline.PipelineOutput` of a known bar series.

    A drop-in for :class:`~tradekit.signals.pipeline.SetupPipeline` in a replay: feed it the
    bars of ``arrays`` in order and it returns what the streaming pipeline would have.

    Parameters
    ----------
    config:
        The algorithm (detector, HTF and confluence parameters).
    symbol, timeframe:
        The base series, as for ``SetupPipeline``.
    arrays:
        ``(ts_ns, open, high, low, close, volume)`` of every bar that will be replayed, already
        validated (what :meth:`tradekit.data.feeds.ReplayFeed.arrays` returns).
    calendar:
        Exchange calendar for sessions and ORB.
    signals:
        Build the :class:`~tradekit.core.events.Signal` records of each bar (default). False
        returns every bar's setups with an empty signal list and only counts the signals
        (:attr:`n_signals`): for metrics-only runs of a strategy that does not read them.
        The event rows are then not kept at all (only the signal counts per bar), which is
        most of the memory of a long replay.

    Raises
    ------
    DataError
        From :meth:`update`, when a bar is not the next bar of ``arrays`` (the batch result
        belongs to that exact series).
    """

    def __init__(
        self,
        config: AlgorithmConfig,
        symbol: str,
        timeframe: str,
        arrays: BarArrays,
        *,
        calendar: str = "XNYS",
        signals: bool = True,
    ) -> None:
        self.config, self.symbol, self.timeframe = config, symbol, timeframe
        self._build_signals = signals
        #: signals of the bars so far (counted also when they are not built)
        self.n_signals = 0
        self._ts = arrays[0]
        n = int(self._ts.shape[0])
        res = setup_arrays(arrays, config, symbol=symbol, timeframe=timeframe, calendar=calendar)
        params = ConfluenceParams.from_config(config)
        # the setup records are built at their bar (what they need is copied out of ``res``)
        self._pending = BatchSetups(res, arrays, params, symbol, timeframe)
        mask = np.zeros(n, dtype=np.bool_)
        mask[res.fired] = True
        mask.flags.writeable = False
        self._setup_mask = mask
        self._busy = mask
        #: setups of bars passed over by :meth:`skip_to` (certain skips, see
        #: :meth:`pass_over_setups`): never built, never decided one by one
        self.n_setups_passed = 0
        #: setups of processed bars passed over as refused on the account state
        #: (:meth:`pass_over_refused`), also counted in :attr:`n_setups_passed`
        self.n_refused_passed = 0
        self._refused_until: Callable[[int], int] | None = None
        events = res.events  # sorted by (index, kind code): detect_arrays' contract
        idx = events[:, COL_INDEX].astype(np.int64)
        if idx.size > 1 and np.any(idx[1:] < idx[:-1]):
            order = np.argsort(idx, kind="stable")
            events, idx = events[order], idx[order]
        self._bounds = np.searchsorted(idx, np.arange(n + 1)).astype(np.int64)
        del idx
        #: the base event rows, kept only when the signal records are built (21 float64
        #: columns: about 220 MB for the 1.4M events of a million 1-minute bars)
        self._events = np.ascontiguousarray(events) if signals else None
        self._htf = [_HtfRows(s.rule, s.events, n, rows=signals) for s in res.htf]
        del res, events
        #: signals revealed per bar (base and higher timeframes)
        self._signal_counts = np.diff(self._bounds)
        for h in self._htf:
            self._signal_counts = self._signal_counts + h.counts()
        #: signals revealed before each bar (n + 1 entries): a span's count is a difference
        self._signals_before = np.concatenate(([0], np.cumsum(self._signal_counts)))
        self._t = 0

    @property
    def builds_signals(self) -> bool:
        """Whether :meth:`update` returns the signal records (``signals=`` of the constructor)."""
        return self._build_signals

    @property
    def n_bars(self) -> int:
        """Bars processed so far."""
        return self._t

    def has_setup(self, t: int) -> bool:
        """Whether bar ``t`` of the series fires a setup."""
        return 0 <= t < self._setup_mask.shape[0] and bool(self._setup_mask[t])

    def setup_mask(self) -> np.ndarray:
        """Per bar of the series: whether it fires a setup (bool array, read-only)."""
        return self._setup_mask

    def setup_columns(self) -> SetupColumns:
        """The gate-read fields of every setup of the series, in bar order
        (:class:`~tradekit.core.columns.SetupColumns`)."""
        return self._pending.columns()

    def pass_over_setups(self, skip: BoolArray) -> None:
        """Let :meth:`skip_to` pass over the setups where ``skip`` (one entry per setup of
        :meth:`setup_columns`) is True: a replay whose engine proved them certain SKIPs
        (:meth:`~tradekit.decision.engine.DecisionEngine.certain_skips`) counts them instead
        of deciding them. :meth:`update` still returns them on a bar it processes."""
        skip = np.asarray(skip, dtype=np.bool_)
        fired = self._pending.fired
        if skip.shape != fired.shape:
            raise ValueError(f"one flag per setup: {fired.shape[0]}, got {skip.shape}")
        busy = self._setup_mask.copy()
        busy[fired[skip]] = False
        busy.flags.writeable = False
        self._busy = busy

    def pass_over_setup_at(self, t: int) -> None:
        """Let :meth:`skip_to` pass over the setup of bar ``t`` too (a bar not processed
        yet): a certain SKIP the replay proved at its bar (as :meth:`pass_over_setups`, one
        setup at a time, without copying the mask again)."""
        if not (self._t <= t < self._setup_mask.shape[0] and self._setup_mask[t]):
            raise ValueError(f"bar {t} fires no setup still to come")
        busy = self._busy if self._busy is not self._setup_mask else self._setup_mask.copy()
        busy.flags.writeable = True
        busy[t] = False
        busy.flags.writeable = False
        self._busy = busy

    def pass_over_refused(self, refused_until: Callable[[int], int]) -> None:
        """Let :meth:`update` pass over (count, not build) the setup of a processed bar that
        opens before ``refused_until(bar time)``: the decider's horizon until which a gate on
        the account state refuses every setup (its ``refused_until`` on this series), asked
        when the bar is processed, after the broker and the risk engine have seen it, which
        is the state its decision would read. Only for a replay that keeps no setup or
        decision records, as :meth:`pass_over_setups`."""
        self._refused_until = refused_until

    def setup_bars(self) -> IntArray:
        """The bar of each setup of :meth:`setup_columns` (positions in the series)."""
        return self._pending.fired

    def busy_mask(self) -> np.ndarray:
        """Per bar: whether it fires a setup that must be decided one by one (every setup's
        bar, less those :meth:`pass_over_setups` allows to pass over; read-only)."""
        return self._busy

    def signal_bars(self, start: int, stop: int) -> IntArray:
        """The bars in ``[start, stop)`` that reveal at least one signal."""
        return start + np.flatnonzero(self._signal_counts[start:stop])

    def signals_at(self, t: int) -> list[Signal]:
        """The signal records bar ``t`` reveals.

        Raises
        ------
        RuntimeError
            Built with ``signals=False`` (the event rows were not kept) and bar ``t`` reveals
            signals.
        """
        ts = int(self._ts[t])
        lo, hi = int(self._bounds[t]), int(self._bounds[t + 1])
        signals: list[Signal] = []
        if hi > lo:
            if self._events is None:
                raise RuntimeError("built with signals=False: the signal records were not kept")
            signals = buffer_to_signals(self._events[lo:hi], ts, self.symbol, self.timeframe)
        for h in self._htf:
            signals.extend(h.at(t, ts, self.symbol))
        return signals

    def skip_to(self, stop: int, *, refused: bool = False) -> int:
        """Pass over the bars from the next one up to ``stop`` (exclusive) without building
        their outputs; they must fire no setup but those :meth:`pass_over_setups` allowed,
        or, with ``refused``, those the caller proved refused (the replay scan's sizing);
        all are counted in :attr:`n_setups_passed`. Returns the signals they revealed
        (counted in :attr:`n_signals`; a caller that publishes them reads
        :meth:`signals_at`)."""
        start = self._t
        if not start <= stop <= self._ts.shape[0]:
            raise ValueError(f"cannot skip from bar {start} to bar {stop}")
        if not refused and self._busy[start:stop].any():
            raise ValueError(f"bars {start}..{stop - 1} fire a setup: they cannot be skipped")
        self.n_setups_passed += self._pending.skip_before(stop)
        self._t = stop
        before = self._signals_before
        n = int(before[stop] - before[start])
        self.n_signals += n
        return n

    def update(self, bar: Bar) -> PipelineOutput:
        """The signals and setups known at the close of ``bar`` (the next bar of the series)."""
        t = self._t
        if t >= self._ts.shape[0] or int(bar.ts_ns) != int(self._ts[t]):
            raise DataError(
                f"bar at {bar.ts_ns} ns is not bar {t} of the precomputed {self.symbol} series",
                row=t,
                rule="precomputed_series",
            )
        self._t = t + 1
        setups: list[Setup] = []
        passed = 0
        if self._setup_mask[t]:  # the next fired bar: update goes bar by bar, skip_to spares
            horizon = self._refused_until
            if self._busy[t] and (horizon is None or bar.ts_ns >= horizon(bar.ts_ns)):
                fired, setup = self._pending.build_next()
                if fired != t:
                    raise RuntimeError(f"setup of bar {fired} read at bar {t}")
                if setup is not None:
                    setups.append(setup)
            else:  # a certain SKIP, or refused on the state now: counted, not built
                passed = self._pending.skip_before(t + 1)
                self.n_setups_passed += passed
                if self._busy[t]:
                    self.n_refused_passed += passed
        if not self._build_signals:
            self.n_signals += int(self._signal_counts[t])
            return PipelineOutput([], setups, passed)
        signals = self.signals_at(t) if self._signal_counts[t] else []
        self.n_signals += len(signals)
        return PipelineOutput(signals, setups, passed)

    def state_dict(self) -> dict[str, Any]:
        """Where the replay stands (the batch result itself is rebuilt from the bars)."""
        return {"precomputed": True, "symbol": self.symbol, "bars": self._t}
