"""Clocks: the only source of "now" inside the engine.

Components call ``clock.now_ns()`` and never ``time.time()``, so the same code runs on a
replayed timeline (:class:`SimClock`, set by the backtest loop before each bar) and on the
wall clock (:class:`WallClock`, live). Times are int nanoseconds since the epoch, UTC.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = [
    "NS_PER_DAY",
    "NS_PER_MINUTE",
    "NS_PER_SECOND",
    "Clock",
    "SimClock",
    "WallClock",
    "event_time_ns",
]

NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_DAY = 86_400 * NS_PER_SECOND


@runtime_checkable
class Clock(Protocol):
    """Anything that can tell the current time in UTC nanoseconds."""

    def now_ns(self) -> int:
        """Current time, int nanoseconds since the Unix epoch (UTC)."""
        ...


class SimClock:
    """A clock driven by the caller: the replay loop sets it to each event's time.

    Time never runs backwards: :meth:`set_time` to an earlier instant raises ``ValueError``,
    which turns an out-of-order replay into a loud error rather than a silent look-ahead.

    Examples
    --------
    >>> c = SimClock(0)
    >>> c.set_time(5)
    >>> c.now_ns()
    5
    """

    __slots__ = ("_now",)

    def __init__(self, start_ns: int = 0) -> None:
        self._now = int(start_ns)

    def now_ns(self) -> int:
        return self._now

    def set_time(self, ts_ns: int) -> None:
        """Move the clock to ``ts_ns`` (must not be earlier than the current time)."""
        ts_ns = int(ts_ns)
        if ts_ns < self._now:
            raise ValueError(f"SimClock cannot go back in time: {ts_ns} < {self._now}")
        self._now = ts_ns

    def advance(self, delta_ns: int) -> None:
        """Move the clock forward by ``delta_ns`` nanoseconds (>= 0)."""
        if delta_ns < 0:
            raise ValueError("delta_ns must be >= 0")
        self._now += int(delta_ns)

    def __repr__(self) -> str:
        return f"SimClock(now_ns={self._now})"


class WallClock:
    """The real clock (UTC); used by the live runtime."""

    __slots__ = ()

    def now_ns(self) -> int:
        return time.time_ns()

    def __repr__(self) -> str:
        return "WallClock()"


def event_time_ns(clock: Clock) -> int:
    """The time to stamp an event with: ``clock.now_ns()``, or the wall clock while a
    :class:`SimClock` has not been set yet (before the first bar it stands at 0, and an event
    stamped 1970-01-01 tells nothing)."""
    now = clock.now_ns()
    return now if now > 0 else time.time_ns()
