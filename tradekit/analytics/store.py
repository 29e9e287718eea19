"""Analytics read from the DuckDB store, for the UI and the REST API (a ``Store`` + a run id).

Every function here builds a :class:`~tradekit.analytics.run.RunData` with
:meth:`~tradekit.analytics.run.RunData.from_store` and calls the same function a
``BacktestResult`` uses, so a recorded backtest and the live paper account (``run_id="live"``)
are measured by one definition.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tradekit.store.repository import Store

__all__ = ["read_equity", "store_analytics"]


def _configured_cash(store: Store, run_id: str) -> float | None:
    rows = store.query(
        "SELECT c.json FROM backtest_runs r JOIN algorithm_configs c ON c.config_id = r.config_id "
        "WHERE r.run_id = ? LIMIT 1",
        [run_id],
    )
    if len(rows) == 0:
        return None
    data = json.loads(rows["json"].iloc[0]) if isinstance(rows["json"].iloc[0], str) else {}
    cash = data.get("execution", {}).get("initial_cash")
    return float(cash) if cash is not None else None


def read_equity(
    store: Store, run_id: str, initial_equity: float | None = None
) -> tuple[pd.Series, float]:
    """The equity marks of a run and the equity before them (see ``RunData.from_store``)."""
    eq = store.equity(run_id)
    start = initial_equity
    if start is None:
        start = _configured_cash(store, run_id)
    if len(eq):
        return eq, float(start if start is not None else eq.iloc[0])
    daily = store.daily_performance(run_id=run_id)
    if len(daily):
        idx = pd.DatetimeIndex(pd.to_datetime(daily["date"])).tz_localize("UTC")
        eq = pd.Series(daily["end_equity"].to_numpy(np.float64), index=idx, name="equity")
        return eq, float(start if start is not None else daily["start_equity"].iloc[0])
    trades = store.trades(run_id=run_id)
    base = float(start) if start is not None else math.nan
    if len(trades) == 0 or not math.isfinite(base):
        empty = pd.Series([], dtype=np.float64, index=pd.DatetimeIndex([], tz="UTC"))
        return empty.rename("equity"), base
    t = trades.sort_values("exit_ts")
    idx = pd.DatetimeIndex(pd.to_datetime(t["exit_ts"], utc=True))
    values = base + t["pnl"].to_numpy(np.float64).cumsum()
    return pd.Series(values, index=idx, name="equity"), base


def store_analytics(
    store: Store,
    run_id: str,
    *,
    bars: dict[str, pd.DataFrame] | pd.DataFrame | None = None,
    **kwargs: Any,
) -> dict[str, pd.DataFrame | pd.Series]:
    """Every analytics table of a stored run: ``performance``, ``signals``, ``gates``,
    ``blocked`` and the trade distribution tables (keyword arguments go to the functions
    that take them)."""
    from tradekit.analytics.gates import gate_analytics
    from tradekit.analytics.metrics import performance
    from tradekit.analytics.run import RunData
    from tradekit.analytics.signals import signal_analytics
    from tradekit.analytics.trades import trade_distribution

    run = RunData.from_store(store, run_id, bars=bars)
    gates = gate_analytics(run)
    out: dict[str, pd.DataFrame | pd.Series] = {
        "performance": performance(run.equity, run.trades, initial_equity=run.initial_equity),
        "signals": signal_analytics(run, **kwargs),
        "gates": gates.by_gate,
        "blocked": gates.blocked,
    }
    out.update(trade_distribution(run).tables())
    return out
