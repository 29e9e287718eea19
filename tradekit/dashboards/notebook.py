"""``trader.panel()``: the compact Control Center for a JupyterLab cell.

The header (state, mode, data source, replay clock), the controls (start, pause/resume, stop,
the confirmed kill switch and flatten-all, reset) and the live candlestick chart of one
:class:`~tradekit.runtime.autotrader.AutoTrader` running on the kernel's own event loop.
A periodic callback on that loop (default every 250 ms) drains the trader's bus into the chart
and refreshes the header; the bus handler only appends, so the trader never waits for the
page, and other cells stay usable while it runs.
"""

from __future__ import annotations

import logging
from typing import Any

import panel as pn

from tradekit.dashboards.components.base import Messages, TraderLike
from tradekit.dashboards.components.chart import LiveChart
from tradekit.dashboards.components.collector import BusCollector
from tradekit.dashboards.components.controls import TraderControls

__all__ = ["TraderPanel", "trader_panel"]

log = logging.getLogger(__name__)


class TraderPanel:
    """Controls and live chart of ``trader``; :meth:`tick` is the periodic update.

    Parameters
    ----------
    trader:
        The AutoTrader (usually running on the notebook kernel's loop).
    rollover:
        Candles the chart keeps (older ones scroll out).
    max_events:
        Bus events drained per tick (the rest wait for the next tick).
    """

    def __init__(self, trader: TraderLike, *, rollover: int = 2_000,
                 max_events: int = 5_000) -> None:  # fmt: skip
        cfg = trader.engine.config
        self.trader, self.max_events = trader, max_events
        self.messages = Messages()
        self.collector = BusCollector(trader.bus)
        self.controls = TraderControls(trader, self.messages)
        self.chart = LiveChart(base_timeframe=cfg.timeframe, symbol=cfg.symbols[0],
                               rollover=rollover)  # fmt: skip
        self.ticks = 0
        self.tick = self.messages.guard(self._tick, "update")
        self._callback: Any = None

    def _tick(self) -> None:
        events = self.collector.drain(self.max_events)
        with pn.io.hold():
            if events:
                self.chart.push(events)
            self.controls.refresh()
        self.ticks += 1

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(self.controls.header(), self.controls.controls(), self.messages.view,
                         self.chart.panel(), sizing_mode="stretch_width",
                         name="trader-panel")  # fmt: skip

    def start(self, period_ms: int = 250) -> None:
        """Run :meth:`tick` every ``period_ms`` on the current event loop."""
        if self._callback is None:
            self._callback = pn.state.add_periodic_callback(self.tick, period=period_ms)

    def close(self) -> None:
        """Stop updating and leave the trader's bus."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        self.collector.close()


def trader_panel(trader: TraderLike, *, period_ms: int = 250,
                 rollover: int = 2_000) -> pn.viewable.Viewable:  # fmt: skip
    """The compact Control Center of ``trader``, updating every ``period_ms`` (display it as
    a cell's last expression). ``.tk_panel`` on the returned viewable is the
    :class:`TraderPanel` (to ``close()`` it)."""
    tp = TraderPanel(trader, rollover=rollover)
    tp.tick()
    tp.start(period_ms)
    page = tp.view()
    page.tk_panel = tp  # type: ignore[attr-defined]
    return page
