"""Parity: run_backtest and an AutoTrader on a ReplayFeed produce the very same records.

Signals, setups, decisions (every field but the measured processing time), orders, fills and
the bar-by-bar equity are compared with zero tolerance — on one uninterrupted replay, and on a
replay stopped in the middle and continued by a second AutoTrader on the same database.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tradekit.core.events import to_dict
from tradekit.runtime.autotrader import AutoTrader
from tradekit.runtime.backtest import EventRecorder, run_backtest
from tradekit.runtime.replay import ReplayInputs, replay_inputs, replay_market, replay_trader
from tradekit.store import Store


@pytest.fixture(scope="module")
def inputs() -> ReplayInputs:
    return replay_inputs("synthetic", days=2, history_days=30, seed=7)


def _plain(records: list[Any]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        d = to_dict(r) if dataclasses.is_dataclass(r) else dict(r)
        d.pop("processing_time_us", None)  # wall-clock measurement, not a result
        out.append(d)
    return out


class Recording:
    """Records of one or several traders, plus the equity after every bar."""

    def __init__(self) -> None:
        self.recorders: list[EventRecorder] = []
        self.equity: list[tuple[int, float]] = []

    def attach(self, trader: AutoTrader) -> None:
        self.recorders.append(EventRecorder(trader.bus))
        trader.on_bar = lambda out: self.equity.append(
            (out.bar.close_ts_ns, trader.engine.ledger.equity)
        )

    def all(self, name: str) -> list[dict[str, Any]]:
        if name == "orders":
            merged: dict[str, Any] = {}
            for rec in self.recorders:
                merged.update(rec.orders)
            return _plain(list(merged.values()))
        return _plain([x for rec in self.recorders for x in getattr(rec, name)])


async def _run(trader: AutoTrader) -> None:
    trader.start()
    await trader.wait()


async def test_autotrader_equals_backtest_uninterrupted(inputs: ReplayInputs) -> None:
    trader = replay_trader(inputs=inputs)
    bt_bus_records = _reference(inputs, trader)
    rec = Recording()
    rec.attach(trader)
    await _run(trader)
    _compare(rec, bt_bus_records)


async def test_autotrader_equals_backtest_across_a_restart(
    inputs: ReplayInputs, tmp_path: Path
) -> None:
    db = str(tmp_path / "p.duckdb")
    first = replay_trader(inputs=inputs, db=db)
    reference = _reference(inputs, first)
    rec = Recording()
    rec.attach(first)
    first.start()
    while first.bars_seen < len(inputs.bars) // 2 + 17:
        await asyncio.sleep(0)
    await first.stop()
    first.store.close()
    second = replay_trader(inputs=inputs, db=db)
    assert second.run_id == first.run_id and second.bars_seen == first.bars_seen
    rec.attach(second)
    await _run(second)
    assert second.bars_seen == len(inputs.bars)
    _compare(rec, reference)
    with Store.open(db) as store:  # the database holds the run once, no duplicate row
        n = store.query("SELECT count(*) AS n, count(DISTINCT id) AS d FROM fills")
        assert int(n["n"][0]) == int(n["d"][0]) == len(reference["fills"])
    second.store.close()


def _reference(inputs: ReplayInputs, trader: AutoTrader) -> dict[str, Any]:
    from tradekit.core.bus import EventBus

    market, quotes = replay_market(inputs)
    bus = EventBus()
    rec = EventRecorder(bus)
    res = run_backtest(inputs.bars, trader.config, market=market, quotes=quotes, bus=bus)
    return {
        "signals": _plain(rec.signals),
        "setups": _plain(rec.setups),
        "decisions": _plain(rec.decisions),
        "orders": _plain(list(rec.orders.values())),
        "fills": _plain(rec.fills),
        "equity": [(int(ts.value), float(v)) for ts, v in res.equity.items()],
    }


def _compare(rec: Recording, ref: dict[str, Any]) -> None:
    assert len(ref["fills"]) > 0 and len(ref["decisions"]) > 0  # the replay trades
    for name in ("signals", "setups", "decisions", "fills"):
        assert rec.all(name) == ref[name], name
    ours = {o["id"]: o for o in rec.all("orders")}
    assert ours == {o["id"]: o for o in ref["orders"]}
    assert rec.equity == ref["equity"]
