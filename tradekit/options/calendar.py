"""Listed option expiry sets by underlying, on the exchange calendar.

Rules (simplified from the CBOE/OCC listings, enough for realistic research chains):

* **Index-like** underlyings (SPX, SPY, QQQ, IWM, XSP, NDX, DIA): *dailies* on every session
  of the next two weeks (0DTE included), *weeklies* on Fridays out eight weeks, *monthlies*
  on the third Friday of the next twelve months, *quarterlies* on the last session of March,
  June, September and December for the next four quarters, *LEAPS* on the January monthly of
  the next two years.
* **Single stocks**: weeklies out six weeks, monthlies for the next four months plus the
  March/June/September/December cycle out nine months, LEAPS as above.

An expiry that falls on an exchange holiday moves to the previous session (Good Friday
monthly -> Thursday); a daily on a holiday does not exist. Each expiry stops trading at its
session's close (16:00 New York; 13:00 on half days), which is the ``close_ns`` returned.
Sessions come from :func:`tradekit.data.calendar.get_calendar` (XNYS).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from tradekit._typing import IntArray
from tradekit.data.calendar import get_calendar

__all__ = [
    "INDEX_LIKE",
    "ExpiryKind",
    "ExpirySet",
    "expiry_set",
    "is_index_like",
    "opex_dates",
    "third_friday",
]

#: Underlyings listed with daily expiries and index-style strike grids.
INDEX_LIKE = frozenset({"SPX", "SPXW", "SPY", "QQQ", "IWM", "XSP", "NDX", "DIA"})


class ExpiryKind:
    """Codes of :attr:`ExpirySet.kind` (higher = more open interest in the generator)."""

    DAILY = 0
    WEEKLY = 1
    QUARTERLY = 2
    MONTHLY = 3


class ExpirySet(NamedTuple):
    """Expiries listed on one date: sorted ``dates`` (datetime64[D]), their ``close_ns``
    (int64 ns UTC, when trading in them stops) and ``kind`` (:class:`ExpiryKind` codes)."""

    dates: np.ndarray
    close_ns: IntArray
    kind: np.ndarray


def is_index_like(underlying: str) -> bool:
    """Whether ``underlying`` gets index-style listings (dailies, $1/$5 strike grids)."""
    return underlying.upper() in INDEX_LIKE


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of a month (the standard monthly expiration, before holiday moves)."""
    first = dt.date(year, month, 1)
    offset = (4 - first.weekday()) % 7  # Friday is weekday 4
    return first + dt.timedelta(days=offset + 14)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    m = month - 1 + n
    return year + m // 12, m % 12 + 1


def opex_dates(start: dt.date, end: dt.date) -> list[dt.date]:
    """Monthly option expiration days (third Friday, moved to Thursday on a holiday) in
    ``[start, end]`` - the OPEX dates of the event calendar (DECISIONS.md gate 8)."""
    sess = _sessions(start - dt.timedelta(days=7), end + dt.timedelta(days=7))
    out = []
    y, m = start.year, start.month
    while dt.date(y, m, 1) <= end:
        d = _listed_on_or_before(sess, third_friday(y, m))
        if start <= d <= end:
            out.append(d)
        y, m = _add_months(y, m, 1)
    return out


def _sessions(start: dt.date, end: dt.date) -> pd.DataFrame:
    return get_calendar("XNYS").sessions(start, end)


def _listed_on_or_before(sess: pd.DataFrame, day: dt.date) -> dt.date:
    """``day`` if it is a session, else the previous session."""
    dates = sess.index.values.astype("datetime64[D]")
    pos = int(np.searchsorted(dates, np.datetime64(day, "D"), side="right")) - 1
    out: dt.date = dates[max(pos, 0)].astype(dt.date)
    return out


def expiry_set(underlying: str, asof: dt.date) -> ExpirySet:
    """Expiries listed for ``underlying`` on trading date ``asof`` (``asof`` itself included
    when it is an expiry: the caller drops expiries whose close has passed)."""
    return _expiry_set(is_index_like(underlying), asof)


@lru_cache(maxsize=256)
def _expiry_set(index_like: bool, asof: dt.date) -> ExpirySet:
    horizon = dt.date(asof.year + 3, 1, 31)
    dates_ns, _, closes = get_calendar("XNYS").session_arrays(asof, horizon)
    session_days = dates_ns // _NS_PER_DAY
    first = _day_number(asof)
    # the scheduled expiries (day, kind), each moved to the session on or before it
    days: list[dt.date] = []
    kinds: list[int] = []
    n_weeks, n_months = (8, 12) if index_like else (6, 4)
    friday = asof + dt.timedelta(days=(4 - asof.weekday()) % 7)
    for w in range(n_weeks + 1):
        days.append(friday + dt.timedelta(weeks=w))
        kinds.append(ExpiryKind.WEEKLY)
    for i in range(n_months + 1):
        y, m = _add_months(asof.year, asof.month, i)
        days.append(third_friday(y, m))
        kinds.append(ExpiryKind.MONTHLY)
    for i in range(13):
        y, m = _add_months(asof.year, asof.month, i)
        if m % 3 == 0 and ((index_like and i <= 12) or (not index_like and i <= 9)):
            if index_like:
                last = dt.date(y, m, 28) + dt.timedelta(days=4)
                days.append(last - dt.timedelta(days=last.day))
                kinds.append(ExpiryKind.QUARTERLY)
            else:
                days.append(third_friday(y, m))
                kinds.append(ExpiryKind.MONTHLY)
    for dy in (1, 2):
        days.append(third_friday(asof.year + dy, 1))
        kinds.append(ExpiryKind.MONTHLY)
    day = np.array([_day_number(d) for d in days], dtype=np.int64)
    kind = np.array(kinds, dtype=np.int64)
    keep = day >= first
    pos = np.searchsorted(session_days, day[keep], side="right") - 1
    moved = session_days[np.maximum(pos, 0)]
    later = moved >= first
    day, kind = moved[later], kind[keep][later]
    if index_like:  # dailies: every session of the next two weeks
        daily = session_days[session_days <= first + 14]
        day = np.concatenate([daily, day])
        kind = np.concatenate([np.full(daily.shape, ExpiryKind.DAILY, np.int64), kind])
    listed, where = np.unique(day, return_inverse=True)
    best = np.full(listed.shape, -1, dtype=np.int64)
    np.maximum.at(best, where, kind)  # a day listed twice keeps its highest kind
    # every listed day is a session (moved ones by construction, dailies are sessions)
    close_ns = closes[np.searchsorted(session_days, listed)]
    return ExpirySet(listed.astype("datetime64[D]"), close_ns, best.astype(np.int8))


def _day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return day.toordinal() - _EPOCH_ORDINAL


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NS_PER_DAY = 86_400 * 10**9
