"""Exchange session calendars (holidays, half days) as int-ns UTC arrays.

A thin, cached layer over :mod:`exchange_calendars`. The session table is built lazily for the
range that callers actually ask about and extended (rebuilt once, covering the union) when a
later query falls outside it, so a backtest over 2000–2013 never pays for 1885–2100.

Every time in and out of this module is int nanoseconds since the epoch, UTC, except the
session *labels* (dates) returned by :meth:`MarketCalendar.sessions`. A session is the half-open
interval ``[open_ns, close_ns)``: a bar stamped exactly at the close belongs to no session.

Examples
--------
>>> cal = get_calendar("XNYS")
>>> cal.is_session("2024-07-04")
False
>>> o, c = cal.session_bounds(pd.Timestamp("2024-11-29 15:00", tz="UTC").value)
>>> pd.Timestamp(c, tz="UTC").tz_convert("America/New_York").strftime("%H:%M")
'13:00'
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from tradekit._typing import BoolArray, IntArray
from tradekit.errors import ConfigError, DataError

__all__ = ["MarketCalendar", "get_calendar"]

_NS_PER_DAY = 86_400 * 1_000_000_000
#: Extra years loaded on each side of a requested range, so neighbouring queries hit the cache.
_PAD_YEARS = 2
#: exchange_calendars cannot go earlier than this for most exchanges.
_MIN_YEAR = 1990
_MAX_YEAR = 2100
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NS_PER_DAY = 86_400 * 10**9

DateLike: TypeAlias = str | dt.date | dt.datetime | pd.Timestamp | np.datetime64


def _to_date(value: DateLike) -> dt.date:
    """A calendar date from a date-like (tz-aware stamps are taken in their own zone)."""
    if type(value) is dt.date:  # the common case, without a Timestamp round trip
        return value
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"not a date: {value!r}", rule="date") from exc
    if ts is pd.NaT:
        raise DataError(f"not a date: {value!r}", rule="date")
    return ts.date()


def _ns_to_year(ts_ns: int) -> int:
    return int(pd.Timestamp(int(ts_ns), tz="UTC").year)


class MarketCalendar:
    """Sessions of one exchange, cached as sorted int64 arrays.

    Parameters
    ----------
    name:
        An :mod:`exchange_calendars` code (``"XNYS"`` for NYSE, the default; ``"XNAS"``,
        ``"XCBF"``, ...). ``exchange_calendars`` is imported lazily on first use.

    Notes
    -----
    The arrays ``_dates``, ``_opens`` and ``_closes`` (sessions' midnight-UTC labels, opens and
    closes in int ns UTC) always cover the year range ``[_lo_year, _hi_year]``. Queries outside
    it trigger one rebuild covering the union (plus :data:`_PAD_YEARS` on each side).
    """

    def __init__(self, name: str = "XNYS") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._last_session: tuple[int, int] | None = None
        #: the last stretch found outside every session, ``[last close, next open)``
        self._last_gap: tuple[int, int] = (0, 0)
        #: int ns UTC covered by the loaded years, ``[_lo_ns, _hi_ns)``
        self._lo_ns = self._hi_ns = 0
        self._lo_year = 0
        self._hi_year = -1
        self._dates: IntArray = np.empty(0, dtype=np.int64)
        self._opens: IntArray = np.empty(0, dtype=np.int64)
        self._closes: IntArray = np.empty(0, dtype=np.int64)
        self._early: BoolArray = np.empty(0, dtype=np.bool_)
        self._check_name()

    def __repr__(self) -> str:
        return f"MarketCalendar({self.name!r})"

    # ------------------------------------------------------------------ cache management
    def _check_name(self) -> None:
        import exchange_calendars as xc

        if self.name not in xc.get_calendar_names():
            raise ConfigError(f"unknown exchange calendar {self.name!r}")

    def _ensure_years(self, lo_year: int, hi_year: int) -> None:
        """Make sure sessions of the years ``lo_year..hi_year`` are loaded."""
        if self._lo_year <= lo_year and hi_year <= self._hi_year:
            return
        with self._lock:
            if self._lo_year <= lo_year and hi_year <= self._hi_year:
                return
            if self._hi_year >= self._lo_year:  # extend an existing cache
                lo_year = min(lo_year, self._lo_year)
                hi_year = max(hi_year, self._hi_year)
            lo = max(_MIN_YEAR, lo_year - _PAD_YEARS)
            hi = min(_MAX_YEAR, hi_year + _PAD_YEARS)
            self._build(lo, hi)

    def _build(self, lo_year: int, hi_year: int) -> None:
        import exchange_calendars as xc

        with warnings.catch_warnings():
            # exchange_calendars uses Series.values on tz-aware data (deprecated in pandas 3.1)
            warnings.filterwarnings("ignore", message="Series.values returning")
            start, end = f"{lo_year}-01-01", f"{hi_year}-12-31"
            cal: Any = xc.get_calendar(self.name, start=start, end=end)
            sched = cal.schedule
            early_idx = pd.DatetimeIndex(cal.early_closes).as_unit("ns").asi8
        dates = pd.DatetimeIndex(sched.index).as_unit("ns").asi8.astype(np.int64)
        opens = pd.DatetimeIndex(sched["open"]).as_unit("ns").asi8.astype(np.int64)
        closes = pd.DatetimeIndex(sched["close"]).as_unit("ns").asi8.astype(np.int64)
        early = np.isin(dates, early_idx)
        # publish arrays before the bounds, so a concurrent reader never sees bounds without data
        self._dates, self._opens, self._closes, self._early = dates, opens, closes, early
        self._lo_year, self._hi_year = lo_year, hi_year
        self._lo_ns = pd.Timestamp(f"{lo_year}-01-01", tz="UTC").value
        self._hi_ns = pd.Timestamp(f"{hi_year + 1}-01-01", tz="UTC").value

    def _ensure_ns(self, lo_ns: int, hi_ns: int) -> None:
        lo = max(_MIN_YEAR, min(_MAX_YEAR, _ns_to_year(lo_ns)))
        hi = max(_MIN_YEAR, min(_MAX_YEAR, _ns_to_year(hi_ns)))
        self._ensure_years(lo, hi)

    # ------------------------------------------------------------------ public API
    def sessions(self, start: DateLike, end: DateLike) -> pd.DataFrame:
        """Sessions whose date lies in ``[start, end]`` (inclusive, by calendar date).

        Returns
        -------
        pandas.DataFrame
            Index: session dates (naive midnight ``DatetimeIndex`` named ``"session"``).
            Columns: ``open_ns`` and ``close_ns`` (int64 ns UTC) and ``early_close`` (bool,
            True on half days such as the day after Thanksgiving).
        """
        d0, d1 = _to_date(start), _to_date(end)
        if d1 < d0:
            raise DataError(f"sessions: end {d1} is before start {d0}", rule="range")
        self._ensure_years(d0.year, d1.year)
        lo = np.searchsorted(self._dates, pd.Timestamp(d0).value, side="left")
        hi = np.searchsorted(self._dates, pd.Timestamp(d1).value, side="right")
        index = pd.DatetimeIndex(self._dates[lo:hi].view("datetime64[ns]"), name="session")
        return pd.DataFrame(
            {
                "open_ns": self._opens[lo:hi].copy(),
                "close_ns": self._closes[lo:hi].copy(),
                "early_close": self._early[lo:hi].copy(),
            },
            index=index,
        )

    def session_arrays(self, start: DateLike, end: DateLike) -> tuple[IntArray, IntArray, IntArray]:
        """``(dates, open_ns, close_ns)`` of the sessions whose date lies in ``[start, end]``:
        the columns of :meth:`sessions` as read-only int64 arrays (dates as naive-midnight
        ns), without building a frame (for callers that ask once per day)."""
        d0, d1 = _to_date(start), _to_date(end)
        if d1 < d0:
            raise DataError(f"sessions: end {d1} is before start {d0}", rule="range")
        self._ensure_years(d0.year, d1.year)
        lo = np.searchsorted(self._dates, (d0.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY)
        hi = np.searchsorted(self._dates, (d1.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY, "right")
        out = (self._dates[lo:hi], self._opens[lo:hi], self._closes[lo:hi])
        for a in out:
            a.flags.writeable = False
        return out

    def sessions_from(self, start: DateLike, count: int) -> pd.DataFrame:
        """The first ``count`` sessions on or after ``start`` (same layout as :meth:`sessions`)."""
        if count < 0:
            raise DataError("sessions_from: count must be >= 0", rule="range")
        d0 = _to_date(start)
        # ~252 sessions a year; load enough years, extending until the count is reached
        years = count // 240 + 1
        while True:
            self._ensure_years(d0.year, min(_MAX_YEAR, d0.year + years))
            lo = int(np.searchsorted(self._dates, pd.Timestamp(d0).value, side="left"))
            if lo + count <= len(self._dates) or self._hi_year >= _MAX_YEAR:
                break
            years *= 2
        end_pos = min(lo + count, len(self._dates))
        if end_pos - lo < count:
            raise DataError(f"calendar {self.name} has fewer than {count} sessions after {d0}")
        if count == 0:
            return self.sessions(d0, d0).iloc[:0]
        first = pd.Timestamp(int(self._dates[lo])).date()
        last = pd.Timestamp(int(self._dates[end_pos - 1])).date()
        return self.sessions(first, last)

    def is_session(self, date: DateLike) -> bool:
        """Whether ``date`` (a calendar date) is a trading session (False on holidays/weekends)."""
        d = _to_date(date)
        self._ensure_years(d.year, d.year)
        key = (d.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY  # naive midnight, ns
        pos = int(np.searchsorted(self._dates, key))
        return pos < len(self._dates) and int(self._dates[pos]) == key

    def session_bounds(self, ts_ns: int) -> tuple[int, int] | None:
        """``(open_ns, close_ns)`` of the session containing ``ts_ns``, or None outside any.

        The last session found is remembered, and so is the last stretch between two
        sessions: bars arrive session by session, so most calls are two comparisons instead
        of an array lookup."""
        last = self._last_session
        if last is not None and last[0] <= ts_ns < last[1]:
            return last
        gap = self._last_gap
        if gap[0] <= ts_ns < gap[1]:
            return None
        ts = int(ts_ns)
        if not self._lo_ns <= ts < self._hi_ns:
            self._ensure_ns(ts, ts)
        opens, closes = self._opens, self._closes
        pos = int(opens.searchsorted(ts, side="right")) - 1
        if pos >= 0 and ts < closes[pos]:
            found = (int(opens[pos]), int(closes[pos]))
            self._last_session = found
            return found
        if self._lo_ns <= ts < self._hi_ns:  # (outside the years 1990-2100: not remembered)
            after = int(closes[pos]) if pos >= 0 else self._lo_ns
            until = int(opens[pos + 1]) if pos + 1 < opens.shape[0] else self._hi_ns
            self._last_gap = (after, until)
        return None

    def is_open(self, ts_ns: int) -> bool:
        """Whether the market is open at ``ts_ns`` (``open <= ts < close``)."""
        return self.session_bounds(ts_ns) is not None

    def session_positions(self, ts_ns: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Per timestamp: ``(open_ns, close_ns, session_date_ns)``, ``-1`` outside sessions.

        ``session_date_ns`` is the session label (midnight UTC of the session date), which
        lets callers group bars by session (daily buckets) or by ISO week. Timestamps outside
        the years 1990–2100 (the range loaded from exchange_calendars) count as outside.
        """
        ts = np.ascontiguousarray(ts_ns, dtype=np.int64)
        n = ts.shape[0]
        if n == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        self._ensure_ns(int(ts.min()), int(ts.max()))
        pos = np.searchsorted(self._opens, ts, side="right") - 1
        safe = np.clip(pos, 0, None)
        inside = (pos >= 0) & (ts < self._closes[safe])
        opens = np.where(inside, self._opens[safe], -1)
        closes = np.where(inside, self._closes[safe], -1)
        dates = np.where(inside, self._dates[safe], -1)
        return opens, closes, dates

    def session_open_close(self, ts_ns: IntArray) -> tuple[IntArray, IntArray]:
        """Vectorised session lookup: per timestamp the open and close (int ns UTC) of the
        session that contains it, ``-1`` where the timestamp is outside every session.

        Used by the ORB detector (opening range) and by the decision engine's session gate
        (holidays and half days come from the exchange calendar).
        """
        opens, closes, _ = self.session_positions(ts_ns)
        return opens, closes


_CALENDARS: dict[str, MarketCalendar] = {}
_CAL_LOCK = threading.Lock()


def get_calendar(name: str = "XNYS") -> MarketCalendar:
    """The process-wide cached :class:`MarketCalendar` for ``name`` (one instance per code)."""
    cal = _CALENDARS.get(name)
    if cal is None:
        with _CAL_LOCK:
            cal = _CALENDARS.get(name)
            if cal is None:
                cal = MarketCalendar(name)
                _CALENDARS[name] = cal
    return cal
