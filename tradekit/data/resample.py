"""Closed-bar multi-timeframe resampling without look-ahead (SIGNALS.md §4).

A higher-timeframe (HTF) bar aggregates the base bars of one *bucket* (first open, max high,
min low, last close, summed volume) and is labelled by the bucket start. What makes this
module different from ``DataFrame.resample`` is that every HTF bar also says **from which base
bar on it may be used**:

``known_index``
    the position (in the base frame) of the base bar at whose *close* the HTF bar is final:

    (a) its own last base bar ``t`` when ``ts[t] + base_duration >= bucket_end`` (the clock has
        reached the bucket end), otherwise
    (b) the next base bar ``t + 1`` — the bucket ended early because of a data gap (missing
        last minutes, a halt, a holiday), and only the arrival of a bar from a later bucket
        proves that nothing more is coming.

``known_ts``
    ``ts[known_index] + base_duration``: the instant (UTC) the HTF bar became usable.

The last bucket at the end of the data is *forming* when neither (a) nor (b) holds. Forming
buckets are dropped by default (``include_forming=False``), so every returned row satisfies
``known_index >= 0``; with ``include_forming=True`` the row is kept with ``known_index = -1``
and ``known_ts = NaT`` and must not be used.

Grids
-----
Plain (``session_aware=False``): minute/hour rules are floored on the UTC epoch grid shifted by
``day_offset_hours`` (4h → 00, 04, 08, ... UTC); ``nD`` → calendar days starting at
``day_offset_hours``; ``1W`` → weeks starting Monday ``day_offset_hours``.

Session-aware (intraday equity bars, ``session_aware=True``): buckets follow the exchange
sessions of ``calendar``: ``1h`` on NYSE gives 09:30, 10:30, ..., 15:30 New York, and the
session close ends the last (shorter) bucket, also on half days; ``1D`` = one session (label =
session open); ``1W`` = the sessions of one Monday-to-Sunday week (label = first open, end =
last close). Base bars outside every session (pre/post market) belong to no bucket; they still
count as "later bars" for rule (b). With ``session_aware=None`` (default) session mode is used
when at least 90% of the base bars fall inside sessions of ``calendar``.

Examples
--------
>>> from tradekit.data.synthetic import synthetic_intraday
>>> bars = synthetic_intraday("SPY", start="2024-01-02", days=2)
>>> h1 = resample(bars, "1h")
>>> h1.index[0].tz_convert("America/New_York").strftime("%H:%M")
'09:30'
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.data import nb
from tradekit.data.calendar import MarketCalendar, get_calendar
from tradekit.data.schema import BAR_COLUMNS, bars_to_arrays, infer_bar_duration_ns
from tradekit.errors import ConfigError, DataError

__all__ = [
    "HTFBars",
    "htf_index_map",
    "parse_rule",
    "resample",
    "resample_arrays",
    "session_positions",
]

_MIN = 60_000_000_000
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_MONDAY0 = 4 * _DAY  # 1970-01-05 was the first Monday after the epoch
_NAT = np.iinfo(np.int64).min
_NEVER = np.iinfo(np.int64).max
_SESSION_SHARE = 0.9

# case matters only for "m" (minute) vs "M" (month, unsupported, as in pandas)
_RULE_RE = re.compile(r"^\s*(\d*)\s*(min|Min|MIN|m|T|t|h|H|d|D|w|W)\s*$")
RuleKind = Literal["fixed", "day", "week"]


class HTFBars(NamedTuple):
    """Array form of a resampled series (what the signal kernels consume).

    All arrays have one entry per HTF bar. Times are int64 ns UTC; ``known_index`` is a base
    position (``-1``: still forming); ``known_ts`` is ``_NEVER`` (int64 max) when forming.
    """

    ts: IntArray
    end: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    n_bars: IntArray
    first_index: IntArray
    last_index: IntArray
    known_index: IntArray
    known_ts: IntArray


def parse_rule(rule: str) -> tuple[RuleKind, int]:
    """Parse ``"5min"``, ``"15m"``, ``"1h"``, ``"4h"``, ``"1D"``, ``"1W"`` into (kind, step ns).

    Raises
    ------
    ConfigError
        Unknown or unsupported rule (months, multi-week rules, zero length).
    """
    m = _RULE_RE.match(rule)
    if m is None:
        raise ConfigError(f"unsupported resample rule {rule!r} (use e.g. 5min, 1h, 4h, 1D, 1W)")
    count = int(m.group(1) or 1)
    unit = m.group(2) if m.group(2) == "m" else m.group(2).lower()
    if count <= 0:
        raise ConfigError(f"resample rule {rule!r} must have a positive length")
    if unit in ("min", "m", "t"):  # "M" (month) never matches the pattern
        return "fixed", count * _MIN
    if unit == "h":
        return "fixed", count * _HOUR
    if unit == "d":
        return "day", count * _DAY
    if count != 1:
        raise ConfigError(f"only 1W is supported for weekly buckets, got {rule!r}")
    return "week", _WEEK


# --------------------------------------------------------------------------- bucket grids
def _plain_buckets(ts: IntArray, kind: RuleKind, step: int, off: int) -> tuple[IntArray, IntArray]:
    anchor = off + (_MONDAY0 if kind == "week" else 0)
    start = (ts - anchor) // step * step + anchor
    return start, start + step


_FAST_YEARS = (1991, 2099)  # inside the calendar's loaded range (1990-2100), with margin


def session_positions(ts: IntArray, cal: MarketCalendar) -> tuple[IntArray, IntArray, IntArray]:
    """``cal.session_positions(ts)`` (open, close, session date; ``-1`` outside) for bar times.

    Same answer, computed as one forward walk (:func:`tradekit.data.nb.session_positions_nb`)
    over the sessions of the covered dates instead of one binary search per bar, which is
    several times faster on sorted bar times. A session containing a bar is dated within a day
    of the bar, so the sessions of the bar dates +/- 3 days are enough; outside the calendar's
    years the calendar itself answers.
    """
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    if ts.shape[0] == 0:
        return cal.session_positions(ts)
    lo, hi = int(ts.min()), int(ts.max())
    d0 = pd.Timestamp(lo - 3 * _DAY)
    d1 = pd.Timestamp(hi + 3 * _DAY)
    if d0.year < _FAST_YEARS[0] or d1.year > _FAST_YEARS[1]:
        return cal.session_positions(ts)
    table = cal.sessions(d0.date(), d1.date())
    s_open = np.ascontiguousarray(table["open_ns"].to_numpy(), dtype=np.int64)
    s_close = np.ascontiguousarray(table["close_ns"].to_numpy(), dtype=np.int64)
    s_date = np.ascontiguousarray(table.index.as_unit("ns").asi8, dtype=np.int64)
    opens, closes, dates = nb.session_positions_nb(_readonly(ts), s_open, s_close, s_date)
    return opens, closes, dates


def _session_buckets(
    ts: IntArray, kind: RuleKind, step: int, cal: MarketCalendar
) -> tuple[IntArray, IntArray]:
    opens, closes, dates = session_positions(ts, cal)
    inside = opens >= 0
    if kind == "fixed":
        if step > _DAY:
            raise ConfigError("session-aware intraday rules must be at most one day long")
        start = opens + (ts - opens) // step * step
        end = np.minimum(start + step, closes)
    elif kind == "day":
        if step != _DAY:
            raise ConfigError("session-aware daily buckets support 1D only")
        start, end = opens, closes
    else:
        start, end = _week_bounds(dates, inside, cal)
    return np.where(inside, start, -1), np.where(inside, end, -1)


def _week_bounds(
    dates: IntArray, inside: np.ndarray, cal: MarketCalendar
) -> tuple[IntArray, IntArray]:
    """Per bar: first open and last close of the calendar week of its session."""
    if not inside.any():
        return np.full_like(dates, -1), np.full_like(dates, -1)
    lo, hi = int(dates[inside].min()), int(dates[inside].max())
    table = cal.sessions(pd.Timestamp(lo - 7 * _DAY), pd.Timestamp(hi + 7 * _DAY))
    sdates = table.index.as_unit("ns").asi8
    weeks = (sdates - _MONDAY0) // _WEEK
    first = np.r_[True, weeks[1:] != weeks[:-1]]
    last = np.r_[weeks[1:] != weeks[:-1], True]
    wk_keys = weeks[first]
    wk_open = table["open_ns"].to_numpy()[first]
    wk_close = table["close_ns"].to_numpy()[last]
    pos = np.searchsorted(wk_keys, (dates - _MONDAY0) // _WEEK)
    pos = np.clip(pos, 0, len(wk_keys) - 1)
    return wk_open[pos], wk_close[pos]


def _readonly(a: np.ndarray) -> np.ndarray:
    """Read-only view (no copy), so the kernel is compiled for one array type only."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def _use_sessions(ts: IntArray, session_aware: bool | None, cal: MarketCalendar) -> bool:
    if session_aware is not None:
        return session_aware
    if ts.shape[0] == 0:
        return False
    sample = ts[:: max(1, ts.shape[0] // 5000)]
    opens, _ = cal.session_open_close(sample)
    return float(np.mean(opens >= 0)) >= _SESSION_SHARE


# --------------------------------------------------------------------------- public API
def resample_arrays(
    ts: IntArray,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    v: FloatArray,
    rule: str,
    *,
    base_duration_ns: int | None = None,
    session_aware: bool | None = None,
    day_offset_hours: float = 0.0,
    drop_partial_first: bool = True,
    include_forming: bool = False,
    calendar: str | MarketCalendar = "XNYS",
) -> HTFBars:
    """Array-level :func:`resample` (same semantics, no pandas): see the module docstring.

    Parameters
    ----------
    ts, o, h, lo, c, v:
        Base bars: strictly increasing int64 ns UTC open times and float64 OHLCV.
    rule:
        HTF rule (:func:`parse_rule`).
    base_duration_ns:
        Base bar duration; inferred with :func:`infer_bar_duration_ns` when None.
    """
    kind, step = parse_rule(rule)
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    if ts.shape[0] > 1 and np.any(ts[1:] <= ts[:-1]):
        raise DataError("resample needs strictly increasing timestamps (run validate_bars)")
    dur = int(base_duration_ns) if base_duration_ns else infer_bar_duration_ns(ts)
    if kind != "week" and step < dur:
        raise ConfigError(f"rule {rule!r} is shorter than the base bar duration ({dur} ns)")
    cal = calendar if isinstance(calendar, MarketCalendar) else get_calendar(calendar)
    if _use_sessions(ts, session_aware, cal):
        bstart, bend = _session_buckets(ts, kind, step, cal)
    else:
        bstart, bend = _plain_buckets(ts, kind, step, round(day_offset_hours * _HOUR))
    fo, fh, fl, fc, fv = (np.ascontiguousarray(x, dtype=np.float64) for x in (o, h, lo, c, v))
    if not all(bool(np.isfinite(x).all()) for x in (fo, fh, fl, fc, fv)):
        raise DataError("resample needs finite OHLCV (run validate_bars)", rule="non_finite")
    out = nb.resample_ohlcv_nb(
        _readonly(ts), _readonly(fo), _readonly(fh), _readonly(fl), _readonly(fc),
        _readonly(fv), _readonly(bstart), _readonly(bend), dur,
    )  # fmt: skip
    label, end, oo, hh, ll, cc, vv, cnt, first, last, known = out
    keep = np.ones(label.shape[0], dtype=np.bool_)
    if drop_partial_first and label.shape[0] and ts[first[0]] > label[0]:
        keep[0] = False
    if not include_forming:
        keep &= known >= 0
    known_ts = np.where(known >= 0, ts[np.clip(known, 0, None)] + dur, _NEVER)
    parts = (label, end, oo, hh, ll, cc, vv, cnt, first, last, known, known_ts)
    return HTFBars(*(np.ascontiguousarray(p[keep]) for p in parts))


def resample(
    df: pd.DataFrame,
    rule: str,
    *,
    session_aware: bool | None = None,
    day_offset_hours: float = 0.0,
    drop_partial_first: bool = True,
    include_forming: bool = False,
    calendar: str | MarketCalendar = "XNYS",
    base_duration_ns: int | None = None,
) -> pd.DataFrame:
    """Resample validated bars to a higher timeframe, with the time each HTF bar became known.

    Parameters
    ----------
    df:
        Base bars satisfying the bar contract (see :func:`~tradekit.data.schema.validate_bars`).
    rule:
        ``"5min"``, ``"15min"``, ``"30min"``, ``"1h"``, ``"4h"``, ``"1D"``, ``"1W"``, ...
    session_aware:
        Bucket by exchange session (True), on the plain UTC grid (False) or decide from the
        data (None: sessions when >= 90% of bars are inside ``calendar`` sessions).
    day_offset_hours:
        Plain grid only: shift of the day/hour grid in hours (e.g. 22 for a 17:00 New York FX
        roll in winter). Ignored in session mode.
    drop_partial_first:
        Drop the first bucket when the data starts after its start (SIGNALS.md §4).
    include_forming:
        Keep the still-forming last bucket (``known_index = -1``, ``known_ts = NaT``).
    calendar:
        Exchange calendar code or instance used in session mode.
    base_duration_ns:
        Base bar duration (inferred from the timestamps when None).

    Returns
    -------
    pandas.DataFrame
        Index ``ts`` (bucket start, UTC); float64 ``open high low close volume``;
        ``known_ts`` (datetime UTC), ``known_index`` (int64 base position) and ``n_bars``
        (int64). ``attrs`` records ``rule``, ``session_aware`` and ``base_duration_ns``.
    """
    ts, o, h, lo, c, v = bars_to_arrays(df)
    cal = calendar if isinstance(calendar, MarketCalendar) else get_calendar(calendar)
    dur = int(base_duration_ns) if base_duration_ns else infer_bar_duration_ns(ts)
    use_sessions = _use_sessions(ts, session_aware, cal)
    htf = resample_arrays(
        ts, o, h, lo, c, v, rule,
        base_duration_ns=dur,
        session_aware=use_sessions,
        day_offset_hours=day_offset_hours,
        drop_partial_first=drop_partial_first,
        include_forming=include_forming,
        calendar=cal,
    )  # fmt: skip
    known_ts = np.where(htf.known_index >= 0, htf.known_ts, _NAT)
    index = pd.DatetimeIndex(pd.to_datetime(htf.ts, unit="ns", utc=True), name="ts")
    data = dict(zip(BAR_COLUMNS, (htf.open, htf.high, htf.low, htf.close, htf.volume), strict=True))
    out = pd.DataFrame(data, index=index.as_unit("ns"))
    out["known_ts"] = pd.DatetimeIndex(known_ts.view("datetime64[ns]")).tz_localize("UTC")
    out["known_index"] = htf.known_index
    out["n_bars"] = htf.n_bars
    out.attrs.update(rule=rule, session_aware=use_sessions, base_duration_ns=dur)
    return out


def _known_ts_ns(htf: pd.DataFrame | HTFBars) -> IntArray:
    if isinstance(htf, HTFBars):
        return htf.known_ts
    col = pd.DatetimeIndex(htf["known_ts"]).as_unit("ns")
    ns = col.asi8.astype(np.int64)
    return np.where(ns == _NAT, _NEVER, ns)


def htf_index_map(
    base_ts_ns: IntArray,
    htf: pd.DataFrame | HTFBars,
    *,
    base_duration_ns: int | None = None,
) -> IntArray:
    """For each base bar, the position of the latest HTF bar already known at its close.

    An as-of join on **known time**, never on the HTF label: base bar ``i`` (closing at
    ``base_ts_ns[i] + base_duration``) sees HTF row ``k`` iff ``known_ts[k] <= close_i``.
    ``-1`` where no HTF bar is known yet. Works for any base series on the same clock (the one
    that was resampled, or another symbol's bars).

    Examples
    --------
    >>> from tradekit.data.synthetic import synthetic_intraday
    >>> bars = synthetic_intraday("SPY", start="2024-01-02", days=1)
    >>> m = htf_index_map(bars.index.asi8, resample(bars, "1h"))
    >>> int(m[58]), int(m[59])  # the 10:29 bar closes the 09:30 bucket
    (-1, 0)
    """
    base = np.ascontiguousarray(base_ts_ns, dtype=np.int64)
    dur = int(base_duration_ns) if base_duration_ns else infer_bar_duration_ns(base)
    known = _known_ts_ns(htf)
    if known.shape[0] > 1 and np.any(known[1:] < known[:-1]):
        raise DataError("HTF known_ts must be non-decreasing (pass the output of resample)")
    return (np.searchsorted(known, base + dur, side="right") - 1).astype(np.int64)
