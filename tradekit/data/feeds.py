"""Bar feeds: replay history or poll a provider, as async iterators of closed bars.

Both feeds deliver :class:`~tradekit.core.events.Bar` events in timestamp order (ties: the
order of the symbols given), to ``async for`` consumers and to ``subscribe``-d callbacks, and
keep a latest-bar cache (:meth:`latest`, :meth:`last_price`).

* :class:`ReplayFeed` replays frames as fast as possible (``speed=None``) or paced at
  ``speed`` × real time, optionally driving a :class:`~tradekit.core.clock.SimClock` to each
  bar's close. It also iterates synchronously (``for bar in feed``) for backtests. Bars are
  ordered by close time (when they become known), then open time, then symbol order — for
  frames of equal bar length that is plain timestamp order.
* :class:`PollingFeed` polls a :class:`~tradekit.data.sources.MarketDataProvider` every
  ``interval_s``. It emits a bar only once it has closed (``close_ts <= clock.now_ns()``),
  never twice, backfills missed bars through ``history``, quarantines bad bars with an alert
  instead of crashing, and raises a **stall alert** when no new bar arrived for
  ``stall_timeout_s`` (optionally only while the market is open).

Subscriber callbacks are isolated: an exception in one is recorded in :attr:`errors` and
published as an alert, and delivery goes on. Alerts are :class:`~tradekit.core.events.Alert`
records kept in :attr:`alerts` and published on an optional
:class:`~tradekit.core.bus.EventBus` under ``alerts.feed``.
"""

from __future__ import annotations

import asyncio
import math
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.core.bus import EventBus
from tradekit.core.clock import Clock, WallClock
from tradekit.core.enums import AlertLevel
from tradekit.core.events import Alert, Bar
from tradekit.core.ids import make_id
from tradekit.data.calendar import get_calendar
from tradekit.data.schema import bars_to_arrays, infer_bar_duration_ns, validate_bars
from tradekit.data.sources.base import MarketDataProvider, TimeLike, to_ns
from tradekit.errors import FeedStalled

__all__ = ["ALERT_TOPIC", "BarCallback", "PollingFeed", "ReplayFeed", "bar_problem"]

ALERT_TOPIC = "alerts.feed"
BarCallback = Callable[[Bar], None]
_NS = 1_000_000_000


def bar_problem(bar: Bar) -> str | None:
    """The bar-contract rule a single :class:`Bar` breaks, or None when it is fine."""
    values = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    if not all(math.isfinite(x) for x in values):
        return "non_finite"
    if min(bar.open, bar.high, bar.low, bar.close) <= 0:
        return "non_positive_price"
    if bar.high < bar.low:
        return "high_lt_low"
    if not bar.low <= bar.open <= bar.high:
        return "open_outside_range"
    if not bar.low <= bar.close <= bar.high:
        return "close_outside_range"
    if bar.volume < 0:
        return "negative_volume"
    return None


class _Feed(ABC):
    """Shared machinery: subscribers, latest cache, alerts, stop flag."""

    source = "feed"

    def __init__(self, *, bus: EventBus | None, clock: Clock | None, publish_bars: bool) -> None:
        self.bus = bus
        self.clock: Clock = clock if clock is not None else WallClock()
        self.publish_bars = publish_bars
        self._subscribers: list[BarCallback] = []
        self._latest: dict[str, Bar] = {}
        self._stopped = False
        #: Alerts raised by this feed (stalls, bad bars, subscriber errors), oldest first.
        self.alerts: list[Alert] = []
        #: ``(bar, exception)`` for each subscriber callback that raised.
        self.errors: list[tuple[Bar, BaseException]] = []
        self.n_emitted = 0

    # ----------------------------------------------------------------- subscribers & cache
    @property
    def observed(self) -> bool:
        """True when delivering a bar reaches somebody: a subscriber, or the bus."""
        return bool(self._subscribers) or (self.bus is not None and self.publish_bars)

    def subscribe(self, callback: BarCallback) -> Callable[[], None]:
        """Call ``callback(bar)`` for every bar this feed emits; returns an unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def latest(self, symbol: str) -> Bar | None:
        """The last bar emitted for ``symbol`` (None before the first)."""
        return self._latest.get(symbol)

    def last_price(self, symbol: str) -> float | None:
        """Close of the last bar emitted for ``symbol`` (None before the first)."""
        bar = self._latest.get(symbol)
        return None if bar is None else bar.close

    def stop(self) -> None:
        """Stop the feed: iteration ends at the next step."""
        self._stopped = True

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called (or a replay ran out of bars)."""
        return self._stopped

    def _deliver(self, bar: Bar) -> Bar:
        self._latest[bar.symbol] = bar
        self.n_emitted += 1
        if self.bus is not None and self.publish_bars:
            self.bus.publish(f"bars.{bar.symbol.lower()}", bar)
        for cb in tuple(self._subscribers):
            try:
                cb(bar)
            except Exception as exc:  # one broken subscriber must not stop the feed
                self.errors.append((bar, exc))
                self._alert(
                    AlertLevel.WARNING,
                    f"subscriber {getattr(cb, '__name__', cb)!r} raised {type(exc).__name__}: {exc}",
                    {"symbol": bar.symbol, "ts_ns": bar.ts_ns},
                )
        return bar

    def _alert(self, level: AlertLevel, message: str, data: Mapping[str, Any]) -> Alert:
        now = self.clock.now_ns()
        alert = Alert(
            make_id("alert", self.source, now, message, len(self.alerts)),
            now, level, self.source, message, dict(data),
        )  # fmt: skip
        self.alerts.append(alert)
        if self.bus is not None:
            self.bus.publish(ALERT_TOPIC, alert)
        return alert

    async def run(self) -> int:
        """Consume the feed until it stops (subscribers get every bar); returns bars emitted."""
        async for _ in self._aiter():
            pass
        return self.n_emitted

    @abstractmethod
    def _aiter(self) -> AsyncIterator[Bar]:
        """The feed's bars as an async iterator (each concrete feed defines its pacing)."""

    def __aiter__(self) -> AsyncIterator[Bar]:
        return self._aiter()


_Arr = TypeVar("_Arr", bound=np.ndarray)


def _read_only(a: _Arr) -> _Arr:
    """A read-only view of ``a`` (no copy)."""
    view = a.view()
    view.flags.writeable = False
    return view


def _as_frames(
    data: pd.DataFrame | Mapping[str, pd.DataFrame], symbol: str | None
) -> dict[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        name = symbol or str(data.attrs.get("symbol") or "SYMBOL")
        return {name: data}
    return dict(data)


class ReplayFeed(_Feed):
    """Replay bar frames in timestamp order across symbols.

    Parameters
    ----------
    bars:
        One frame (its symbol from ``symbol=`` or ``attrs["symbol"]``) or ``{symbol: frame}``;
        frames are validated.
    speed:
        None: as fast as possible (the event loop still gets a turn every ``yield_every``
        bars). A float: ``speed`` × real time, sleeping between bars' close times (each sleep
        capped at ``max_sleep_s``).
    clock:
        If it has ``set_time`` (a :class:`~tradekit.core.clock.SimClock`), it is set to each
        bar's close time before the bar is delivered.
    timeframe:
        ``Bar.timeframe`` label of the emitted bars.
    calendar:
        Exchange calendar of daily bars: a daily bar stamped at a session open closes at that
        session's close (None: every bar lasts the inferred bar spacing).

    Examples
    --------
    >>> from tradekit.testing import bars_from_rows
    >>> feed = ReplayFeed(bars_from_rows([(1, 2, 0.5, 1.5, 10)]), symbol="SPY")
    >>> [b.close for b in feed]
    [1.5]
    """

    source = "feed.replay"

    def __init__(
        self,
        bars: pd.DataFrame | Mapping[str, pd.DataFrame],
        *,
        speed: float | None = None,
        clock: Clock | None = None,
        symbol: str | None = None,
        timeframe: str = "1min",
        bus: EventBus | None = None,
        publish_bars: bool = False,
        max_sleep_s: float = 60.0,
        yield_every: int = 1000,
        calendar: str | None = "XNYS",
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be > 0 or None, got {speed}")
        self.calendar = calendar
        super().__init__(bus=bus, clock=clock, publish_bars=publish_bars)
        self.speed = speed
        self.timeframe = timeframe
        self.max_sleep_s = max_sleep_s
        self.yield_every = max(1, yield_every)
        self._build(_as_frames(bars, symbol))
        self._pos = 0

    def _build(self, frames: dict[str, pd.DataFrame]) -> None:
        parts = []
        self._symbols = list(frames)
        for k, (_, df) in enumerate(frames.items()):
            ts, o, h, lo, c, v = bars_to_arrays(validate_bars(df))
            dur = infer_bar_duration_ns(ts) if ts.shape[0] > 1 else 60 * _NS
            sym = np.full(ts.shape[0], k, dtype=np.int64)
            parts.append((ts, sym, o, h, lo, c, v, self._durations(ts, dur)))
        cols = [np.concatenate([p[i] for p in parts]) if parts else np.empty(0) for i in range(8)]
        # by close time (= emission time), then open time, then symbol order
        order = np.lexsort((cols[1], cols[0], cols[0] + cols[7]))
        self._cols = [col[order] for col in cols]

    def _durations(self, ts: IntArray, dur: int) -> IntArray:
        """Per-bar durations: ``dur`` for intraday bars; a daily bar stamped at its session
        open closes at that session's close (16:00 New York, 13:00 on half days), not 24 hours
        later — so a decision taken at its close is taken while the next session is still
        ahead, and an order then waits for that session's open."""
        out = np.full(ts.shape[0], dur, dtype=np.int64)
        if self.calendar is None or dur < 86_400 * _NS:
            return out
        opens, closes = get_calendar(self.calendar).session_open_close(ts)
        at_open = (opens == ts) & (closes > ts)
        out[at_open] = closes[at_open] - ts[at_open]
        return out

    def __len__(self) -> int:
        return int(self._cols[0].shape[0])

    @property
    def symbols(self) -> list[str]:
        """The replayed symbols, in the order they were given."""
        return list(self._symbols)

    def arrays(
        self, symbol: str
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """``(ts_ns, open, high, low, close, volume)`` of every bar of ``symbol`` this feed
        delivers, in delivery order (validated; what a batch precompute of the replay needs).

        Read-only arrays. With one symbol they are views of the feed's own columns, not
        copies: a million bars are 48 MB of these six columns, a replay needs them once."""
        k = self._symbols.index(symbol)
        if len(self._symbols) == 1:
            cols = [self._cols[i] for i in (0, 2, 3, 4, 5, 6)]
        else:
            mask = self._cols[1] == k
            cols = [self._cols[i][mask] for i in (0, 2, 3, 4, 5, 6)]
        ts = _read_only(np.ascontiguousarray(cols[0], dtype=np.int64))
        o, h, lo, c, v = (_read_only(np.ascontiguousarray(x, dtype=np.float64)) for x in cols[1:])
        return ts, o, h, lo, c, v

    def seek(self, after_close_ns: int) -> int:
        """Continue after the bars closing at or before ``after_close_ns`` (a restart resuming
        from a checkpoint); returns how many bars are skipped."""
        closes = self._cols[0] + self._cols[7]
        self._pos = int(np.searchsorted(closes, int(after_close_ns), side="right"))
        return self._pos

    @property
    def position(self) -> int:
        """Index of the next bar to deliver (``len(self)`` at the end)."""
        return self._pos

    def close_times(self) -> IntArray:
        """Close time (int ns UTC) of every bar, in delivery order."""
        return (self._cols[0] + self._cols[7]).astype(np.int64, copy=False)

    def columns(self) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
        """``(ts_ns, open, high, low, close, duration_ns)`` of every bar, in delivery order."""
        c = self._cols
        return (c[0].astype(np.int64, copy=False), c[2], c[3], c[4], c[5],
                c[7].astype(np.int64, copy=False))  # fmt: skip

    def skip_to(self, position: int) -> int:
        """Advance to bar ``position`` without delivering the bars before it (no subscriber,
        bus or latest-bar update): for a replay that fast-forwards over bars it has proved
        quiet (:mod:`tradekit.runtime.quiet`). Returns how many bars were skipped."""
        position = min(int(position), len(self))
        n = max(0, position - self._pos)
        self._pos += n
        self.n_emitted += n
        return n

    def next_bar(self) -> Bar | None:
        """Deliver the next bar (the clock set to its close first); None at the end."""
        return self._step()

    def _bar(self, i: int) -> Bar:
        ts, sym, o, h, lo, c, v, dur = self._cols
        return Bar(self._symbols[int(sym[i])], self.timeframe, int(ts[i]), float(o[i]),
                   float(h[i]), float(lo[i]), float(c[i]), float(v[i]), int(dur[i]))  # fmt: skip

    def _step(self) -> Bar | None:
        if self._stopped or self._pos >= len(self):
            self._stopped = True
            return None
        bar = self._bar(self._pos)
        self._pos += 1
        set_time = getattr(self.clock, "set_time", None)
        if set_time is not None:
            set_time(bar.close_ts_ns)
        return self._deliver(bar)

    def __iter__(self) -> Iterator[Bar]:
        """Synchronous replay (ignores ``speed``): the backtest loop."""
        while (bar := self._step()) is not None:
            yield bar

    async def _aiter(self) -> AsyncIterator[Bar]:
        prev_close: int | None = None
        while not self._stopped and self._pos < len(self):
            close = int(self._cols[0][self._pos] + self._cols[7][self._pos])
            if self.speed is not None and prev_close is not None:
                wait = min(self.max_sleep_s, max(0.0, (close - prev_close) / _NS / self.speed))
                await asyncio.sleep(wait)
            elif self._pos % self.yield_every == 0:
                await asyncio.sleep(0)
            bar = self._step()
            if bar is None:
                break
            prev_close = close
            yield bar
        self._stopped = True


class PollingFeed(_Feed):
    """Poll a provider for new closed bars.

    Parameters
    ----------
    provider:
        Any :class:`~tradekit.data.sources.MarketDataProvider`.
    symbols:
        Symbols to poll, in tie-break order.
    interval_s:
        Seconds between polls (real time, ``asyncio.sleep``).
    stall_timeout_s:
        Raise a stall alert when no new bar arrived for this long (by ``clock``), once per
        stall episode and symbol.
    clock:
        "Now" for the closed-bar rule and stall detection (default wall clock).
    on_stall:
        ``"alert"`` (default) or ``"raise"`` (:class:`~tradekit.errors.FeedStalled` from the
        iterator, after the alert is published).
    calendar:
        If given, stalls are only detected while this exchange is open.
    backfill:
        Fetch bars missed between polls through ``provider.history``.
    max_polls:
        Stop after this many polls (tests, bounded runs); None runs until :meth:`stop`.
    since:
        Emit bars opening at or after this time on the first poll (backfilled through
        ``history``). None: the first poll emits only each symbol's latest closed bar.
    """

    source = "feed.polling"

    def __init__(
        self,
        provider: MarketDataProvider,
        symbols: Sequence[str],
        interval_s: float,
        *,
        stall_timeout_s: float = 300.0,
        clock: Clock | None = None,
        bus: EventBus | None = None,
        on_stall: Literal["alert", "raise"] = "alert",
        calendar: str | None = None,
        backfill: bool = True,
        publish_bars: bool = False,
        max_polls: int | None = None,
        since: TimeLike = None,
    ) -> None:
        if interval_s < 0 or stall_timeout_s <= 0:
            raise ValueError("interval_s must be >= 0 and stall_timeout_s > 0")
        super().__init__(bus=bus, clock=clock, publish_bars=publish_bars)
        self.provider = provider
        self.symbols = list(symbols)
        self.interval_s = interval_s
        self.stall_timeout_ns = int(stall_timeout_s * _NS)
        self.on_stall = on_stall
        self.calendar = calendar
        self.backfill = backfill
        self.max_polls = max_polls
        self.n_polls = 0
        start = to_ns(since)
        self._last_ts: dict[str, int] = (
            {} if start is None else dict.fromkeys(self.symbols, start - 1)
        )
        self._last_new_at: dict[str, int] = {}
        self._stalled: set[str] = set()
        self._pending: deque[Bar] = deque()
        #: Bars rejected by :func:`bar_problem`, with the rule they broke.
        self.quarantine: list[tuple[Bar, str]] = []

    # ----------------------------------------------------------------- one poll
    def poll(self) -> list[Bar]:
        """Poll every symbol once; return the new closed bars in emission order (not yet
        delivered — the iterator delivers them). Provider errors become alerts."""
        self.n_polls += 1
        now = self.clock.now_ns()
        fresh: list[tuple[int, int, Bar]] = []
        for k, sym in enumerate(self.symbols):
            self._last_new_at.setdefault(sym, now)
            for bar in self._new_bars(sym, now):
                fresh.append((bar.ts_ns, k, bar))
        fresh.sort(key=lambda t: (t[0], t[1]))
        out = [b for _, _, b in fresh]
        self._check_stalls(now)
        return out

    def _new_bars(self, sym: str, now: int) -> list[Bar]:
        try:
            bar = self.provider.latest(sym)
        except Exception as exc:  # the loop must survive any provider failure
            self._alert(AlertLevel.WARNING, f"provider failed for {sym}: {exc!r}", {"symbol": sym})
            return []
        last = self._last_ts.get(sym)
        if bar is None or (last is not None and bar.ts_ns <= last):
            return []
        bars = self._backfill(sym, last, bar) if self.backfill and last is not None else [bar]
        bars = [b for b in bars if b.close_ts_ns <= now]  # never a forming bar, whatever the source
        good = [b for b in bars if self._accept(b)]
        if bars:
            self._last_ts[sym] = max(b.ts_ns for b in bars)
        if good:
            self._last_new_at[sym] = now
            self._stalled.discard(sym)
        return good

    def _backfill(self, sym: str, last: int, bar: Bar) -> list[Bar]:
        if bar.ts_ns - last <= bar.duration_ns:
            return [bar]
        try:
            df = self.provider.history(sym, start=last + 1, end=bar.ts_ns)
        except Exception as exc:
            self._alert(AlertLevel.WARNING, f"backfill failed for {sym}: {exc!r}", {"symbol": sym})
            return [bar]
        ts, o, h, lo, c, v = bars_to_arrays(df)
        missed = [
            Bar(
                sym,
                bar.timeframe,
                int(ts[i]),
                float(o[i]),
                float(h[i]),
                float(lo[i]),
                float(c[i]),
                float(v[i]),
                bar.duration_ns,
            )
            for i in range(ts.shape[0])
            if last < ts[i] < bar.ts_ns
        ]
        return [*missed, bar]

    def _accept(self, bar: Bar) -> bool:
        problem = bar_problem(bar)
        if problem is None:
            return True
        self.quarantine.append((bar, problem))
        self._alert(
            AlertLevel.WARNING,
            f"quarantined bad {bar.symbol} bar at {pd.Timestamp(bar.ts_ns, tz='UTC')}: {problem}",
            {"symbol": bar.symbol, "ts_ns": bar.ts_ns, "rule": problem},
        )
        return False

    def _check_stalls(self, now: int) -> None:
        if self.calendar is not None and not get_calendar(self.calendar).is_open(now):
            return
        for sym in self.symbols:
            idle = now - self._last_new_at.get(sym, now)
            if idle >= self.stall_timeout_ns and sym not in self._stalled:
                self._stalled.add(sym)
                alert = self._alert(
                    AlertLevel.CRITICAL,
                    f"feed stalled: no new {sym} bar for {idle / _NS:.0f} s",
                    {"symbol": sym, "idle_s": idle / _NS},
                )
                if self.on_stall == "raise":
                    raise FeedStalled(alert.message)

    @property
    def stalled_symbols(self) -> list[str]:
        """Symbols currently in a stall episode (cleared by their next new bar)."""
        return sorted(self._stalled)

    # ----------------------------------------------------------------- iteration
    async def _aiter(self) -> AsyncIterator[Bar]:
        while not self._stopped:
            if not self._pending:
                if self.max_polls is not None and self.n_polls >= self.max_polls:
                    break
                if self.n_polls:
                    await asyncio.sleep(self.interval_s)
                    if self._stopped:
                        break
                self._pending.extend(self.poll())
                continue
            yield self._deliver(self._pending.popleft())
        self._stopped = True
