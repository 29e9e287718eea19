"""A/B comparison of two algorithm versions or strategies on the same bars.

Both sides run through the same engine on the same bars with the same market view, so every
difference comes from the configuration or strategy. The uncertainty of the difference is a
**paired** bootstrap over *trading days*: each resample draws days with replacement and uses the
*same* days for A and B, which keeps what the two share (the market of that day) and measures only
what differs.

* Sharpe: the annualised Sharpe (daily returns, rf 0, x sqrt(252)) of B minus that of A, on
  each resample.
* Mean daily return: B − A.
* Mean R: the mean R multiple of the trades that *closed* on the resampled days, for each side
  (a day drawn twice counts its trades twice), B − A. A resample where one side has no trade
  is skipped for this figure.

The verdict says "B is better" / "A is better" only when the confidence interval of the Sharpe
difference (and of mean R when it exists) excludes zero in the same direction; otherwise it says
plainly that the data cannot tell them apart.

Examples
--------
>>> from tradekit.config import AlgorithmConfig
>>> from tradekit.data.datasets import load
>>> from tradekit.research.compare import compare
>>> a = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")
>>> b = a.with_overrides({"decision.min_confidence": 7.0, "version": "1.0.1"})
>>> ab = compare(load("aapl").iloc[:900], a, b, n_boot=300, seed=1)
>>> sorted(ab.intervals.index)
['mean_daily_return', 'mean_r', 'sharpe']
>>> ab.verdict.startswith(("B is better", "A is better", "The data cannot tell"))
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradekit.analytics.gates import gate_table
from tradekit.config import AlgorithmConfig
from tradekit.errors import ConfigError

__all__ = ["CompareResult", "compare"]

_METRICS = ("total_return", "annual_return", "sharpe", "sortino", "max_drawdown", "trades",
            "win_rate", "profit_factor", "expectancy", "avg_r", "exposure")  # fmt: skip


@dataclass
class CompareResult:
    """Side-by-side figures, paired-bootstrap intervals and the verdict of an A/B run.

    ``metrics``: one row per metric, columns ``A``, ``B``, ``B - A``. ``intervals``: per
    difference (B − A) the observed value, ``low``/``high`` of the ``level`` interval and
    whether it excludes 0. ``gates``: pass rate per gate for A and B. ``signals``: signals,
    setups and trades per signal kind. ``days``: paired trading days used.
    """

    labels: tuple[str, str]
    metrics: pd.DataFrame
    intervals: pd.DataFrame
    gates: pd.DataFrame
    signals: pd.DataFrame
    verdict: str
    days: int
    level: float
    results: tuple[Any, Any]

    def to_dict(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            if isinstance(v, float | np.floating):
                return None if not math.isfinite(float(v)) else float(v)
            if isinstance(v, np.integer | np.bool_):
                return v.item()
            return v

        return {
            "labels": list(self.labels), "verdict": self.verdict, "days": self.days,
            "level": self.level,
            "metrics": {m: {k: clean(v) for k, v in row.items()}
                        for m, row in self.metrics.to_dict("index").items()},
            "intervals": {m: {k: clean(v) for k, v in row.items()}
                          for m, row in self.intervals.to_dict("index").items()},
            "gates": {g: {k: clean(v) for k, v in row.items()}
                      for g, row in self.gates.to_dict("index").items()},
        }  # fmt: skip


def _run(side: Any, bars: pd.DataFrame, market: Any, quotes: Any) -> Any:
    from tradekit.runtime.backtest import backtest

    if isinstance(side, AlgorithmConfig):
        return backtest(bars, side, market=market, quotes=quotes)
    if isinstance(side, Mapping):
        return backtest(bars, side.get("config"), side.get("strategy"), market=market,
                        quotes=quotes)  # fmt: skip
    if hasattr(side, "on_bar"):
        return backtest(bars, None, side, market=market, quotes=quotes)
    raise ConfigError("each side is an AlgorithmConfig, a Strategy, or {'config':, 'strategy':}")


def _label(side: Any, default: str) -> str:
    if isinstance(side, AlgorithmConfig):
        return f"{side.name} v{side.version}"
    strat = side.get("strategy") if isinstance(side, Mapping) else side
    return str(getattr(strat, "name", None) or type(strat).__name__) if strat else default


def _daily(res: Any) -> pd.Series:
    eq = res.equity.astype(float)
    idx = pd.DatetimeIndex(eq.index).tz_convert("America/New_York")
    day = pd.Series(eq.to_numpy(), index=idx).groupby(idx.date).last()
    return day.pct_change().dropna()


def _r_by_day(res: Any, days: pd.Index) -> list[np.ndarray]:
    t = res.trades
    if t is None or len(t) == 0:
        return [np.empty(0) for _ in days]
    exit_day = pd.to_datetime(t["exit_ts_ns"], unit="ns", utc=True).dt.tz_convert(
        "America/New_York").dt.date  # fmt: skip
    r = t["r_multiple"].astype(float)
    groups = {d: r[exit_day == d].dropna().to_numpy() for d in set(exit_day)}
    return [groups.get(d, np.empty(0)) for d in days]


def _sharpe(r: np.ndarray) -> np.ndarray:
    """Annualised Sharpe per row of ``r`` (daily returns; rf 0; ddof 1)."""
    sd = r.std(axis=-1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, r.mean(axis=-1) / sd * math.sqrt(252.0), np.nan)


def _interval(obs: float, boot: np.ndarray, level: float) -> dict[str, Any]:
    boot = boot[np.isfinite(boot)]
    if boot.size < 20 or not math.isfinite(obs):
        return {"observed": obs, "low": math.nan, "high": math.nan, "excludes_zero": False,
                "resamples": int(boot.size)}  # fmt: skip
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return {"observed": obs, "low": float(lo), "high": float(hi),
            "excludes_zero": bool(lo > 0 or hi < 0), "resamples": int(boot.size)}  # fmt: skip


def _gates(ra: Any, rb: Any, labels: tuple[str, str]) -> pd.DataFrame:
    out = {}
    for res, lab in zip((ra, rb), labels, strict=True):
        d = res.decisions
        g = gate_table(d) if d is not None and len(d) else pd.DataFrame(columns=["name", "passed"])
        out[f"{lab} pass rate"] = g.groupby("name")["passed"].mean()
    frame = pd.DataFrame(out)
    frame.columns = ["A", "B"]
    frame["B - A"] = frame["B"] - frame["A"]
    return frame


def _signals(ra: Any, rb: Any) -> pd.DataFrame:
    def counts(res: Any) -> pd.Series:
        s = res.signals
        return s["kind"].value_counts() if s is not None and len(s) else pd.Series(dtype=int)

    frame = pd.DataFrame({"A": counts(ra), "B": counts(rb)}).fillna(0).astype(int)
    frame["B - A"] = frame["B"] - frame["A"]
    return frame.sort_index()


def _verdict(iv: pd.DataFrame, labels: tuple[str, str], level: float) -> str:
    sh = iv.loc["sharpe"]
    r = iv.loc["mean_r"]
    pct = f"{level:.0%}"
    if not sh["excludes_zero"]:
        return (f"The data cannot tell {labels[0]} (A) and {labels[1]} (B) apart: the {pct} "
                f"interval of the Sharpe difference B - A, [{sh['low']:.2f}, {sh['high']:.2f}], "
                "contains 0.")  # fmt: skip
    better = "B" if sh["observed"] > 0 else "A"
    if r["excludes_zero"] and (r["observed"] > 0) != (better == "B"):
        return (f"The data cannot tell them apart: Sharpe favours {better} but mean R favours "
                f"the other, each {pct} interval excluding 0.")  # fmt: skip
    name = labels[1] if better == "B" else labels[0]
    return (f"{better} is better ({name}): the {pct} interval of the Sharpe difference B - A, "
            f"[{sh['low']:.2f}, {sh['high']:.2f}], excludes 0.")  # fmt: skip


def compare(
    bars: pd.DataFrame,
    a: Any,
    b: Any,
    *,
    market: Any = None,
    quotes: Any = None,
    n_boot: int = 2_000,
    level: float = 0.95,
    seed: int = 0,
) -> CompareResult:
    """Backtest ``a`` and ``b`` (each an AlgorithmConfig, a Strategy, or ``{"config": ...,
    "strategy": ...}``) on ``bars`` and compare them (see the module docstring).

    Raises
    ------
    ConfigError
        ``n_boot`` < 100, ``level`` outside (0, 1), or fewer than 5 paired trading days.
    """
    if n_boot < 100:
        raise ConfigError(f"n_boot must be >= 100, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    labels = (_label(a, "A"), _label(b, "B"))
    if labels[0] == labels[1]:
        labels = (f"A: {labels[0]}", f"B: {labels[1]}")
    ra, rb = _run(a, bars, market, quotes), _run(b, bars, market, quotes)
    da, db = _daily(ra), _daily(rb)
    days = da.index.intersection(db.index)
    if len(days) < 5:
        raise ConfigError(f"{len(days)} paired trading days; need at least 5 to compare")
    xa, xb = da.loc[days].to_numpy(), db.loc[days].to_numpy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(days), size=(n_boot, len(days)))
    sharpe_boot = _sharpe(xb[idx]) - _sharpe(xa[idx])
    mean_boot = xb[idx].mean(axis=1) - xa[idx].mean(axis=1)
    ra_days, rb_days = _r_by_day(ra, days), _r_by_day(rb, days)
    na, nb = (np.array([len(x) for x in d]) for d in (ra_days, rb_days))  # trades per day
    sa, sb = (np.array([x.sum() for x in d]) for d in (ra_days, rb_days))  # R summed per day
    cnt_a, cnt_b = na[idx].sum(axis=1), nb[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_boot = np.where((cnt_a > 0) & (cnt_b > 0),
                          sb[idx].sum(axis=1) / cnt_b - sa[idx].sum(axis=1) / cnt_a, np.nan)  # fmt: skip
        r_obs = (sb.sum() / nb.sum() - sa.sum() / na.sum()) if na.sum() and nb.sum() else math.nan
    sh_obs = float(_sharpe(xb[None, :])[0] - _sharpe(xa[None, :])[0])
    intervals = pd.DataFrame(
        {
            "sharpe": _interval(sh_obs, sharpe_boot, level),
            "mean_daily_return": _interval(float(xb.mean() - xa.mean()), mean_boot, level),
            "mean_r": _interval(float(r_obs), r_boot, level),
        }
    ).T
    sa_stats, sb_stats = ra.stats, rb.stats
    metrics = pd.DataFrame({"A": [sa_stats.get(m, math.nan) for m in _METRICS],
                            "B": [sb_stats.get(m, math.nan) for m in _METRICS]}, index=_METRICS)  # fmt: skip
    metrics = metrics.astype(float)
    metrics["B - A"] = metrics["B"] - metrics["A"]
    return CompareResult(labels, metrics, intervals, _gates(ra, rb, labels), _signals(ra, rb),
                         _verdict(intervals, labels, level), len(days), level, (ra, rb))  # fmt: skip
