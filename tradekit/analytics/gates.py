"""Gate analytics: how often each gate passes, what it blocks, and what the blocked trades
would have done.

Every decision records all seven gates (and the options gates), also those evaluated after the
first failure, so each gate's **pass rate** is measured on every decision, not only on those
that reached it. A setup is **blocked by** its first failing gate. The **counterfactual** of a
blocked setup is the trade it would have been: entered at the next bar's open, out at its stop
or its first target, whichever the bars reach first (the stop wins a bar that reaches both),
else at the close after ``max_bars`` bars or at the data end
(:func:`~tradekit.analytics.nb.first_exit_nb`). Its R multiple sorts it into a **missed win**
(R > 0: the gate cost a winner) or an **avoided loss** (R < 0: the gate saved a loser).

The counterfactual is a model (no scale-outs, no break-even stop, no commissions, one
contract's worth of R): it tells the sign and size of what a gate filtered, not a P&L.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradekit.analytics.nb import first_exit_nb
from tradekit.analytics.run import RunData, as_run_data, bars_of

__all__ = ["GateAnalytics", "counterfactuals", "gate_analytics", "gate_table"]


@dataclass(frozen=True)
class GateAnalytics:
    """Result of :func:`gate_analytics`.

    Attributes
    ----------
    by_gate : DataFrame
        One row per gate: ``evaluated``, ``passed``, ``pass_rate``, ``blocked`` (first failing
        gate), ``blocked_share`` (of all decisions), ``missed_wins``, ``avoided_losses``,
        ``unknown`` (no bars to replay), ``avg_r_blocked`` and ``net_r_blocked`` (sum of the
        blocked setups' counterfactual R: positive = the gate cost R on balance).
    blocked : DataFrame
        One row per blocked setup with its counterfactual (``cf_exit_ts``, ``cf_exit_price``,
        ``cf_r``, ``outcome``).
    """

    by_gate: pd.DataFrame
    blocked: pd.DataFrame


def gate_table(decisions: pd.DataFrame) -> pd.DataFrame:
    """Long table of gate results: ``decision_id``, ``order`` (position), ``name``,
    ``passed``, ``after_block``."""
    rows: list[tuple[str, int, str, bool, bool]] = []
    for did, gates in zip(decisions["id"], decisions["gates"], strict=True):
        for i, g in enumerate(gates or ()):
            get = g.get if isinstance(g, dict) else (lambda k, _g=g: getattr(_g, k))
            rows.append(
                (did, i, str(get("name")), bool(get("passed")), bool(get("evaluated_after_block")))
            )
    return pd.DataFrame(rows, columns=["decision_id", "order", "name", "passed", "after_block"])


def _blocked_by(table: pd.DataFrame) -> pd.Series:
    failed = table[~table["passed"] & ~table["after_block"]]
    return failed.groupby("decision_id")["name"].first()


def counterfactuals(
    setups: pd.DataFrame, bars: dict[str, pd.DataFrame], *, max_bars: int | None = None
) -> pd.DataFrame:
    """The counterfactual trade of each setup (module docstring), aligned with ``setups``:
    ``cf_entry``, ``cf_exit_ts``, ``cf_exit_price``, ``cf_r`` (NaN without bars)."""
    out = pd.DataFrame(
        {"cf_entry": np.nan, "cf_exit_ts": pd.NaT, "cf_exit_price": np.nan, "cf_r": np.nan},
        index=setups.index,
    )
    out["cf_exit_ts"] = pd.to_datetime(out["cf_exit_ts"], utc=True)
    horizon = np.iinfo(np.int64).max // 2 if max_bars is None else int(max_bars)
    for symbol, rows in setups.groupby("symbol"):
        frame = bars_of(bars, str(symbol))
        if frame is None:
            continue
        idx = pd.DatetimeIndex(frame.index).as_unit("ns")
        ts = idx.asi8
        o, h, lo, c = (frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
        start = np.searchsorted(ts, rows["ts_ns"].to_numpy(np.int64), side="right")
        pos, px, r = first_exit_nb(
            o, h, lo, c, start.astype(np.int64),
            rows["direction"].to_numpy(np.int64), rows["stop"].to_numpy(np.float64),
            rows["tp1"].to_numpy(np.float64), horizon,
        )  # fmt: skip
        ok = pos >= 0
        out.loc[rows.index[ok], "cf_entry"] = o[start[ok]]
        out.loc[rows.index[ok], "cf_exit_ts"] = idx[pos[ok]]
        out.loc[rows.index[ok], "cf_exit_price"] = px[ok]
        out.loc[rows.index[ok], "cf_r"] = r[ok]
    return out


def gate_analytics(source: Any, *, max_bars: int | None = None) -> GateAnalytics:
    """Pass rates, blocks and counterfactuals per gate (see the module docstring).

    Parameters
    ----------
    source:
        A ``BacktestResult`` or a ``RunData`` (with ``bars`` for the counterfactuals).
    max_bars:
        Longest counterfactual holding in bars (default: until stop, target or data end).
    """
    run: RunData = as_run_data(source)
    dec = run.decisions
    cols = ["gate", "evaluated", "passed", "pass_rate", "blocked", "blocked_share",
            "missed_wins", "avoided_losses", "unknown", "avg_r_blocked", "net_r_blocked"]  # fmt: skip
    if len(dec) == 0:
        return GateAnalytics(pd.DataFrame(columns=cols), pd.DataFrame())
    table = gate_table(dec)
    first = _blocked_by(table)
    order = table.groupby("name")["order"].min().sort_values()
    stats = table.groupby("name").agg(evaluated=("passed", "size"), passed=("passed", "sum"))
    blocked_dec = dec[dec["id"].isin(first.index)].assign(blocked_by=lambda d: d["id"].map(first))
    setups = run.setups.set_index("id") if len(run.setups) else pd.DataFrame()
    keep = ["symbol", "ts_ns", "direction", "entry", "stop", "tp1"]
    if len(blocked_dec) and len(setups):
        joined = blocked_dec[["id", "setup_id", "blocked_by", "block_reason"]].join(
            setups[[k for k in keep if k in setups]], on="setup_id"
        )
    else:
        joined = pd.DataFrame(columns=["id", "setup_id", "blocked_by", "block_reason", *keep])
    joined = joined.dropna(subset=["stop", "tp1"]) if len(joined) else joined
    cf = counterfactuals(joined, run.bars, max_bars=max_bars) if len(joined) else pd.DataFrame(
        columns=["cf_entry", "cf_exit_ts", "cf_exit_price", "cf_r"]
    )  # fmt: skip
    blocked = pd.concat([joined, cf], axis=1).rename(columns={"id": "decision_id"})
    r = blocked["cf_r"].astype(float) if len(blocked) else pd.Series(dtype=float)
    blocked["outcome"] = np.select(
        [r > 0, r < 0, r == 0], ["missed win", "avoided loss", "flat"], default="unknown"
    ) if len(blocked) else pd.Series(dtype=object)  # fmt: skip
    rows = []
    n = len(dec)
    for name in order.index:
        b = blocked[blocked["blocked_by"] == name] if len(blocked) else blocked
        rb = b["cf_r"].astype(float) if len(b) else pd.Series(dtype=float)
        ev, ps = int(stats.loc[name, "evaluated"]), int(stats.loc[name, "passed"])
        nb = int((first == name).sum())
        rows.append({
            "gate": name, "evaluated": ev, "passed": ps, "pass_rate": ps / ev if ev else np.nan,
            "blocked": nb, "blocked_share": nb / n,
            "missed_wins": int((rb > 0).sum()), "avoided_losses": int((rb < 0).sum()),
            "unknown": int(rb.isna().sum()) + (nb - len(b)),
            "avg_r_blocked": float(rb.mean()) if rb.notna().any() else np.nan,
            "net_r_blocked": float(rb.sum()) if rb.notna().any() else np.nan,
        })  # fmt: skip
    return GateAnalytics(pd.DataFrame(rows, columns=cols), blocked.reset_index(drop=True))
