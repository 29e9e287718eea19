"""Trading-session windows on the **bar** time, in New York wall time.

The origin system checked the session on the wall clock, so a replayed bar was judged by the
time the replay ran. Here every check takes the bar timestamp (int ns UTC), converts it to
``America/New_York`` and compares it with a window built from the exchange calendar:

* the calendar decides whether the date is a session at all (weekends, holidays) and when it
  opens and closes (half days close early, e.g. 13:00);
* the configured window (``09:30–16:00`` by default, ``09:45–15:45`` for intraday options) is
  intersected with the calendar session. On an early-close day the window keeps its distance
  from the regular close (16:00): an intraday window that ends 15 minutes before the regular
  close ends 15 minutes before the early close.

A bar is inside when ``start <= ts < end`` (the bar's open time, see SIGNALS.md §0).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from tradekit._typing import BoolArray, IntArray
from tradekit.core.clock import NS_PER_MINUTE, NS_PER_SECOND
from tradekit.decision.base import SessionCalendar

__all__ = ["DayIndex", "SessionWindow", "hhmm_minutes", "local_time", "ns_of_local", "ny_date"]

_REGULAR_CLOSE_MIN = 16 * 60


def hhmm_minutes(text: str) -> int:
    """Minutes after midnight of an ``"HH:MM"`` string (validated by the config)."""
    hh, mm = text.split(":")
    return int(hh) * 60 + int(mm)


def local_time(ts_ns: int, tz: ZoneInfo) -> dt.datetime:
    """The wall time of ``ts_ns`` in ``tz`` (second resolution is enough for session checks)."""
    return dt.datetime.fromtimestamp(ts_ns // NS_PER_SECOND, tz)


def ny_date(ts_ns: int, tz: ZoneInfo) -> dt.date:
    """The trading date of ``ts_ns`` in ``tz`` (New York by default in the engines)."""
    return local_time(ts_ns, tz).date()


def ns_of_local(day: dt.date, minutes: int, tz: ZoneInfo) -> int:
    """UTC ns of ``day`` at ``minutes`` after local midnight in ``tz`` (DST-aware)."""
    local = dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)
    return int(local.timestamp()) * NS_PER_SECOND


class DayIndex:
    """Fast ``ts_ns → local date`` with the last day's UTC bounds memoised.

    Converting a timestamp to a zone is ~1 µs; replayed bars arrive day by day, so remembering
    the ``[midnight, next midnight)`` of the last date answers almost every call with two
    integer comparisons (DST days have their true 23/25 h length).
    """

    __slots__ = ("_day", "_hi", "_key", "_lo", "tz")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._lo = 0
        self._hi = 0
        self._day = dt.date(1970, 1, 1)
        self._key = self._day.isoformat()

    def day(self, ts_ns: int) -> dt.date:
        """The local date of ``ts_ns``."""
        if self._lo <= ts_ns < self._hi:
            return self._day
        day = ny_date(ts_ns, self.tz)
        self._lo = ns_of_local(day, 0, self.tz)
        self._hi = ns_of_local(day + dt.timedelta(days=1), 0, self.tz)
        self._day = day
        self._key = day.isoformat()
        return day

    def key(self, ts_ns: int) -> str:
        """The local date of ``ts_ns`` as ``YYYY-MM-DD`` (memoised like :meth:`day`)."""
        if not (self._lo <= ts_ns < self._hi):
            self.day(ts_ns)
        return self._key

    def end_ns(self, ts_ns: int) -> int:
        """The next local midnight after ``ts_ns`` (int ns UTC): where its date ends."""
        self.day(ts_ns)
        return self._hi

    def minute_of_day(self, ts_ns: int) -> int:
        """Minutes since local midnight of ``ts_ns``'s date."""
        self.day(ts_ns)
        return (ts_ns - self._lo) // NS_PER_MINUTE


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


#: ``_hhmm`` of every minute of a (up to 25 h) local day, so the in-session reason of
#: :meth:`SessionWindow.check` is two string concatenations instead of date formatting.
_HHMM: tuple[str, ...] = tuple(_hhmm(m) for m in range(25 * 60))


@dataclass(slots=True)
class SessionWindow:
    """A configured intraday window intersected with the exchange calendar.

    Parameters
    ----------
    calendar:
        Exchange calendar (holidays, half days).
    start, end:
        Local window ``"HH:MM"``; ``None`` for both means "any time of a weekday" (LEAPS): only
        the day of week is checked, not the calendar session.
    tz:
        Zone of the window (``America/New_York``).
    """

    calendar: SessionCalendar
    start: str | None
    end: str | None
    tz: ZoneInfo
    _cache: dict[dt.date, tuple[int, int]] = field(default_factory=dict, repr=False)
    _days: DayIndex | None = field(default=None, repr=False)
    # facts of the last day whose window was found (the in-session fast path of ``check``):
    # local midnight bounds [_day_lo, _day_hi), window [_win_lo, _win_hi), "YYYY-MM-DD " prefix
    _day_lo: int = field(default=0, init=False, repr=False, compare=False)
    _day_hi: int = field(default=0, init=False, repr=False, compare=False)
    _win_lo: int = field(default=0, init=False, repr=False, compare=False)
    _win_hi: int = field(default=0, init=False, repr=False, compare=False)
    _prefix: str = field(default="", init=False, repr=False, compare=False)

    def _day_index(self) -> DayIndex:
        if self._days is None:
            self._days = DayIndex(self.tz)
        return self._days

    def window(self, ts_ns: int) -> tuple[int, int] | None:
        """``(start_ns, end_ns)`` of the window on the local date of ``ts_ns``; ``None`` when
        that date has no session (weekend, holiday).

        A date's window does not depend on the time asked about: a pre-market or after-hours
        time gets its date's window too (so reasons and horizons never depend on which bars
        of the day were seen first)."""
        days = self._day_index()
        day = days.day(ts_ns)
        cached = self._cache.get(day)
        if cached is not None:
            self._remember_day(days, cached)
            return cached
        bounds = self.calendar.session_bounds(int(ts_ns))
        if bounds is None:  # outside the session: the date's session, if any, holds noon
            bounds = self.calendar.session_bounds(ns_of_local(day, 12 * 60, self.tz))
        if bounds is None:
            return None
        open_ns, close_ns = int(bounds[0]), int(bounds[1])
        if self.start is None or self.end is None:
            win = (open_ns, close_ns)
        else:
            start_min, end_min = hhmm_minutes(self.start), hhmm_minutes(self.end)
            margin = max(0, _REGULAR_CLOSE_MIN - end_min) * NS_PER_MINUTE
            start_ns = max(open_ns, ns_of_local(day, start_min, self.tz))
            end_ns = min(ns_of_local(day, end_min, self.tz), close_ns - margin)
            win = (start_ns, end_ns)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[day] = win
        self._remember_day(days, win)
        return win

    def _remember_day(self, days: DayIndex, win: tuple[int, int]) -> None:
        """Keep the window of ``days``' current date for :meth:`check`'s fast path (only a
        timed window has one: without start/end, check looks at the weekday alone)."""
        if self.start is None:
            return
        if days._lo != self._day_lo or days._hi != self._day_hi:
            self._day_lo, self._day_hi = days._lo, days._hi
            self._prefix = f"{days._day} "
        self._win_lo, self._win_hi = win

    def check(self, ts_ns: int) -> tuple[bool, str]:
        """Whether ``ts_ns`` is inside the window, and a human-readable reason."""
        midnight = self._day_lo
        if midnight <= ts_ns < self._day_hi and self._win_lo <= ts_ns < self._win_hi:
            # fast path: same local day as the last window found, inside it (minutes counted
            # from local midnight, as DayIndex.minute_of_day does)
            minute = _HHMM[(ts_ns - midnight) // NS_PER_MINUTE]
            return True, self._prefix + minute + " NY inside session"
        win = self.window(ts_ns) if self.start is not None else None
        if win is not None and win[0] <= ts_ns < win[1]:  # window() set the day's facts
            minute = _HHMM[(ts_ns - self._day_lo) // NS_PER_MINUTE]
            return True, self._prefix + minute + " NY inside session"
        local = local_time(ts_ns, self.tz)
        stamp = f"{local:%a %Y-%m-%d %H:%M} NY"
        if self.start is None or self.end is None:
            if local.weekday() >= 5:
                return False, f"{stamp} is not a weekday"
            return True, f"{stamp} on a weekday (any time allowed)"
        if win is None:
            return False, f"market closed at {stamp} (weekend or holiday)"
        start_ns, end_ns = win
        lo, hi = local_time(start_ns, self.tz), local_time(end_ns, self.tz)
        return False, f"{stamp} outside session {lo:%H:%M}-{hi:%H:%M}"

    def contains(self, ts_ns: IntArray) -> BoolArray:
        """Per bar time of ``ts_ns`` (int ns UTC): whether :meth:`check` says inside.

        The vectorised twin of ``check(ts)[0]`` (tested against it): with a timed window,
        inside the window of the time's local date; without one, a local weekday. The local
        date is taken at second resolution, as :func:`local_time` does.
        """
        ts = np.asarray(ts_ns, dtype=np.int64)
        if ts.size == 0:
            return np.zeros(0, dtype=np.bool_)
        local = pd.to_datetime(ts // NS_PER_SECOND, unit="s", utc=True).tz_convert(self.tz)
        if self.start is None or self.end is None:
            return np.asarray(local.day_of_week < 5, dtype=np.bool_)
        key = np.asarray(local.year * 10_000 + local.month * 100 + local.day, dtype=np.int64)
        _, first, code = np.unique(key, return_index=True, return_inverse=True)
        lo = np.ones(first.shape[0], dtype=np.int64)  # a day without a window: lo > hi
        hi = np.zeros(first.shape[0], dtype=np.int64)
        for d, i in enumerate(first.tolist()):
            win = self.window(int(ts[i]))
            if win is not None:
                lo[d], hi[d] = win
        code = code.reshape(-1)
        return np.asarray((lo[code] <= ts) & (ts < hi[code]), dtype=np.bool_)
