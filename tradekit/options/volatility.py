"""Volatility context: IV rank and IV percentile of a VIX/IV series, and where VIX comes from.

Definitions (both causal - the value at day ``t`` uses days ``<= t`` only):

* **IV rank** = ``(x_t - min) / (max - min) * 100`` over the trailing ``window`` daily values
  **including** today. 0 = at the window low, 100 = at the window high.
* **IV percentile** = share of the ``window`` **prior** days whose value is strictly below
  today's, ``* 100``.

Both are NaN for a NaN day, with fewer than ``min_periods`` usable values, or (rank) when the
window is flat. Intraday series are reduced to one value per New York trading date (the last
value of the day) by :func:`daily_last` first, so a 252-day window means 252 trading days.

VIX sources: :func:`vix_series` gives the offline synthetic VIX-like index of the data layer
(:func:`tradekit.data.datasets.synthetic_vix`, consistent with the synthetic bars) or the
``close`` of an online provider's ``^VIX`` history (any
:class:`~tradekit.data.sources.base.MarketDataProvider`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray
from tradekit.data.sources.base import MarketDataProvider
from tradekit.errors import DataError
from tradekit.options import nb

__all__ = [
    "daily_last",
    "iv_percentile",
    "iv_percentile_last",
    "iv_rank",
    "iv_rank_last",
    "vix_series",
]

_NY = "America/New_York"


def _check(window: int, min_periods: int) -> None:
    if window < 1 or min_periods < 1:
        raise ValueError("window and min_periods must be >= 1")


def _values(series: pd.Series | Any) -> FloatArray:
    arr = np.asarray(series, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError("expected a 1-D series of IV/VIX levels")
    return np.ascontiguousarray(arr)


def iv_rank(series: pd.Series, window: int = 252, *, min_periods: int = 20) -> pd.Series:
    """Rolling IV rank (0-100) of a daily series; same index (see module docstring)."""
    _check(window, min_periods)
    x = _values(series)
    out = np.empty_like(x)
    nb.iv_rank_1d_nb(x, window, min_periods, out)
    return pd.Series(out, index=getattr(series, "index", None), name="iv_rank")


def iv_percentile(series: pd.Series, window: int = 252, *, min_periods: int = 20) -> pd.Series:
    """Rolling IV percentile (0-100) of a daily series; same index (see module docstring)."""
    _check(window, min_periods)
    x = _values(series)
    out = np.empty_like(x)
    nb.iv_percentile_1d_nb(x, window, min_periods, out)
    return pd.Series(out, index=getattr(series, "index", None), name="iv_percentile")


def iv_rank_last(values: Any, window: int = 252, *, min_periods: int = 20) -> float:
    """IV rank of the last value of ``values`` (oldest first) - the streaming use."""
    _check(window, min_periods)
    x = _values(values)[-window:]
    if x.shape[0] == 0:
        return float("nan")
    out = np.empty_like(x)
    nb.iv_rank_1d_nb(x, window, min_periods, out)
    return float(out[-1])


def iv_percentile_last(values: Any, window: int = 252, *, min_periods: int = 20) -> float:
    """IV percentile of the last value of ``values`` (oldest first)."""
    _check(window, min_periods)
    x = _values(values)[-(window + 1) :]
    if x.shape[0] == 0:
        return float("nan")
    out = np.empty_like(x)
    nb.iv_percentile_1d_nb(x, window, min_periods, out)
    return float(out[-1])


def daily_last(series: pd.Series) -> pd.Series:
    """One value per New York trading date: the last non-NaN value of each date.

    The result's index is the UTC timestamp of that last observation (when it became known),
    so an as-of lookup on it stays causal.
    """
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
        raise DataError("daily_last needs a tz-aware DatetimeIndex", rule="tz")
    s = series.dropna()
    if s.empty:
        return s.astype(np.float64)
    idx = s.index.tz_convert("UTC")
    days = idx.tz_convert(_NY).normalize().as_unit("ns").asi8
    last = np.flatnonzero(np.r_[days[1:] != days[:-1], True])
    return pd.Series(s.to_numpy(dtype=np.float64)[last], index=idx[last], name=series.name)


def vix_series(
    source: str | MarketDataProvider = "synthetic",
    *,
    symbol: str = "^VIX",
    start: Any = None,
    end: Any = None,
    **synthetic_kwargs: Any,
) -> pd.Series:
    """A VIX level series (vol points, tz-aware UTC index = time the value is known).

    Parameters
    ----------
    source:
        ``"synthetic"`` for the offline synthetic VIX-like index (``synthetic_kwargs`` go to
        :func:`tradekit.data.datasets.synthetic_vix`, e.g. ``bars=`` or ``symbol=``,
        ``start=``, ``days=``, ``seed=``), or a provider whose daily ``history`` of ``symbol``
        is used (the ``close`` column, stamped at the bar's close so it is known only then).
    """
    if isinstance(source, str):
        if source != "synthetic":
            raise ValueError(f"unknown VIX source {source!r}; use 'synthetic' or a provider")
        from tradekit.data.datasets import synthetic_vix

        if start is not None:
            synthetic_kwargs.setdefault("start", start)
        return synthetic_vix(**synthetic_kwargs)
    bars = source.history(symbol, start, end, "1D")
    if len(bars) == 0:
        raise DataError(f"no VIX history for {symbol}")
    idx = bars.index.as_unit("ns")
    dur = int(np.median(np.diff(idx.asi8))) if len(idx) > 1 else 86_400 * 10**9
    closes = pd.DatetimeIndex(idx.asi8 + min(dur, 6 * 3600 * 10**9 + 30 * 60 * 10**9), tz="UTC")
    return pd.Series(bars["close"].to_numpy(dtype=np.float64), index=closes, name="vix")
