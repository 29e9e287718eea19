"""``RunData``: the records of one run in one shape, whether they come from a backtest or the store.

Every analytics function reads a :class:`RunData`. :meth:`RunData.from_result` takes a
:class:`~tradekit.runtime.backtest.BacktestResult`; :meth:`RunData.from_store` reads a run of
the DuckDB store (a backtest recorded with ``tradekit.backtest(..., store=...)`` or the live
paper account, ``run_id="live"``). The two differ only in column names and types, which are
normalised here: times as int ns UTC (``*_ns``), gate results as lists of dicts.

It also links the records: which setups used a signal, the decision on each setup, and the
closed trade an ENTER decision opened (:func:`decision_trades`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tradekit.runtime.backtest import BacktestResult
    from tradekit.store.repository import Store

__all__ = ["RunData", "as_run_data", "bars_of", "decision_trades"]


def _ns_col(df: pd.DataFrame, name: str, ts_name: str | None = None) -> pd.DataFrame:
    """Ensure ``name`` (int ns) exists, converting from the timestamp column ``ts_name``."""
    if name in df or len(df) == 0:
        return df if name in df else df.assign(**{name: pd.Series(dtype=np.int64)})
    src = ts_name or name.removesuffix("_ns")
    ts = pd.DatetimeIndex(pd.to_datetime(df[src], utc=True)).as_unit("ns")
    return df.assign(**{name: ts.asi8})


def _empty(*cols: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


@dataclass
class RunData:
    """The normalised records of one run (see the module docstring).

    Attributes
    ----------
    signals, setups, decisions, orders, fills, trades : pandas.DataFrame
        One row per record; times in ``ts_ns`` (and ``entry_ts_ns`` / ``exit_ts_ns`` for
        trades); ``decisions["gates"]`` lists the gate results as dicts.
    equity : pandas.Series
        Equity marks in currency (may be empty: a store run without recorded marks).
    initial_equity : float
        Equity before the first mark.
    bars : dict of str to DataFrame
        The replayed bars by symbol, when known (forward returns and counterfactuals need them).
    run_id : str
    """

    signals: pd.DataFrame
    setups: pd.DataFrame
    decisions: pd.DataFrame
    orders: pd.DataFrame
    fills: pd.DataFrame
    trades: pd.DataFrame
    equity: pd.Series
    initial_equity: float
    bars: dict[str, pd.DataFrame] = field(default_factory=dict)
    run_id: str = ""

    @classmethod
    def from_result(cls, result: BacktestResult) -> RunData:
        """The records of a backtest result."""
        return cls(
            signals=_norm_signals(result.signals),
            setups=_norm_signals(result.setups),
            decisions=_norm_decisions(result.decisions),
            orders=result.orders if len(result.orders) else _empty("id", "decision_id", "tag"),
            fills=_ns_col(result.fills, "ts_ns") if len(result.fills) else _empty("order_id"),
            trades=result.trades,
            equity=result.equity,
            initial_equity=float(result.config.execution.initial_cash),
            bars=dict(result.bars),
            run_id=result.run_id,
        )

    @classmethod
    def from_store(
        cls,
        store: Store,
        run_id: str,
        *,
        bars: dict[str, pd.DataFrame] | pd.DataFrame | None = None,
        initial_equity: float | None = None,
    ) -> RunData:
        """The records of run ``run_id`` in ``store``.

        The equity comes from the run's recorded marks (``equity_curve``, written by
        ``tradekit.backtest(..., store=...)``), else from ``daily_performance`` (end of day
        equity), else from the closed trades (``initial_equity`` + cumulative P&L at each
        exit). ``initial_equity`` defaults to the first mark's equity, the first day's start
        equity or the run's configuration (``backtest_runs.params``), in that order.
        """
        from tradekit.analytics.store import read_equity

        equity, start = read_equity(store, run_id, initial_equity)
        frames = dict(bars) if isinstance(bars, dict) else {}
        if isinstance(bars, pd.DataFrame):
            frames = {str(bars.attrs.get("symbol", "")): bars}
        trades = store.trades(run_id=run_id)
        if len(trades):
            trades = _ns_col(_ns_col(trades, "entry_ts_ns", "entry_ts"), "exit_ts_ns", "exit_ts")
        return cls(
            signals=_norm_signals(store.signals(run_id=run_id)),
            setups=_norm_signals(store.setups(run_id=run_id)),
            decisions=_norm_decisions(store.decisions(run_id=run_id)),
            orders=store.orders(run_id=run_id),
            fills=_ns_col(store.fills(run_id=run_id), "ts_ns", "ts"),
            trades=trades,
            equity=equity,
            initial_equity=start,
            bars=frames,
            run_id=run_id,
        )


def _norm_signals(df: pd.DataFrame) -> pd.DataFrame:
    if len(df) == 0:
        return _empty("id", "ts_ns", "symbol", "timeframe", "kind", "direction", "signal_ids")
    out = _ns_col(df, "ts_ns", "ts")
    if "kind" not in out:  # setups of a backtest have no kind column
        out = out.assign(kind="SETUP")
    return out


def _norm_decisions(df: pd.DataFrame) -> pd.DataFrame:
    if len(df) == 0:
        return _empty("id", "setup_id", "ts_ns", "action", "block_reason", "gates", "symbol")
    out = _ns_col(df, "ts_ns", "ts")
    if "gates" not in out and "gate_results" in out:
        out = out.assign(gates=out["gate_results"])
    return out


def decision_trades(run: RunData) -> pd.DataFrame:
    """The closed trade each ENTER decision opened.

    Returns one row per decision that led to a closed trade: ``decision_id``, ``trade_id``,
    ``pnl``, ``r_multiple``, ``entry_ts_ns``, ``exit_ts_ns``. The link is the decision's entry
    order: its first fill opens the trade (same symbol, same time).
    """
    cols = ["decision_id", "trade_id", "pnl", "r_multiple", "entry_ts_ns", "exit_ts_ns"]
    orders, fills, trades = run.orders, run.fills, run.trades
    if len(orders) == 0 or len(fills) == 0 or len(trades) == 0 or "tag" not in orders:
        return pd.DataFrame(columns=cols)
    entry = orders.loc[orders["tag"] == "entry", ["id", "decision_id"]]
    first = (
        fills.merge(entry, left_on="order_id", right_on="id", suffixes=("", "_order"))
        .sort_values("ts_ns")
        .groupby("order_id", as_index=False)
        .first()
    )
    dec_col = "decision_id_order" if "decision_id_order" in first else "decision_id"
    tr = trades[["id", "symbol", "pnl", "r_multiple", "entry_ts_ns", "exit_ts_ns"]]
    joined = first[[dec_col, "symbol", "ts_ns"]].merge(
        tr, left_on=["symbol", "ts_ns"], right_on=["symbol", "entry_ts_ns"]
    )
    out = joined.rename(columns={dec_col: "decision_id", "id": "trade_id"})
    return out[cols].drop_duplicates("decision_id").reset_index(drop=True)


def bars_of(bars: dict[str, pd.DataFrame], symbol: str) -> pd.DataFrame | None:
    """The bars of ``symbol`` (or the only frame, whatever its key); None when unknown/empty."""
    frame = bars.get(symbol)
    if frame is None and len(bars) == 1:
        frame = next(iter(bars.values()))
    return frame if frame is not None and len(frame) else None


def as_run_data(source: Any) -> RunData:
    """A :class:`RunData` from a ``RunData`` or a ``BacktestResult``."""
    if isinstance(source, RunData):
        return source
    if hasattr(source, "equity") and hasattr(source, "decisions") and hasattr(source, "config"):
        return RunData.from_result(source)
    raise TypeError(
        f"expected a BacktestResult or RunData, got {type(source).__name__} "
        "(for the store use RunData.from_store(store, run_id))"
    )
