"""The notebook control's Python side against a real AutoTrader on a replay feed."""

from __future__ import annotations

import asyncio
import json

import pytest

from tradekit.errors import TradekitError
from tradekit.runtime.replay import replay_inputs, replay_trader
from tradekit.widgets import TraderControl

pytest.importorskip("anywidget")


def _trader(n: int = 400):  # type: ignore[no-untyped-def]
    inp = replay_inputs("aapl")
    inp = type(inp)(**{**inp.__dict__, "bars": inp.bars.iloc[:n], "history": inp.bars.iloc[:n]})
    return replay_trader(inputs=inp, checkpoint_every=50)


async def test_front_end_commands_drive_the_trader_and_counters_follow() -> None:
    trader = _trader()
    w = TraderControl(trader, refresh_s=0.0)
    assert (w.state, w.bars, w.running) == ("STOPPED", 0, False)
    assert w.run_id == trader.run_id and w.data_label.startswith("REAL AAPL")

    w._on_front_end(w, {"cmd": "start"}, [])
    assert (w.state, w.running) == ("RUNNING", True)
    while trader.bars_seen < 100:
        await asyncio.sleep(0)
    w._on_front_end(w, {"cmd": "pause"}, [])
    assert w.state == "PAUSED"
    await asyncio.sleep(0.05)
    paused_at = trader.bars_seen
    await asyncio.sleep(0.05)
    assert trader.bars_seen <= paused_at + 1  # at most the bar in flight
    w._on_front_end(w, {"cmd": "resume"}, [])
    assert w.state == "RUNNING"
    await trader.wait()
    await asyncio.sleep(0)
    w.refresh()
    assert w.state == "STOPPED" and not w.running
    assert w.bars == trader.bars_seen == 400
    status = trader.status()
    assert w.signals == status.counts["signals"] > 0
    assert w.fills == status.counts.get("fills", 0)
    assert w.orders == len(trader.engine.broker.orders())
    assert w.equity == pytest.approx(status.equity)
    assert w.message == ""


async def test_kill_needs_confirmation_and_halts() -> None:
    trader = _trader(300)
    w = TraderControl(trader, refresh_s=0.0)
    w.start()
    while trader.bars_seen < 50:
        await asyncio.sleep(0)
    w._on_front_end(w, {"cmd": "kill"}, [])  # no confirmation: refused, shown, not raised
    assert w.state == "RUNNING" and "confirmation" in w.message
    w._on_front_end(w, {"cmd": "kill", "confirm": True}, [])
    assert w.state == "HALTED" and w.message == ""
    orders_at_kill = len(trader.engine.broker.orders())
    await trader.wait()
    assert w.state == "HALTED"
    assert len(trader.engine.broker.orders()) == orders_at_kill
    stored = trader.store.query("select value from auto_trade_state where key = 'trader'")
    assert [json.loads(v) for v in stored["value"]] == ["HALTED"]  # persisted, not just shown


async def test_stop_is_scheduled_on_the_loop_and_bad_commands_are_refused() -> None:
    trader = _trader(2000)
    w = TraderControl(trader, refresh_s=0.0)
    with pytest.raises(TradekitError, match="pause needs RUNNING"):
        w.pause()
    with pytest.raises(TradekitError, match="unknown command"):
        w.command("explode")
    w._on_front_end(w, {"nonsense": 1}, [])
    assert "malformed" in w.message
    w.start()
    with pytest.raises(TradekitError, match="already running"):
        w.start()
    assert "already running" in w.message
    while trader.bars_seen < 20:
        await asyncio.sleep(0)
    task = w.stop()
    assert task is not None
    await task
    assert w.state == "STOPPED" and not w.running and w.bars < 2000
    w.close()
    assert not w._subs


def test_refresh_s_is_validated() -> None:
    with pytest.raises(ValueError, match="refresh_s"):
        TraderControl(_trader(10), refresh_s=-1)
