"""Kill switch: latch, cancel, alert, explicit flatten, external flag, reset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import AlertLevel, OrderType, Side, TradingState
from tradekit.core.events import Alert
from tradekit.execution.orders import OrderRequest
from tradekit.risk import KillSwitch, MemoryStateStore, RiskEngine, write_kill_flag
from tradekit.testing import StaticAccount

T0 = int(pd.Timestamp("2024-01-08 10:00", tz="America/New_York").value)


class Canceller:
    """Records cancel_all calls (the plug-in point the broker fills)."""

    def __init__(self) -> None:
        self.calls = 0

    def cancel_all(self) -> int:
        self.calls += 1
        return 3


def setup_switch(tmp_path: Path, store: MemoryStateStore | None = None):
    bus = EventBus()
    alerts: list[Alert] = []
    bus.subscribe("alerts.*", lambda t, e: alerts.append(e))
    risk = RiskEngine(AlgorithmConfig(), SimClock(T0), StaticAccount(), bus, store=store)
    risk.update_price("SPY", 100.0)
    canceller = Canceller()
    flattened: list[int] = []
    ks = KillSwitch(
        risk,
        canceller=canceller,
        flattener=lambda: flattened.append(1) or 2,
        flag_path=tmp_path / "KILL",
    )
    return ks, risk, canceller, alerts, flattened


def order(cid: str) -> OrderRequest:
    return OrderRequest("SPY", Side.BUY, 1, OrderType.MARKET, client_id=cid)


def test_trigger_latches_cancels_and_alerts(tmp_path: Path) -> None:
    ks, risk, canceller, alerts, flattened = setup_switch(tmp_path)
    assert risk.approve(order("a")).approved
    ks.trigger("runaway")
    assert risk.trading_state is TradingState.HALTED
    assert canceller.calls == 1
    assert alerts and alerts[-1].level is AlertLevel.CRITICAL and "runaway" in alerts[-1].message
    assert not risk.approve(order("b")).approved
    assert flattened == []  # flatten is a separate explicit action


def test_flatten_is_explicit(tmp_path: Path) -> None:
    ks, _, _, _, flattened = setup_switch(tmp_path)
    assert ks.flatten() == 2 and flattened == [1]
    with pytest.raises(RuntimeError):
        KillSwitch(ks.risk).flatten()


def test_external_flag_trips_and_reset_clears_it(tmp_path: Path) -> None:
    ks, risk, canceller, _, _ = setup_switch(tmp_path)
    assert ks.check_external() is False
    write_kill_flag(tmp_path / "KILL", "from cli")
    assert ks.check_external() is True
    assert "from cli" in risk.state_reason and canceller.calls == 1
    ks.check_external()
    assert canceller.calls == 1  # already halted: no second trigger
    ks.reset("carol", "incident closed")
    assert risk.trading_state is TradingState.ACTIVE
    assert not (tmp_path / "KILL").exists()
    assert ks.check_external() is False


def test_halt_survives_restart(tmp_path: Path) -> None:
    store = MemoryStateStore()
    ks, _, _, _, _ = setup_switch(tmp_path, store)
    ks.trigger("before restart")
    ks2, risk2, _, _, _ = setup_switch(tmp_path, store)
    assert risk2.trading_state is TradingState.HALTED
    assert not risk2.approve(order("z")).approved
    ks2.reset("dave", "restart checked")
    assert risk2.approve(order("z")).approved


def test_halt_survives_process_restart_in_duckdb(tmp_path: Path) -> None:
    from tradekit.store.repository import Store

    path = tmp_path / "tk.duckdb"
    with Store.open(path, clock=SimClock(T0)) as store:
        ks, _, _, _, _ = setup_switch(tmp_path, store)  # type: ignore[arg-type]
        ks.trigger("persisted halt")
    with Store.open(path, clock=SimClock(T0)) as store:
        risk = RiskEngine(AlgorithmConfig(), SimClock(T0), StaticAccount(), store=store)
        assert risk.trading_state is TradingState.HALTED
        assert "persisted halt" in risk.state_reason
        assert not risk.approve(order("after")).approved
        risk.reset("erin", "verified")
    with Store.open(path, clock=SimClock(T0)) as store:
        assert (
            RiskEngine(AlgorithmConfig(), SimClock(T0), StaticAccount(), store=store).trading_state
            is TradingState.ACTIVE
        )
