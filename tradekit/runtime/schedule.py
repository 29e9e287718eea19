"""The trading day of the auto-trader, from the exchange calendar and the *bar* time.

Every answer here takes a bar timestamp (int ns UTC) — the close of the bar being processed,
i.e. the :class:`~tradekit.core.clock.SimClock` of a replay or the wall clock live — never the
time the code happens to run, so a replay and a live session follow the same schedule.

A session day, in order (New York wall time; half days close early, holidays have none):

``WARMUP``
    ``warmup_minutes`` before the open: bars may arrive (pre-market data feeds the detectors)
    but no entry is possible.
``OPEN``
    Inside one of the configured entry windows (``decision.session_start``–``session_end`` by
    default, intersected with the session; on a half day a window ending before the regular
    close keeps its distance to the early close, as the decision engine's session gate does).
``NO_ENTRY``
    In the session but outside every entry window.
``FLATTEN``
    From ``execution.flatten_intraday_minutes_before_close`` before the close to the close:
    intraday positions are closed, nothing is opened.
``CLOSED``
    Outside any session (nights, weekends, holidays): the trader idles.

The session close is also when the daily rollup is written (:meth:`TradingSchedule.closes`).

Examples
--------
>>> sched = TradingSchedule()
>>> ts = int(pd.Timestamp("2024-11-29 12:59", tz="America/New_York").value)  # half day
>>> sched.phase(ts).value
'FLATTEN'
>>> sched.phase(int(pd.Timestamp("2024-11-28 12:00", tz="America/New_York").value)).value
'CLOSED'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import NS_PER_MINUTE
from tradekit.data.calendar import MarketCalendar, get_calendar
from tradekit.decision.sessions import hhmm_minutes, ns_of_local

__all__ = ["Phase", "SessionTimes", "TradingSchedule"]

_REGULAR_CLOSE_MIN = 16 * 60


class Phase(StrEnum):
    """Where a timestamp falls in the trading day (see the module docstring)."""

    CLOSED = "CLOSED"
    WARMUP = "WARMUP"
    OPEN = "OPEN"
    NO_ENTRY = "NO_ENTRY"
    FLATTEN = "FLATTEN"


@dataclass(frozen=True, slots=True)
class SessionTimes:
    """One session's times, int ns UTC; ``windows`` are the entry windows ``[start, end)``;
    ``half_day``: the session closes before the regular 16:00 New York close."""

    date: dt.date
    open_ns: int
    close_ns: int
    warmup_ns: int
    flatten_ns: int
    windows: tuple[tuple[int, int], ...]
    half_day: bool = False


class TradingSchedule:
    """Phases of the trading day for one calendar and configuration.

    Parameters
    ----------
    calendar:
        Exchange calendar (name or instance).
    windows:
        Entry windows as ``("HH:MM", "HH:MM")`` New York wall times.
    warmup_minutes:
        Minutes before the open that count as warm-up.
    flatten_minutes:
        Minutes before the close from which intraday positions are flattened (0: at the close).
    timezone:
        The exchange time zone of the windows.
    """

    def __init__(
        self,
        calendar: str | MarketCalendar = "XNYS",
        *,
        windows: Sequence[tuple[str, str]] = (("09:30", "16:00"),),
        warmup_minutes: float = 30.0,
        flatten_minutes: float = 5.0,
        timezone: str = "America/New_York",
    ) -> None:
        if warmup_minutes < 0 or flatten_minutes < 0:
            raise ValueError("warmup_minutes and flatten_minutes must be >= 0")
        self.calendar = get_calendar(calendar) if isinstance(calendar, str) else calendar
        self.tz = ZoneInfo(timezone)
        self.windows = tuple((hhmm_minutes(a), hhmm_minutes(b)) for a, b in windows)
        if any(b <= a for a, b in self.windows):
            raise ValueError(f"every entry window must end after it starts: {windows}")
        self.warmup_ns = int(warmup_minutes * NS_PER_MINUTE)
        self.flatten_ns = int(flatten_minutes * NS_PER_MINUTE)
        self._memo: SessionTimes | None = None

    @classmethod
    def from_config(
        cls, config: AlgorithmConfig, *, warmup_minutes: float = 30.0
    ) -> TradingSchedule:
        """The schedule of ``config``: its decision window, calendar and flatten offset."""
        d = config.decision
        return cls(
            d.calendar,
            windows=((d.session_start, d.session_end),),
            warmup_minutes=warmup_minutes,
            flatten_minutes=config.execution.flatten_intraday_minutes_before_close,
            timezone=d.timezone,
        )

    # -- sessions ------------------------------------------------------------------------
    def _times(self, open_ns: int, close_ns: int) -> SessionTimes:
        day = pd.Timestamp(open_ns, tz="UTC").tz_convert(self.tz).date()
        close_local = pd.Timestamp(close_ns, tz="UTC").tz_convert(self.tz)
        early = _REGULAR_CLOSE_MIN - (close_local.hour * 60 + close_local.minute)
        wins = []
        for a, b in self.windows:
            start = max(open_ns, ns_of_local(day, a, self.tz))
            # a window ending before the regular close keeps its distance to an early close
            end = min(close_ns, ns_of_local(day, b - max(0, early), self.tz))
            if end > start:
                wins.append((start, end))
        return SessionTimes(day, open_ns, close_ns, open_ns - self.warmup_ns,
                            max(open_ns, close_ns - self.flatten_ns), tuple(wins),
                            early > 0)  # fmt: skip

    def session_at(self, ts_ns: int) -> SessionTimes | None:
        """The session whose ``[warm-up, close]`` contains ``ts_ns`` (the close itself belongs
        to the session: a bar closing at 16:00 is its last bar), or None."""
        memo = self._memo
        if memo is not None and memo.warmup_ns <= ts_ns <= memo.close_ns:
            return memo
        for probe in (ts_ns, ts_ns - 1, ts_ns + self.warmup_ns):
            bounds = self.calendar.session_bounds(probe)
            if bounds is not None:
                times = self._times(*bounds)
                if times.warmup_ns <= ts_ns <= times.close_ns:
                    self._memo = times
                    return times
        return None

    def phase(self, ts_ns: int) -> Phase:
        """The phase of the trading day at ``ts_ns``."""
        s = self.session_at(ts_ns)
        if s is None:
            return Phase.CLOSED
        if ts_ns < s.open_ns:
            return Phase.WARMUP
        if ts_ns >= s.flatten_ns:
            return Phase.FLATTEN
        if any(a <= ts_ns < b for a, b in s.windows):
            return Phase.OPEN
        return Phase.NO_ENTRY

    def entries_allowed(self, ts_ns: int) -> bool:
        """Whether a new position may be opened at ``ts_ns`` (phase OPEN)."""
        return self.phase(ts_ns) is Phase.OPEN

    def is_market_open(self, ts_ns: int) -> bool:
        """Whether the exchange is open at ``ts_ns``."""
        return self.calendar.is_open(ts_ns)

    def closes(self, after_ns: int, upto_ns: int) -> list[SessionTimes]:
        """Sessions whose close lies in ``(after_ns, upto_ns]``, oldest first: the daily
        rollups due when the bar time moves from ``after_ns`` to ``upto_ns``."""
        if upto_ns <= after_ns:
            return []
        lo = pd.Timestamp(max(after_ns, 0), tz="UTC").tz_convert(self.tz).date()
        hi = pd.Timestamp(upto_ns, tz="UTC").tz_convert(self.tz).date()
        sessions = self.calendar.sessions(lo, hi)
        out = []
        for o, c in zip(sessions["open_ns"].tolist(), sessions["close_ns"].tolist(), strict=True):
            if after_ns < c <= upto_ns:
                out.append(self._times(o, c))
        return out
