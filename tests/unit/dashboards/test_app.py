"""The Control Center's session object over a real AutoTrader: backfill of a page opened late."""

from __future__ import annotations

import panel as pn

from tradekit.core.events import Setup
from tradekit.dashboards.app import ControlCenter
from tradekit.dashboards.components.collector import EventHistory
from tradekit.runtime.replay import replay_trader


async def test_a_page_opened_after_the_run_starts_with_its_bars_and_setups() -> None:
    trader = replay_trader("synthetic", days=2, history_days=30, seed=11, speed=None,
                           new_run=True)  # fmt: skip
    history = EventHistory(trader.bus)
    setups: list[Setup] = []
    trader.bus.subscribe("setups.new", lambda _t, s: setups.append(s))
    try:
        trader.start()
        await trader.wait()
        assert trader.bars_seen == 780 and setups
        cc = ControlCenter(trader, history=history)
        assert isinstance(cc.view(), pn.Column)
        assert cc.chart.bars_seen == trader.bars_seen
        assert cc.feed.n_setups == len(setups)
        assert cc.backfilled > trader.bars_seen
        # a page without history starts empty and follows from now on
        bare = ControlCenter(trader)
        assert bare.chart.bars_seen == 0 and bare.backfilled == 0
        cc.close()
        bare.close()
    finally:
        history.close()
        trader.store.close()


def test_history_bounds_bars_and_events_separately() -> None:
    from tradekit.core.bus import EventBus

    bus = EventBus()
    h = EventHistory(bus, bars=3, events=2)
    for i in range(10):
        bus.publish("bars.SPY", i)
    for i in range(5):
        bus.publish("decisions.new", f"d{i}")
    bus.publish("state.changed", "ignored")
    assert h.snapshot() == [("bars.SPY", 7), ("bars.SPY", 8), ("bars.SPY", 9),
                            ("decisions.new", "d3"), ("decisions.new", "d4")]  # fmt: skip
    h.close()
    bus.publish("bars.SPY", 99)
    assert h.snapshot() == []
