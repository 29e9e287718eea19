"""Signal analytics: what each kind of detector event was worth.

Grouped by kind, timeframe, direction and hour (New York) of the signal, :func:`signal_analytics`
reports how many events there were, the share that ended up in a setup and in a trade, the
win rate and average R of those trades, and the mean forward return at several horizons.

Forward returns are causal: a signal stamped at base bar ``p`` is known at that bar's close
(higher-timeframe events are stamped at the base bar whose close revealed them), so the return
over ``h`` bars is ``direction * (close[p + h] / close[p] - 1)`` -- measured from the close at
which the signal became known, in the signal's direction (positive = the market moved the way
the signal said). Horizons past the end of the data are NaN and left out of the means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradekit.analytics.run import RunData, as_run_data, bars_of, decision_trades

__all__ = ["forward_returns", "signal_analytics", "signal_outcomes"]

_NY = "America/New_York"


def forward_returns(
    signals: pd.DataFrame, bars: dict[str, pd.DataFrame], horizons: Sequence[int]
) -> pd.DataFrame:
    """``fwd_<h>`` columns (direction-signed returns from the known close, module docstring),
    aligned with ``signals``; NaN where the bars are unknown or end too early."""
    out = pd.DataFrame(index=signals.index)
    for h in horizons:
        out[f"fwd_{h}"] = np.nan
    if len(signals) == 0:
        return out
    for symbol, rows in signals.groupby("symbol"):
        frame = bars_of(bars, str(symbol))
        if frame is None:
            continue
        ts = pd.DatetimeIndex(frame.index).as_unit("ns").asi8
        close = frame["close"].to_numpy(np.float64)
        pos = np.searchsorted(ts, rows["ts_ns"].to_numpy(np.int64))
        found = (pos < ts.size) & (ts[np.minimum(pos, ts.size - 1)] == rows["ts_ns"].to_numpy())
        d = rows["direction"].to_numpy(np.float64)
        for h in horizons:
            j = pos + h
            ok = found & (j < ts.size)
            val = np.full(len(rows), np.nan)
            val[ok] = d[ok] * (close[j[ok]] / close[pos[ok]] - 1.0)
            out.loc[rows.index, f"fwd_{h}"] = val
    return out


def signal_outcomes(run: RunData) -> pd.DataFrame:
    """Per signal: ``in_setup``, ``in_trade`` and, over its trades, ``wins`` / ``trades`` /
    ``r_sum`` / ``r_count`` (a signal can feed several setups)."""
    sig = run.signals
    base = pd.DataFrame({"id": sig["id"]}) if len(sig) else pd.DataFrame({"id": []})
    setups = run.setups
    links = pd.DataFrame(columns=["signal_id", "setup_id"])
    if len(setups) and "signal_ids" in setups:
        links = (
            setups[["id", "signal_ids"]]
            .explode("signal_ids")
            .dropna()
            .rename(columns={"id": "setup_id", "signal_ids": "signal_id"})
        )
    dec = run.decisions
    trades = decision_trades(run)
    if len(dec) and len(trades):
        per_setup = dec[["id", "setup_id"]].merge(trades, left_on="id", right_on="decision_id")
        per_sig = links.merge(per_setup[["setup_id", "pnl", "r_multiple"]], on="setup_id")
    else:
        per_sig = pd.DataFrame(columns=["signal_id", "pnl", "r_multiple"])
    agg = (
        per_sig.assign(
            win=(per_sig["pnl"].astype(float) > 0).astype(float),
            r=per_sig["r_multiple"].astype(float),
        )
        .groupby("signal_id")
        .agg(
            wins=("win", "sum"), trades=("win", "size"), r_sum=("r", "sum"), r_count=("r", "count")
        )
    )
    out = base.assign(in_setup=base["id"].isin(set(links["signal_id"])))
    out = out.merge(agg, left_on="id", right_index=True, how="left")
    for col in ("wins", "trades", "r_sum", "r_count"):
        out[col] = out[col].fillna(0.0)
    out["in_trade"] = out["trades"] > 0
    return out.set_index(sig.index if len(sig) else out.index)


def signal_analytics(
    source: Any,
    *,
    horizons: Sequence[int] = (1, 5, 20),
    by: Sequence[str] = ("kind", "timeframe", "direction", "hour"),
) -> pd.DataFrame:
    """Per group of signals (``by``, any of kind / timeframe / direction / hour / symbol):

    ``count``; ``setup_share`` and ``trade_share`` (fractions of the group's signals that fed
    a setup / a trade); ``win_rate`` and ``avg_r`` over the trades those signals fed;
    ``fwd_<h>`` the mean direction-signed forward return over ``h`` bars (fraction).

    Parameters
    ----------
    source:
        A ``BacktestResult`` or a ``RunData`` (``RunData.from_store`` for a stored run; pass
        its ``bars`` for forward returns).
    horizons:
        Forward-return horizons in base bars.
    by:
        Grouping columns.
    """
    run = as_run_data(source)
    sig = run.signals
    cols = ["count", "setup_share", "trade_share", "win_rate", "avg_r"]
    cols += [f"fwd_{h}" for h in horizons]
    if len(sig) == 0:
        return pd.DataFrame(columns=[*by, *cols])
    hour = pd.to_datetime(sig["ts_ns"], unit="ns", utc=True).dt.tz_convert(_NY).dt.hour
    df = sig.assign(hour=hour.to_numpy())
    oc = signal_outcomes(run)
    fwd = forward_returns(df, run.bars, horizons)
    df = pd.concat(
        [df[list(by)], oc[["in_setup", "in_trade", "wins", "trades", "r_sum", "r_count"]], fwd],
        axis=1,
    )
    g = df.groupby(list(by), dropna=False)
    out = g.agg(
        count=("in_setup", "size"),
        setup_share=("in_setup", "mean"),
        trade_share=("in_trade", "mean"),
        wins=("wins", "sum"),
        trades=("trades", "sum"),
        r_sum=("r_sum", "sum"),
        r_count=("r_count", "sum"),
        **{f"fwd_{h}": (f"fwd_{h}", "mean") for h in horizons},
    )
    out["win_rate"] = out["wins"] / out["trades"].where(out["trades"] > 0)
    out["avg_r"] = out["r_sum"] / out["r_count"].where(out["r_count"] > 0)
    return (
        out[cols]
        .reset_index()
        .sort_values("count", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
