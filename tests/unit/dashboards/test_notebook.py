"""``trader.panel()``: the notebook's compact control drives a real AutoTrader on this loop."""

from __future__ import annotations

import asyncio

import panel as pn

from tradekit.dashboards.notebook import TraderPanel
from tradekit.runtime.replay import replay_trader


async def test_panel_follows_a_running_trader_and_its_buttons_drive_it() -> None:
    trader = replay_trader("synthetic", days=1, history_days=30, seed=11, speed=None,
                           new_run=True)  # fmt: skip
    tp = TraderPanel(trader)
    try:
        assert isinstance(tp.view(), pn.Column)
        tp.tick()
        assert tp.controls.state == "STOPPED" and tp.chart.bars_seen == 0
        tp.controls.start_btn.clicks += 1  # what the Start button does in the page
        await asyncio.sleep(0)
        await trader.wait()
        tp.tick()
        assert tp.chart.bars_seen == trader.bars_seen > 0
        assert tp.controls.state == trader.status().state == "STOPPED"  # the replay ended
        assert not tp.messages.view.objects  # no error shown
    finally:
        tp.close()
        trader.store.close()


async def test_panel_method_returns_the_compact_view() -> None:
    trader = replay_trader("synthetic", days=1, history_days=30, seed=11, speed=None,
                           new_run=True)  # fmt: skip
    try:
        page = trader.panel(period_ms=100)
        tp = page.tk_panel
        assert isinstance(tp, TraderPanel) and tp.ticks == 1
        tp.close()
    finally:
        trader.store.close()
