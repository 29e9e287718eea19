"""New York trading-date helpers shared by the ledger and the paper broker.

A *trading date* is the calendar date in America/New_York; the account's day (start-of-day
equity, trades today, day P&L) and DAY order expiry roll on it. Conversions are cached per UTC
hour, because New York's UTC offset only changes on the hour.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "NY",
    "day_bounds_ns",
    "day_end_ns",
    "default_session_bounds",
    "hour_date",
    "ny_date",
]

NY = ZoneInfo("America/New_York")
_NS_PER_HOUR = 3_600_000_000_000
_NS_PER_SECOND = 1_000_000_000


@lru_cache(maxsize=65_536)
def hour_date(hour: int) -> dt.date:
    """The New York calendar date in UTC hour ``hour`` (hours since 1970). New York's offset
    is a whole number of hours, so a UTC hour never straddles local midnight."""
    return dt.datetime.fromtimestamp(hour * 3600, tz=NY).date()


def ny_date(ts_ns: int) -> dt.date:
    """The New York calendar date of ``ts_ns`` (int ns UTC).

    Examples
    --------
    >>> ny_date(1_704_085_200_000_000_000)  # 2024-01-01 05:00 UTC = 00:00 New York
    datetime.date(2024, 1, 1)
    """
    return hour_date(int(ts_ns) // _NS_PER_HOUR)


@lru_cache(maxsize=4096)
def _midnight_after(date: dt.date) -> int:
    nxt = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=NY)
    return int(nxt.timestamp()) * _NS_PER_SECOND


def day_end_ns(ts_ns: int) -> int:
    """UTC ns of the New York midnight that ends the trading date of ``ts_ns`` (exclusive):
    events before it share ``ny_date(ts_ns)``, so callers can skip date conversions."""
    return _midnight_after(ny_date(ts_ns))


def day_bounds_ns(ts_ns: int) -> tuple[int, int]:
    """``[start, end)`` in UTC ns of the New York calendar date of ``ts_ns``."""
    date = ny_date(ts_ns)
    return _midnight_after(date - dt.timedelta(days=1)), _midnight_after(date)


@lru_cache(maxsize=4096)
def _bounds_for(date: dt.date) -> tuple[int, int] | None:
    if date.weekday() >= 5:
        return None
    o = dt.datetime.combine(date, dt.time(9, 30), tzinfo=NY)
    c = dt.datetime.combine(date, dt.time(16, 0), tzinfo=NY)
    return int(o.timestamp()) * _NS_PER_SECOND, int(c.timestamp()) * _NS_PER_SECOND


def default_session_bounds(ts_ns: int) -> tuple[int, int] | None:
    """Regular US equity session (Mon–Fri 09:30–16:00 New York, no holiday table) containing
    ``ts_ns``, or None. Pass ``MarketCalendar("XNYS").session_bounds`` for holidays/half days."""
    b = _bounds_for(ny_date(ts_ns))
    if b is None or not (b[0] <= ts_ns < b[1]):
        return None
    return b
