"""Monte Carlo stress tests of a backtest: how much of the result is luck of the order?

:func:`monte_carlo` resamples a backtest's trades (or its per-bar returns) many times with a
seeded ``np.random.Generator`` and reports the distributions of final equity, maximum drawdown
and Sharpe ratio, and the probability of ruin (equity falling to a threshold at any point).

Methods
-------
``"trades"``
    Trade-order bootstrap: draw as many trades as were traded, with replacement.
``"shuffle"``
    The same trades in a random order (final equity is unchanged under compounding; the path,
    and so the drawdown, is not).
``"skip"``
    The trades in their order, each skipped with probability ``skip_prob`` (missed fills,
    downtime): is the result carried by a handful of trades?
``"block"``
    Stationary block bootstrap of the per-bar returns of the equity curve (Politis & Romano,
    1994), mean block length ``block`` bars: keeps the short-range dependence that a
    trade-level bootstrap destroys.

Examples
--------
>>> import numpy as np
>>> mc = monte_carlo(np.array([0.02, -0.01, 0.015, -0.005] * 25), n=2_000, seed=7)
>>> round(mc.prob_ruin, 3), mc.samples.shape
(0.0, (2000, 6))
>>> monte_carlo(np.array([0.02, -0.01] * 10), n=50, seed=1).samples.equals(
...     monte_carlo(np.array([0.02, -0.01] * 10), n=50, seed=1).samples)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray
from tradekit.errors import ConfigError, DataError
from tradekit.research import nb_montecarlo as nbm

__all__ = ["MonteCarloResult", "monte_carlo", "trade_returns"]

Method = Literal["trades", "shuffle", "skip", "block"]
_MODES = {
    "trades": nbm.MODE_BOOTSTRAP,
    "shuffle": nbm.MODE_SHUFFLE,
    "skip": nbm.MODE_SKIP,
    "block": nbm.MODE_BLOCK,
}
_YEAR_NS = 365.25 * 86_400e9
DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class MonteCarloResult:
    """Distributions of ``n`` resampled paths.

    Attributes
    ----------
    samples:
        One row per path: ``final_equity`` (currency), ``total_return`` and ``max_drawdown``
        (fractions, drawdown ≤ 0), ``sharpe`` (annualised with :attr:`periods_per_year`, or
        per step when that is unknown), ``min_equity`` and ``ruined`` (the path touched
        :attr:`ruin_level`).
    observed:
        The same figures for the original, unresampled sequence.
    paths:
        The first ``keep_paths`` whole paths, ``(k, steps + 1)``, for :meth:`fan`.
    """

    method: str
    samples: pd.DataFrame
    observed: dict[str, float]
    initial_equity: float
    ruin_level: float
    periods_per_year: float | None
    paths: FloatArray = field(repr=False)
    observed_path: FloatArray = field(repr=False)

    @property
    def prob_ruin(self) -> float:
        """Share of paths whose equity fell to :attr:`ruin_level` or below at any point."""
        return float(self.samples["ruined"].mean())

    def summary(self, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """One row per metric: mean, std, the quantiles and the observed value."""
        cols = ["final_equity", "total_return", "max_drawdown", "sharpe"]
        s = self.samples[cols]
        out = pd.DataFrame({"mean": s.mean(), "std": s.std()})
        for q in quantiles:
            out[f"q{q:g}"] = s.quantile(q)
        out["observed"] = pd.Series({c: self.observed[c] for c in cols})
        return out

    def fan(self, quantiles: tuple[float, ...] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """Equity quantiles at each step over the kept paths (rows: step 0 … m; columns: q)."""
        qs = np.quantile(self.paths, quantiles, axis=0)
        return pd.DataFrame(qs.T, columns=list(quantiles))

    def plot(self) -> Any:
        """A Bokeh layout: the fan chart of equity with the observed path, and histograms of
        final equity and maximum drawdown."""
        from bokeh.layouts import column, row
        from bokeh.plotting import figure

        from tradekit.research._plots import fan_figure

        fan = fan_figure(self.fan(), title=f"Monte Carlo ({self.method}): equity fan",
                         reference=pd.Series(self.observed_path))  # fmt: skip
        hists = []
        for col, title in (("final_equity", "final equity"), ("max_drawdown", "max drawdown")):
            counts, edges = np.histogram(self.samples[col].to_numpy(), bins=50)
            fig = figure(title=title, height=220, width=440)
            fig.quad(top=counts, bottom=0, left=edges[:-1], right=edges[1:], alpha=0.6)
            hists.append(fig)
        return column(fan, row(*hists))


def trade_returns(trades: pd.DataFrame, initial_equity: float) -> FloatArray:
    """Each closed trade's P&L as a fraction of the (closed-trade) equity before it.

    ``r_k = pnl_k / (initial + pnl_1 + … + pnl_{k-1})`` — compounding these reproduces the
    closed-trade equity curve exactly, whatever the position sizing was.
    """
    if "pnl" not in trades:
        raise DataError("trades need a 'pnl' column (currency, net of costs)", rule="columns")
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(pnl)):
        raise DataError("trade pnl has NaN or inf", rule="finite")
    before = initial_equity + np.concatenate(([0.0], np.cumsum(pnl)[:-1]))
    if np.any(before <= 0):
        raise DataError("equity before a trade is <= 0; the trades cannot compound", rule="ruin")
    return pnl / before


def _per_year(index: pd.Index | None, count: int) -> float | None:
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2 or count < 2:
        return None
    span = float(index[-1].value - index[0].value)
    return count / (span / _YEAR_NS) if span > 0 else None


def _exit_times(trades: pd.DataFrame) -> pd.DatetimeIndex | None:
    """Exit times of trades from either a fast-path frame or the ledger's (``exit_ts_ns``)."""
    if "exit_time" in trades and len(trades):
        return pd.DatetimeIndex(trades["exit_time"])
    if "exit_ts_ns" in trades and len(trades):
        return pd.DatetimeIndex(pd.to_datetime(trades["exit_ts_ns"], unit="ns", utc=True))
    return None


def _initial_of(source: Any) -> float:
    """The starting equity a result reports (``stats``/``summary``), else 100,000."""
    for name in ("stats", "summary"):
        stats = getattr(source, name, None)
        if isinstance(stats, (dict, pd.Series)) and "initial_equity" in stats:
            return float(stats["initial_equity"])
    return 100_000.0


def _unpack(
    source: Any, method: str, initial_equity: float | None, compounding: bool
) -> tuple[FloatArray, float, float | None]:
    """``(values, initial equity, periods per year)`` of any accepted source."""
    trades = getattr(source, "trades", None)
    equity = getattr(source, "equity", None)
    if initial_equity is None:
        initial_equity = _initial_of(source)
    if isinstance(equity, pd.DataFrame):
        equity = equity["equity"]
    if isinstance(source, pd.DataFrame):
        trades = source
    if method == "block":
        if isinstance(equity, pd.Series):
            eq = equity.to_numpy(dtype=np.float64)
            values = eq[1:] / eq[:-1] - 1.0
            return values, float(eq[0]), _per_year(equity.index, len(values))
        if isinstance(source, (pd.Series, np.ndarray, list, tuple)):
            idx = source.index if isinstance(source, pd.Series) else None
            values = np.asarray(source, dtype=np.float64)
            return values, initial_equity, _per_year(idx, len(values))
        raise DataError("method 'block' needs an equity curve or a series of returns")
    if isinstance(trades, pd.DataFrame):
        values = (
            trade_returns(trades, initial_equity)
            if compounding
            else trades["pnl"].to_numpy(dtype=np.float64)
        )
        return values, initial_equity, _per_year(_exit_times(trades), len(values))
    if isinstance(source, (pd.Series, np.ndarray, list, tuple)):
        idx = source.index if isinstance(source, pd.Series) else None
        return np.asarray(source, dtype=np.float64), initial_equity, _per_year(idx, len(source))
    raise DataError(f"cannot resample a {type(source).__name__}: give a result, trades or returns")


def monte_carlo(
    source: Any,
    *,
    method: Method = "trades",
    n: int = 10_000,
    seed: int | np.random.Generator | None = None,
    initial_equity: float | None = None,
    skip_prob: float = 0.1,
    block: float | None = None,
    ruin: float = 0.5,
    compounding: bool = True,
    periods_per_year: float | None = None,
    keep_paths: int = 1_000,
) -> MonteCarloResult:
    """Resample a backtest ``n`` times and measure the spread of its outcomes.

    Parameters
    ----------
    source:
        A backtest result (anything with ``.trades`` and ``.equity``, e.g. a
        :class:`~tradekit.research.vectorized.SignalBacktest` or a ``BacktestResult``), a trades
        DataFrame with ``pnl``, or a sequence of returns (fractions; per trade, or per bar for
        ``"block"``).
    method:
        ``"trades"``, ``"shuffle"``, ``"skip"`` or ``"block"`` (see the module docstring).
    n:
        Number of resampled paths.
    seed:
        An int or a ``np.random.Generator``: the same seed gives the same paths.
    initial_equity:
        Starting equity (currency); default the result's, else 100,000.
    skip_prob:
        Probability of skipping each trade (``"skip"``).
    block:
        Mean block length in bars (``"block"``); default ``len(returns) ** (1/3)``.
    ruin:
        Ruin = losing this fraction of the initial equity at any point (0.5: equity ≤ 50 %).
    compounding:
        Trades as returns on the equity before them (True) or as fixed currency P&L (False).
    periods_per_year:
        Annualisation of the Sharpe ratio; default inferred from the timestamps (trades or
        bars per year), unannualised (per step) when there are none.
    keep_paths:
        How many whole paths to keep for the fan chart.

    Raises
    ------
    ConfigError
        Bad parameters. ``DataError``: an unusable source (no trades, NaN, ...).
    """
    if method not in _MODES:
        raise ConfigError(f"method must be one of {sorted(_MODES)}, got {method!r}")
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be an int >= 1, got {n!r}")
    if not 0.0 < ruin <= 1.0:
        raise ConfigError(f"ruin must be a fraction in (0, 1], got {ruin!r}")
    if not 0.0 <= skip_prob < 1.0:
        raise ConfigError(f"skip_prob must be in [0, 1), got {skip_prob!r}")
    values, initial, ppy = _unpack(source, method, initial_equity, compounding)
    if values.shape[0] < 1 or not np.all(np.isfinite(values)):
        raise DataError("nothing to resample: no trades/returns, or NaN/inf among them")
    if not (math.isfinite(initial) and initial > 0):
        raise ConfigError(f"initial_equity must be > 0, got {initial!r}")
    param = skip_prob
    if method == "block":
        param = float(block) if block is not None else max(1.0, values.shape[0] ** (1 / 3))
        if param < 1.0:
            raise ConfigError(f"block (mean length in bars) must be >= 1, got {block!r}")
    ppy = periods_per_year if periods_per_year is not None else ppy
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    values = np.ascontiguousarray(values)
    final, dd, mu, sd, low, _, paths = nbm.resample_paths_nb(
        values, n, _MODES[method], float(param), compounding, initial, rng, int(keep_paths)
    )
    ruin_level = initial * (1.0 - ruin)
    samples = pd.DataFrame({
        "final_equity": final,
        "total_return": final / initial - 1.0,
        "max_drawdown": dd,
        "sharpe": _sharpe(mu, sd, ppy),
        "min_equity": low,
        "ruined": low <= ruin_level,
    })  # fmt: skip
    observed_path, observed = _observed(values, compounding, initial, ppy)
    return MonteCarloResult(
        method, samples, observed, initial, ruin_level, ppy, paths, observed_path
    )


def _sharpe(mu: FloatArray, sd: FloatArray, ppy: float | None) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(sd > 0, mu / sd, np.nan)
    return s * math.sqrt(ppy) if ppy else s


def _observed(
    values: FloatArray, compounding: bool, initial: float, ppy: float | None
) -> tuple[FloatArray, dict[str, float]]:
    """The original sequence through the same kernel (a one-path 'skip' with p = 0)."""
    final, dd, mu, sd, low, _, path = nbm.resample_paths_nb(
        values, 1, nbm.MODE_SKIP, 0.0, compounding, initial, np.random.default_rng(0), 1
    )
    obs = {
        "final_equity": float(final[0]),
        "total_return": float(final[0] / initial - 1.0),
        "max_drawdown": float(dd[0]),
        "sharpe": float(_sharpe(mu, sd, ppy)[0]),
        "min_equity": float(low[0]),
    }
    return path[0], obs
