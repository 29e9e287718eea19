"""Trade distribution: R multiples, holding times, P&L by weekday and hour, streaks.

Closed trades only (one row per round trip; ``pnl`` net of commissions, in currency). Weekday
and hour are those of the **entry**, in New York time, so an intraday strategy's morning and
afternoon trades separate.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradekit.analytics.metrics import trade_arrays
from tradekit.analytics.run import as_run_data

__all__ = ["R_BINS", "TradeDistribution", "streaks", "trade_distribution"]

#: Default R-multiple bin edges (open-ended outer bins are added).
R_BINS: tuple[float, ...] = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
_NY = "America/New_York"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class TradeDistribution:
    """Result of :func:`trade_distribution` (every attribute a DataFrame).

    Attributes
    ----------
    r_histogram:
        ``bin`` (interval label), ``lo``, ``hi`` (R), ``count``.
    holding:
        Per trade: ``trade_id``, ``holding`` (Timedelta), ``holding_hours``, ``pnl``, ``r``.
    by_weekday, by_hour:
        ``trades``, ``pnl`` (sum), ``avg_pnl``, ``win_rate``, ``avg_r`` per entry weekday /
        New York hour.
    streaks:
        One row per run of consecutive wins or losses in exit order: ``kind`` ("win" /
        "loss"), ``length``, ``pnl``, ``start``/``end`` (exit times).
    """

    r_histogram: pd.DataFrame
    holding: pd.DataFrame
    by_weekday: pd.DataFrame
    by_hour: pd.DataFrame
    streaks: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name (``trades_r_histogram``, ``trades_holding``, ...)."""
        return {
            "trades_r_histogram": self.r_histogram,
            "trades_holding": self.holding,
            "trades_by_weekday": self.by_weekday,
            "trades_by_hour": self.by_hour,
            "trades_streaks": self.streaks,
        }

    @property
    def longest_win_streak(self) -> int:
        s = self.streaks
        return int(s.loc[s["kind"] == "win", "length"].max()) if (s["kind"] == "win").any() else 0

    @property
    def longest_loss_streak(self) -> int:
        s = self.streaks
        return int(s.loc[s["kind"] == "loss", "length"].max()) if (s["kind"] == "loss").any() else 0


def streaks(pnl: np.ndarray, exit_ns: np.ndarray) -> pd.DataFrame:
    """Runs of consecutive wins (``pnl > 0``) or losses (``pnl <= 0``) in exit order."""
    cols = ["kind", "length", "pnl", "start", "end"]
    if pnl.size == 0:
        return pd.DataFrame(columns=cols)
    order = np.argsort(exit_ns, kind="stable")
    p, t = pnl[order], exit_ns[order]
    win = p > 0
    cut = np.flatnonzero(np.diff(win.astype(np.int8)) != 0) + 1
    starts = np.r_[0, cut]
    ends = np.r_[cut, p.size]
    return pd.DataFrame(
        {
            "kind": np.where(win[starts], "win", "loss"),
            "length": ends - starts,
            "pnl": np.add.reduceat(p, starts),
            "start": pd.to_datetime(t[starts], unit="ns", utc=True),
            "end": pd.to_datetime(t[ends - 1], unit="ns", utc=True),
        },
        columns=cols,
    )


def _by(key: pd.Series, pnl: np.ndarray, r: np.ndarray, name: str) -> pd.DataFrame:
    df = pd.DataFrame({name: key.to_numpy(), "pnl": pnl, "win": pnl > 0, "r": r})
    g = df.groupby(name, sort=True)
    out = g.agg(trades=("pnl", "size"), pnl=("pnl", "sum"), avg_pnl=("pnl", "mean"),
                win_rate=("win", "mean"), avg_r=("r", "mean"))  # fmt: skip
    return out.reset_index()


def trade_distribution(source: Any, *, r_bins: Sequence[float] = R_BINS) -> TradeDistribution:
    """The distribution tables of the closed trades of a ``BacktestResult`` or ``RunData``."""
    run = as_run_data(source)
    t = trade_arrays(run.trades)
    pnl, r, entry, exit_ = t["pnl"], t["r"], t["entry_ns"], t["exit_ns"]
    edges = np.r_[-np.inf, np.asarray(r_bins, np.float64), np.inf]
    finite = r[np.isfinite(r)]
    counts = np.histogram(finite, bins=edges)[0] if finite.size else np.zeros(edges.size - 1, int)
    labels = [f"[{lo:g}, {hi:g})" for lo, hi in itertools.pairwise(edges)]
    hist = pd.DataFrame({"bin": labels, "lo": edges[:-1], "hi": edges[1:], "count": counts})
    ids = (
        run.trades["id"].to_numpy()
        if len(run.trades) and "id" in run.trades
        else np.arange(pnl.size)
    )
    held = pd.to_timedelta(exit_ - entry, unit="ns")
    holding = pd.DataFrame({"trade_id": ids, "holding": held,
                            "holding_hours": (exit_ - entry) / 3.6e12, "pnl": pnl, "r": r})  # fmt: skip
    local = pd.Series(pd.to_datetime(entry, unit="ns", utc=True)).dt.tz_convert(_NY)
    wd = _by(local.dt.day_of_week, pnl, r, "weekday")
    wd.insert(1, "day", [_DAYS[int(d)] for d in wd["weekday"]])
    hr = _by(local.dt.hour, pnl, r, "hour")
    return TradeDistribution(hist, holding, wd, hr, streaks(pnl, exit_))
