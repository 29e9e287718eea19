"""A closed trade names where it came from and how it ended (issue #13, point 1).

Before the fix the ledger's ``ClosedTrade`` had no decision, setup, strategy, orders, exit
reason, MAE or MFE, so every ``trades`` row stored NULL there.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tradekit.config import ExecutionConfig
from tradekit.core.clock import SimClock
from tradekit.core.enums import DecisionAction, Side
from tradekit.core.events import Bar, Decision
from tradekit.execution import PaperBroker
from tradekit.portfolio import Ledger
from tradekit.store import Store

BASE = 1_709_564_400_000_000_000  # Monday 2024-03-04 10:00 New York
MIN = 60_000_000_000
FREE: dict[str, Any] = {"slippage": {"kind": "none"}, "commission": {"kind": "none"}}


def _bar(i: int, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar("XYZ", "1min", BASE + i * MIN, o, h, lo, c, 1e6)


def _decision() -> Decision:
    return Decision("dec-1", "set-1", "XYZ", BASE, DecisionAction.ENTER, (), None, 1, 100.0,
                    50.0, 48.0, (60.0,))  # fmt: skip


def _round_trip() -> tuple[Ledger, PaperBroker]:
    """Buy 100 at 50 (stop 48, target 60): up to 53, down to 49, then the stop at 48."""
    cfg = ExecutionConfig(**FREE)
    clock, ledger = SimClock(BASE), Ledger.from_config(cfg)
    broker = PaperBroker(cfg, clock=clock, ledger=ledger)
    bars = [_bar(0, 50, 50, 50, 50), _bar(1, 50, 50.5, 49.5, 50), _bar(2, 50, 53.2, 50, 53),
            _bar(3, 53, 53, 49, 49), _bar(4, 49, 49, 47, 47.5)]  # fmt: skip
    for i, b in enumerate(bars):
        clock.set_time(b.close_ts_ns)
        broker.on_bar(b)
        ledger.mark("XYZ", b.close, b.close_ts_ns)
        if i == 0:
            broker.open_position(_decision())
    return ledger, broker


def test_stop_out_names_decision_setup_orders_and_reason() -> None:
    ledger, _ = _round_trip()
    (t,) = ledger.closed_trades
    assert (t.decision_id, t.setup_id, t.strategy) == ("dec-1", "set-1", "stock")
    assert t.entry_order_id is not None and t.entry_order_id.startswith("ord-")
    assert t.exit_order_id is not None and t.exit_order_id != t.entry_order_id
    assert t.exit_reason == "stop"
    assert t.initial_stop == 48.0 and t.initial_risk == pytest.approx(200.0)
    assert t.r_multiple == pytest.approx(-1.0)
    # marks at the bar closes: best +300 (53), worst -100 (49) while open
    assert t.mfe == pytest.approx(300.0) and t.mae == pytest.approx(-100.0)


def test_trades_row_keeps_every_link() -> None:
    ledger, _ = _round_trip()
    with Store.open(":memory:") as store:
        store.write_trades(ledger.closed_trades)
        row = store.trades().iloc[0]
    for col in ("decision_id", "setup_id", "strategy", "entry_order_id", "exit_order_id",
                "exit_reason"):  # fmt: skip
        assert isinstance(row[col], str) and row[col], col
    for col in ("initial_stop", "initial_risk", "r_multiple", "mae", "mfe"):
        assert math.isfinite(row[col]), col


def test_untagged_manual_close_is_named_manual() -> None:
    from tradekit.core.events import Fill

    ledger = Ledger(10_000.0)
    ledger.apply_fill(Fill("f1", "o1", "XYZ", Side.BUY, 10, 50.0, BASE, 0.0, 0.0, 1.0, 0, "d1"),
                      tag="entry", setup_id="s1", strategy="stock")  # fmt: skip
    ledger.apply_fill(Fill("f2", "o2", "XYZ", Side.SELL, 10, 51.0, BASE + MIN, 0.0, 0.0, 1.0, 0))
    (t,) = ledger.closed_trades
    assert (t.entry_order_id, t.exit_order_id, t.exit_reason) == ("o1", "o2", "manual")
    assert t.setup_id == "s1" and t.decision_id == "d1"
