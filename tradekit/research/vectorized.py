"""The vectorised fast path: a whole backtest of entry/exit signals in one numba pass.

:func:`backtest_signals` takes bars and two boolean arrays and simulates one position at a time
with the paper broker's conventions (see :mod:`tradekit.research.nb`): a signal known at a bar's
close fills at the next bar's open, slippage is against the trader and commission is charged
on both sides. It skips everything the full engine does between a signal and an order (gates,
risk, option selection), which is what makes it fast enough for large sweeps; tests prove it
books the same trades as backtesting.py and as :func:`tradekit.backtest` wherever both apply.

Examples
--------
>>> import numpy as np, pandas as pd
>>> idx = pd.date_range("2024-01-02", periods=6, freq="D", tz="UTC")
>>> px = np.array([10.0, 10.0, 11.0, 12.0, 12.0, 13.0])
>>> bars = pd.DataFrame({"open": px, "high": px, "low": px, "close": px}, index=idx)
>>> res = backtest_signals(bars, [1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0], commission=0.0,
...                        initial_cash=1_000.0)
>>> res.trades[["quantity", "entry_price", "exit_price", "pnl"]].to_dict("records")
[{'quantity': 100.0, 'entry_price': 10.0, 'exit_price': 12.0, 'pnl': 200.0}]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tradekit._typing import ArrayLike, BoolArray, FloatArray
from tradekit.errors import ConfigError, DataError
from tradekit.execution.models.commission import as_commission
from tradekit.execution.models.slippage import as_slippage
from tradekit.research import nb
from tradekit.runtime.backtest import summarize

__all__ = ["SignalBacktest", "backtest_signals", "sma", "sma_cross_signals"]

FillAt = Literal["next_open", "close"]
_TRADE_COLUMNS = (
    "entry_bar", "exit_bar", "quantity", "entry_price", "exit_price",
    "entry_commission", "exit_commission", "pnl",
)  # fmt: skip


@dataclass
class SignalBacktest:
    """The result of :func:`backtest_signals`.

    Attributes
    ----------
    trades:
        One row per closed round trip: bars and times of entry and exit, ``direction`` (+1/-1),
        ``quantity`` (units), prices (currency, after slippage), commissions, ``gross_pnl``,
        ``pnl`` (net of both commissions), ``return`` (fraction of the entry value, net) and
        ``bars_held``.
    equity:
        Per bar: ``equity`` (cash + position × close), ``cash``, ``position`` (signed units)
        and ``drawdown`` (fraction ≤ 0 from the running peak).
    stats:
        Headline figures (:func:`tradekit.runtime.backtest.summarize` plus exposure, fees and
        the open position).
    open_trade:
        The position still open after the last bar (one row, ``exit_*`` NaN), else empty.
    """

    trades: pd.DataFrame
    equity: pd.DataFrame
    stats: dict[str, Any]
    open_trade: pd.DataFrame
    bars: pd.DataFrame = field(repr=False)

    @property
    def final_equity(self) -> float:
        """Equity after the last bar (currency), open position marked at the last close."""
        return float(self.equity["equity"].iloc[-1]) if len(self.equity) else float("nan")

    def plot(self) -> Any:
        """A Bokeh layout: price with entries and exits, equity, drawdown."""
        from tradekit.research._plots import signal_backtest_layout

        return signal_backtest_layout(self)


def _column(bars: pd.DataFrame, name: str, *, required: bool = True) -> FloatArray | None:
    for col in (name, name.capitalize()):
        if col in bars.columns:
            arr = np.ascontiguousarray(bars[col].to_numpy(dtype=np.float64))
            if not np.all(np.isfinite(arr)):
                raise DataError(f"bars column {col!r} has NaN or inf", rule="finite")
            return arr
    if required:
        raise DataError(f"bars need an {name!r} column (or {name.capitalize()!r})", rule="columns")
    return None


def _signal(x: ArrayLike | pd.Series, n: int, index: pd.Index, name: str) -> BoolArray:
    if isinstance(x, pd.Series) and not x.index.equals(index):
        raise DataError(f"{name} is a Series whose index differs from the bars'", rule="align")
    arr = np.asarray(x)
    if arr.shape != (n,):
        raise DataError(f"{name} has shape {arr.shape}, the bars have {n} rows", rule="shape")
    if arr.dtype != np.bool_:
        if not np.isin(arr, (0, 1)).all():
            raise DataError(f"{name} must be boolean (or 0/1)", rule="boolean")
        arr = arr.astype(np.bool_)
    return np.ascontiguousarray(arr)


def _size_fraction(size: str | float) -> float:
    if size == "all_equity":
        return 1.0
    if isinstance(size, (int, float)) and not isinstance(size, bool) and 0.0 < size <= 1.0:
        return float(size)
    raise ConfigError(f"size must be 'all_equity' or a fraction of equity in (0, 1], got {size!r}")


def _model_args(commission: Any, slippage: Any) -> tuple[FloatArray, FloatArray]:
    comm, slip = as_commission(commission), as_slippage(slippage)
    if not hasattr(comm, "nb_args") or not hasattr(slip, "nb_args"):
        raise ConfigError(
            "the vectorised path needs commission and slippage models with a numba twin "
            "(nb_args); a plain function cannot be compiled"
        )
    return np.array(comm.nb_args(), dtype=np.float64), np.array(slip.nb_args(), dtype=np.float64)


def backtest_signals(
    bars: pd.DataFrame,
    entries: ArrayLike | pd.Series,
    exits: ArrayLike | pd.Series,
    *,
    commission: Any = 0.001,
    fill: FillAt = "next_open",
    size: str | float = "all_equity",
    units: Literal["whole", "fractional"] = "whole",
    initial_cash: float = 100_000.0,
    slippage: Any = None,
    direction: Literal["long", "short"] = "long",
    close_at_end: bool = False,
) -> SignalBacktest:
    """Simulate one position at a time from entry/exit signals (numba).

    Parameters
    ----------
    bars:
        Bar frame with ``open`` and ``close`` (``volume`` for volume slippage); lower-case or
        backtesting.py's capitalised names. Prices finite and > 0.
    entries, exits:
        Boolean per bar, known at that bar's close. An entry opens when flat, an exit closes
        when in a position; an entry and an exit on the same bar cancel out.
    commission:
        Any shorthand of :func:`~tradekit.execution.models.commission.as_commission`:
        ``0.001`` = 0.1 % of traded value per side, ``(fixed, percent)``, a spec or a model.
    fill:
        ``"next_open"`` (the paper broker: the bar after the signal, at its open) or
        ``"close"`` (at the signal bar's close, as backtesting.py's ``trade_on_close``).
    size:
        ``"all_equity"`` or a fraction of cash in (0, 1] for each entry.
    units:
        ``"whole"`` units (floor) or ``"fractional"``.
    initial_cash:
        Starting cash (currency).
    slippage:
        Shorthand of :func:`~tradekit.execution.models.slippage.as_slippage` (None = none).
    direction:
        ``"long"``: entries buy, exits sell; ``"short"``: entries sell short, exits cover.
    close_at_end:
        Close a position still open at the last bar's close (it is then a trade); otherwise it
        stays in :attr:`SignalBacktest.open_trade` and is marked to market in the equity.

    Returns
    -------
    SignalBacktest
        ``.trades``, ``.equity``, ``.stats``, ``.open_trade`` and ``.plot()``.

    Raises
    ------
    DataError
        Missing or non-finite columns, signals of the wrong length or type.
    ConfigError
        An unknown ``fill``, ``size``, ``units`` or ``direction``, or models without a kernel.
    """
    if fill not in ("next_open", "close"):
        raise ConfigError(f"fill must be 'next_open' or 'close', got {fill!r}")
    if units not in ("whole", "fractional"):
        raise ConfigError(f"units must be 'whole' or 'fractional', got {units!r}")
    if direction not in ("long", "short"):
        raise ConfigError(f"direction must be 'long' or 'short', got {direction!r}")
    if not (np.isfinite(initial_cash) and initial_cash > 0):
        raise ConfigError(f"initial_cash must be > 0, got {initial_cash!r}")
    o, c = _column(bars, "open"), _column(bars, "close")
    assert o is not None and c is not None  # required columns
    v = _column(bars, "volume", required=False)
    n = c.shape[0]
    if n and (o.min() <= 0 or c.min() <= 0):
        raise DataError("bar prices must be > 0", rule="positive")
    ent = _signal(entries, n, bars.index, "entries")
    ex = _signal(exits, n, bars.index, "exits")
    comm, slip = _model_args(commission, slippage)
    equity, cash, pos, raw, n_closed = nb.simulate_signals_1d_nb(
        o, c, v if v is not None else np.zeros(n), ent, ex, fill == "close",
        1 if direction == "long" else -1, _size_fraction(size), units == "whole",
        float(initial_cash), bool(close_at_end), comm, slip,
    )  # fmt: skip
    eq = pd.DataFrame({"equity": equity, "cash": cash, "position": pos}, index=bars.index)
    peak = np.maximum.accumulate(equity) if n else equity
    eq["drawdown"] = equity / peak - 1.0 if n else equity
    trades = _trades_frame(raw[:n_closed], bars.index)
    open_trade = _trades_frame(raw[n_closed:], bars.index)
    stats = _stats(eq, trades, open_trade, float(initial_cash))
    return SignalBacktest(trades, eq, stats, open_trade, bars)


def _trades_frame(raw: FloatArray, index: pd.Index) -> pd.DataFrame:
    df = pd.DataFrame(raw, columns=list(_TRADE_COLUMNS))
    closed = df["exit_bar"].notna().to_numpy()
    entry_bar = df["entry_bar"].to_numpy().astype(np.int64)
    exit_bar = np.where(closed, df["exit_bar"].fillna(-1).to_numpy(), -1).astype(np.int64)
    df["entry_bar"] = entry_bar
    df["exit_bar"] = exit_bar
    df.insert(2, "entry_time", index[entry_bar] if len(df) else index[:0])
    exit_time = pd.Series(index[np.maximum(exit_bar, 0)] if len(df) else index[:0])
    df.insert(3, "exit_time", exit_time.where(closed).to_numpy() if len(df) else index[:0])
    qty = df["quantity"].to_numpy()
    df.insert(4, "direction", np.sign(qty).astype(np.int64))
    df["quantity"] = np.abs(qty)
    df["commission"] = df["entry_commission"] + df["exit_commission"]
    df["gross_pnl"] = qty * (df["exit_price"] - df["entry_price"])
    df["return"] = df["pnl"] / (df["quantity"] * df["entry_price"])
    df["bars_held"] = np.where(closed, exit_bar - entry_bar, -1)
    return df


def _stats(
    eq: pd.DataFrame, trades: pd.DataFrame, open_trade: pd.DataFrame, initial_cash: float
) -> dict[str, Any]:
    base = summarize(eq["equity"], trades, initial_cash)
    n = len(eq)
    return {
        "bars": n,
        **base,
        "exposure": float((eq["position"].to_numpy() != 0).mean()) if n else 0.0,
        "commission": float(trades["commission"].sum()),
        "open_position": float(open_trade["quantity"].iloc[0]) if len(open_trade) else 0.0,
    }


def sma(close: ArrayLike | pd.Series, n: int) -> FloatArray:
    """Trailing ``n``-bar simple moving average (NaN for the first ``n - 1`` bars), numba.

    Equivalent to ``pd.Series(close).rolling(n).mean()`` (see
    :func:`tradekit.research.nb.rolling_mean_1d_nb`).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"SMA length must be an int >= 1, got {n!r}")
    x = np.ascontiguousarray(np.asarray(close, dtype=np.float64))
    return nb.rolling_mean_1d_nb(x, int(n))


def sma_cross_signals(
    close: ArrayLike | pd.Series, fast: int, slow: int
) -> tuple[BoolArray, BoolArray]:
    """``(entries, exits)`` of the SMA crossover: fast crosses above slow / below slow.

    The bar-by-bar rule of ``backtesting.lib.crossover(fast, slow)`` (and its mirror), known
    at each bar's close.
    """
    if fast >= slow:
        raise ConfigError(f"fast ({fast}) must be shorter than slow ({slow})")
    f, s = sma(close, fast), sma(close, slow)
    return nb.crossover_1d_nb(f, s), nb.crossover_1d_nb(s, f)
