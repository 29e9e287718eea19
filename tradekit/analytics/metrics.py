"""Performance of an equity curve and its closed trades: one definition for backtests and live.

:func:`performance` takes an equity series (currency, one mark per bar, tz-aware index) and a
trades frame (one row per closed round trip: ``pnl`` net of commissions, ``r_multiple``,
entry and exit times) and returns the headline figures as a ``pandas.Series``. A
:class:`~tradekit.runtime.backtest.BacktestResult` (``result.stats``) and the live paper
account read from the store (:func:`tradekit.analytics.store.run_data`) call the same function.

Definitions (``r_t`` = simple return of the equity from one mark to the next, the first one
measured from ``initial_equity``; ``N`` = number of returns; ``A`` = periods per year):

* **total_return** = ``E_end / E_0 - 1``;
* **annual_return** (CAGR) = ``(E_end / E_0) ** (A / N) - 1`` (empyrical ``annual_return``);
* **volatility** = ``std(r, ddof=1) * sqrt(A)`` (empyrical ``annual_volatility``);
* **sharpe** = ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(A)`` with ``rf`` the per-period
  risk-free rate (empyrical ``sharpe_ratio``, quantstats ``sharpe``);
* **sortino** = ``mean(r - rf) * A / (sqrt(mean(min(r - rf, 0)^2)) * sqrt(A))`` -- the downside
  deviation averages over *all* periods (empyrical ``sortino_ratio`` / ``downside_risk``);
* **max_drawdown** = ``min(E_t / max_{s<=t} E_s - 1)`` (a fraction, <= 0), with ``E_0`` as the
  first peak; **max_drawdown_duration** the longest time from a peak to the first mark back
  at or above it (or to the end, when not recovered), also counted in bars;
* **calmar** = ``annual_return / |max_drawdown|`` (empyrical ``calmar_ratio``);
* trade figures: **win_rate** = share of trades with ``pnl > 0``; **profit_factor** = gross
  profit / gross loss (``inf`` without a loss); **expectancy** = mean ``pnl`` per trade
  (currency); **avg_r** = mean ``r_multiple`` over the trades that have one; best/worst trade
  ``pnl``; **avg_holding** the mean time from entry to exit;
* **exposure** = share of the equity marks at which at least one trade was open
  (``entry_ts <= t < exit_ts``).

The annualisation factor ``A`` comes from the bar frequency (:func:`periods_per_year`):
252 trading days a year times the median number of marks per trading day for intraday
curves, 252 for daily, 52 for weekly marks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray

__all__ = [
    "TRADING_DAYS",
    "drawdown",
    "performance",
    "periods_per_year",
    "returns_of",
    "stats_to_json",
    "trade_arrays",
]

#: Trading days per year used for annualisation.
TRADING_DAYS = 252
_DAY_NS = 86_400_000_000_000


def _ns(index: Any) -> IntArray:
    """Int ns UTC of a datetime index (whatever its resolution)."""
    if len(index) == 0:
        return np.empty(0, np.int64)
    return pd.DatetimeIndex(index).as_unit("ns").asi8


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """Annualisation factor of marks at ``index`` (see the module docstring); NaN for < 2 marks.

    Examples
    --------
    >>> days = pd.date_range("2024-01-01", periods=10, freq="B", tz="UTC")
    >>> periods_per_year(days)
    252.0
    >>> minutes = pd.date_range("2024-01-02 14:30", periods=780, freq="min", tz="UTC")
    >>> periods_per_year(minutes[:390].append(minutes[:390] + pd.Timedelta("1D")))
    98280.0
    """
    if len(index) < 2:
        return math.nan
    ns = _ns(index)
    step = float(np.median(np.diff(ns)))
    if step >= 5 * _DAY_NS:
        return 52.0
    if step >= 0.5 * _DAY_NS:
        return float(TRADING_DAYS)
    per_day = pd.Series(ns // _DAY_NS).value_counts()
    return float(TRADING_DAYS * np.median(per_day.to_numpy()))


def returns_of(equity: pd.Series, initial_equity: float | None = None) -> pd.Series:
    """Simple returns between consecutive marks; the first from ``initial_equity`` if given."""
    values = equity.to_numpy(dtype=np.float64)
    prev = np.r_[initial_equity if initial_equity is not None else np.nan, values[:-1]]
    r = pd.Series(values / prev - 1.0, index=equity.index, name="returns")
    return r if initial_equity is not None else r.iloc[1:]


def drawdown(equity: pd.Series, initial_equity: float | None = None) -> pd.Series:
    """``E_t / running peak - 1`` at every mark (fractions <= 0); ``initial_equity`` is the
    first peak when given."""
    values = equity.to_numpy(dtype=np.float64)
    peaks = np.maximum.accumulate(values)
    if initial_equity is not None:
        peaks = np.maximum(peaks, initial_equity)
    return pd.Series(values / peaks - 1.0, index=equity.index, name="drawdown")


def _drawdown_duration(values: FloatArray, ns: IntArray, initial: float | None) -> tuple[int, int]:
    """(bars, ns) of the longest stretch below a previous peak."""
    peak = -math.inf if initial is None else initial
    peak_i, peak_ns = -1, ns[0]  # with ``initial``, the peak before the first mark
    best_bars, best_ns = 0, 0
    for i in range(values.shape[0]):
        v = values[i]
        if v >= peak:
            peak, peak_i, peak_ns = v, i, ns[i]
            continue
        bars, dur = i - peak_i, int(ns[i] - peak_ns)
        if dur > best_ns or (dur == best_ns and bars > best_bars):
            best_bars, best_ns = bars, dur
    return best_bars, best_ns


def trade_arrays(trades: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """``pnl``, ``r`` and entry/exit ns of a trades frame, from a backtest (``entry_ts_ns``)
    or from the store (``entry_ts`` timestamps); empty arrays without trades."""
    if trades is None or len(trades) == 0 or "pnl" not in trades:
        e = np.empty(0)
        return {"pnl": e, "r": e, "entry_ns": e.astype(np.int64), "exit_ns": e.astype(np.int64)}

    def ns(col: str) -> IntArray:
        if f"{col}_ns" in trades:
            return trades[f"{col}_ns"].to_numpy(dtype=np.int64)
        return pd.DatetimeIndex(pd.to_datetime(trades[col], utc=True)).as_unit("ns").asi8

    r = trades["r_multiple"] if "r_multiple" in trades else pd.Series(np.nan, index=trades.index)
    return {
        "pnl": trades["pnl"].to_numpy(dtype=np.float64),
        "r": pd.to_numeric(r, errors="coerce").to_numpy(dtype=np.float64),
        "entry_ns": ns("entry_ts"),
        "exit_ns": ns("exit_ts"),
    }


def _exposure(mark_ns: IntArray, entry_ns: IntArray, exit_ns: IntArray) -> float:
    if mark_ns.size == 0:
        return math.nan
    if entry_ns.size == 0:
        return 0.0
    delta = np.zeros(mark_ns.size + 1, dtype=np.int64)
    np.add.at(delta, np.searchsorted(mark_ns, entry_ns, "left"), 1)
    np.add.at(delta, np.searchsorted(mark_ns, exit_ns, "left"), -1)
    return float((np.cumsum(delta[:-1]) > 0).mean())


def _ratio(num: float, den: float) -> float:
    if not (math.isfinite(num) and math.isfinite(den)) or den == 0.0:
        return math.nan
    return num / den


def performance(
    equity: pd.Series,
    trades: pd.DataFrame | None = None,
    *,
    initial_equity: float | None = None,
    periods: float | None = None,
    risk_free: float = 0.0,
) -> pd.Series:
    """Headline performance of ``equity`` and ``trades`` (definitions: module docstring).

    Parameters
    ----------
    equity:
        Account equity in currency at each mark (tz-aware UTC index, increasing).
    trades:
        Closed round trips (``pnl``, ``r_multiple``, entry/exit times); None: no trade figures.
    initial_equity:
        Equity before the first mark (a backtest's starting cash); default the first mark.
    periods:
        Annualisation factor; default :func:`periods_per_year` of the index.
    risk_free:
        Annual risk-free rate as a fraction, converted to ``(1 + rf) ** (1 / A) - 1`` per period.

    Returns
    -------
    pandas.Series
        Object-dtype series: floats (fractions, ratios, currency), ints (counts) and
        Timedeltas / Timestamps; :func:`stats_to_json` makes it JSON-friendly.
    """
    eq = equity.astype(np.float64)
    values = eq.to_numpy()
    ns = _ns(eq.index)
    start = float(initial_equity) if initial_equity is not None else (
        float(values[0]) if values.size else math.nan
    )  # fmt: skip
    ann = float(periods) if periods is not None else periods_per_year(pd.DatetimeIndex(eq.index))
    r = returns_of(eq, initial_equity).to_numpy()
    n = r.size
    final = float(values[-1]) if values.size else start
    total = final / start - 1.0 if start > 0 else math.nan
    rf = (1.0 + risk_free) ** (1.0 / ann) - 1.0 if math.isfinite(ann) and ann > 0 else 0.0
    adj = r - rf
    std = float(np.std(adj, ddof=1)) if n > 1 else math.nan
    annual = (
        (1.0 + total) ** (ann / n) - 1.0 if n and math.isfinite(ann) and total > -1 else math.nan
    )
    downside = float(np.sqrt(np.mean(np.minimum(adj, 0.0) ** 2))) if n else math.nan
    mean = float(adj.mean()) if n else math.nan
    sqrt_ann = math.sqrt(ann) if math.isfinite(ann) else math.nan
    dd = drawdown(eq, initial_equity).to_numpy() if values.size else np.empty(0)
    max_dd = float(dd.min()) if dd.size else math.nan
    dd_bars, dd_ns = _drawdown_duration(values, ns, initial_equity) if values.size else (0, 0)
    t = trade_arrays(trades)
    pnl, rm = t["pnl"], t["r"]
    wins, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
    k = int(pnl.size)
    rr = rm[np.isfinite(rm)]
    out: dict[str, Any] = {
        "start": pd.Timestamp(ns[0], tz="UTC") if ns.size else pd.NaT,
        "end": pd.Timestamp(ns[-1], tz="UTC") if ns.size else pd.NaT,
        "bars": int(values.size),
        "periods_per_year": ann,
        "initial_equity": start,
        "final_equity": final,
        "total_return": total,
        "annual_return": annual,
        "volatility": std * sqrt_ann,
        "sharpe": _ratio(mean, std) * sqrt_ann,
        "sortino": _ratio(mean * ann, downside * sqrt_ann),
        "calmar": _ratio(annual, abs(max_dd)) if max_dd < 0 else math.nan,
        "max_drawdown": max_dd,
        "max_drawdown_duration": pd.Timedelta(dd_ns, unit="ns"),
        "max_drawdown_bars": dd_bars,
        "exposure": _exposure(ns, t["entry_ns"], t["exit_ns"]),
        "trades": k,
        "win_rate": float((pnl > 0).mean()) if k else math.nan,
        "profit_factor": (float(wins / losses) if losses > 0 else math.inf) if k else math.nan,
        "expectancy": float(pnl.mean()) if k else math.nan,
        "avg_r": float(rr.mean()) if rr.size else math.nan,
        "best_trade": float(pnl.max()) if k else math.nan,
        "worst_trade": float(pnl.min()) if k else math.nan,
        "avg_holding": pd.Timedelta(float(np.mean(t["exit_ns"] - t["entry_ns"])), unit="ns")
        if k
        else pd.NaT,
    }
    return pd.Series(out, dtype=object, name="performance")


def stats_to_json(stats: pd.Series | dict[str, Any]) -> dict[str, Any]:
    """A JSON-friendly dict: Timestamps as ISO text, Timedeltas in seconds (``*_s`` keys
    added), non-finite floats as None."""
    out: dict[str, Any] = {}
    for key, v in dict(stats).items():
        if isinstance(v, pd.Timedelta) or (v is pd.NaT and key.endswith(("duration", "holding"))):
            out[f"{key}_s"] = None if v is pd.NaT else v.total_seconds()
        elif isinstance(v, pd.Timestamp) or v is pd.NaT:
            out[key] = None if v is pd.NaT else v.isoformat()
        elif isinstance(v, (float, np.floating)):
            out[key] = float(v) if math.isfinite(v) else None
        elif isinstance(v, (np.integer,)):
            out[key] = int(v)
        else:
            out[key] = v
    return out
