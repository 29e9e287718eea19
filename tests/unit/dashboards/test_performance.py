"""The Performance tab over a real AutoTrader and its DuckDB store: metrics and charts of the
closed trades, and what it says before the first one."""

from __future__ import annotations

import math

import pytest

from tradekit.dashboards.components.performance import (
    PerformanceView,
    realized_metrics,
    signal_table,
)
from tradekit.runtime.replay import replay_trader


async def test_performance_shows_the_closed_trades_of_the_run_and_says_when_there_are_none() -> (
    None
):
    trader = replay_trader("synthetic", days=2, history_days=30, seed=11, speed=None,
                           new_run=True)  # fmt: skip
    try:
        view = PerformanceView(trader)
        view.refresh()
        assert "No closed trade yet" in view.note.object and trader.run_id in view.note.object
        assert len(view.eq_src.data["x"]) == 0 and len(view.day_src.data["x"]) == 0
        cards = {c.name: c.value for c in view.cards.objects}
        assert cards["trades"] == "0" and cards["win rate"] == "—"

        trader.start()
        await trader.wait()
        view.refresh()
        trades = trader.store.trades(run_id=trader.run_id)
        assert len(trades) > 0, "the replay closes trades"
        cash = float(trader.engine.config.execution.initial_cash)
        pnl = float(trades["pnl"].sum())
        assert len(view.eq_src.data["x"]) == len(trades)
        assert view.eq_src.data["equity"].iloc[-1] == pytest.approx(cash + pnl)
        assert max(view.eq_src.data["dd"]) <= 0.0
        assert float(sum(view.day_src.data["pnl"])) == pytest.approx(pnl)
        m = realized_metrics(trades, cash)
        cards = {c.name: c.value for c in view.cards.objects}
        assert cards["trades"] == f"{len(trades):,}" and cards["net P&L"] == f"{m['net P&L']:+,.2f}"
        assert math.isfinite(m["max drawdown"])
        assert f"{len(trades):,} closed trades" in view.note.object
        sig = signal_table(trader.store, trader.run_id)
        assert len(sig) and all(str(sig[c].dtype) == "int64" for c in ("signals", "long", "short"))
        assert (sig["long"] + sig["short"] <= sig["signals"]).all()
        assert view.signals.value.equals(sig)
        # a run without trades draws nothing of the run shown before it
        fresh = replay_trader("synthetic", days=1, history_days=30, seed=11, speed=None,
                              new_run=True)  # fmt: skip
        view.trader = fresh
        view.refresh()
        assert len(view.eq_src.data["x"]) == 0 and len(view.day_src.data["pnl"]) == 0
        assert "No closed trade yet" in view.note.object and fresh.run_id in view.note.object
        fresh.store.close()
    finally:
        trader.store.close()
