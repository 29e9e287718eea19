"""The Control Center: one Panel page per browser session over one running AutoTrader.

:func:`control_center` wires the components to a trader: a
:class:`~tradekit.dashboards.components.collector.BusCollector` buffers bus events (the bus
handler only appends), and a periodic callback (``pn.state.add_periodic_callback``, default
every 250 ms) drains them into the chart, the signal feed and the alerts, refreshes the status
header and positions, and polls a running backtest. Every callback is guarded: a failure is a
message in the page.

``tradekit serve`` mounts it at ``/`` of the server that also carries the REST API and the event
stream, in the process (and on the event loop) of the trader; ``trader.panel()`` is its compact
notebook form (:mod:`tradekit.dashboards.notebook`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import panel as pn

from tradekit.dashboards.components.ab_view import ABView
from tradekit.dashboards.components.alerts import AlertsPanel
from tradekit.dashboards.components.backtest_view import BacktestView
from tradekit.dashboards.components.base import Messages, TraderLike
from tradekit.dashboards.components.chart import LiveChart
from tradekit.dashboards.components.collector import BusCollector, EventHistory
from tradekit.dashboards.components.config_editor import ConfigEditor
from tradekit.dashboards.components.controls import TraderControls
from tradekit.dashboards.components.feed import SignalFeed
from tradekit.dashboards.components.performance import PerformanceView
from tradekit.dashboards.components.positions import PositionsView

__all__ = ["ControlCenter", "control_center"]

log = logging.getLogger(__name__)

#: A RUNNING trader without a bar for this long is reported as a lost feed (wall seconds).
FEED_LOST_S = 30.0


class ControlCenter:
    """All components of one session and the periodic update that feeds them.

    Parameters
    ----------
    trader:
        The running AutoTrader.
    period_ms:
        Period of the update callback.
    max_events:
        Events drained per tick (the rest wait for the next tick, so one tick stays short).
    """

    def __init__(self, trader: TraderLike, *, period_ms: int = 250, max_events: int = 5_000,
                 history: EventHistory | None = None) -> None:  # fmt: skip
        self.trader, self.period_ms, self.max_events = trader, period_ms, max_events
        self.messages = Messages()
        # the past first, then the live subscription: a race can skip an event, never repeat one
        past = history.snapshot() if history is not None else []
        self.collector = BusCollector(trader.bus)
        cfg = trader.engine.config
        self.controls = TraderControls(trader, self.messages)
        self.chart = LiveChart(base_timeframe=cfg.timeframe, symbol=cfg.symbols[0])
        self.feed = SignalFeed()
        self.positions = PositionsView(trader, self.messages)
        self.performance = PerformanceView(trader)
        self.backtest = BacktestView(trader, self.messages)
        self.ab = ABView(trader, self.messages)
        self.config = ConfigEditor(trader, self.messages)
        self.alerts = AlertsPanel(trader, self.messages)
        self.config.param.watch(self.messages.guard(self._versions_changed, "versions"),
                                "saved_version")  # fmt: skip
        self.ticks = 0
        self.last_tick_ms = 0.0
        self.backfilled = len(past)
        if past:
            self.chart.push(past)
            self.feed.push(past)
        self._feed_lost_shown = False
        self._perf_at = 0.0
        self.tick = self.messages.guard(self._tick, "update")

    def _versions_changed(self, _event: Any) -> None:
        self.backtest.refresh_versions()
        self.ab.refresh_versions()

    def _tick(self) -> None:
        t0 = time.perf_counter()
        events = self.collector.drain(self.max_events)
        with pn.io.hold():
            if events:
                self.chart.push(events)
                self.feed.push(events)
                for a in self.alerts.push(events):
                    if a.level.value == "CRITICAL":
                        self.messages.show(f"{a.source}: {a.message}", "danger")
            self.controls.refresh()
            self.positions.refresh()
            self.alerts.flush()
            self.backtest.poll()
            self.ab.poll()
            self._watch_feed()
            if time.perf_counter() - self._perf_at > 10.0:
                self._perf_at = time.perf_counter()
                self.performance.refresh()
        self.ticks += 1
        self.last_tick_ms = (time.perf_counter() - t0) * 1e3

    def _watch_feed(self) -> None:
        s = self.controls.status
        lag = s.get("feed_lag_s")
        lost = s.get("state") == "RUNNING" and isinstance(lag, int | float) and lag > FEED_LOST_S
        if lost and not self._feed_lost_shown:
            self.messages.show(f"feed lost: no bar for {lag:.0f} s", "warning")
        self._feed_lost_shown = lost

    def view(self) -> pn.viewable.Viewable:
        live = pn.Row(pn.Column(self.chart.panel(), sizing_mode="stretch_width"),
                      pn.Column(self.feed.view(), width=560), sizing_mode="stretch_width")  # fmt: skip
        tabs = pn.Tabs(
            ("Live", live), ("Positions", self.positions.view()),
            ("Performance", self.performance.view()), ("Backtest", self.backtest.view()),
            ("A/B", self.ab.view()),
            ("Config", self.config.view()), ("Alerts", self.alerts.view()),
            dynamic=False, sizing_mode="stretch_width",
        )  # fmt: skip
        return pn.Column(self.controls.header(), self.controls.controls(), self.messages.view,
                         tabs, sizing_mode="stretch_width", name="control-center")  # fmt: skip

    def close(self) -> None:
        self.collector.close()
        self.backtest.close()
        self.ab.close()


def control_center(trader: TraderLike, *, period_ms: int = 250,
                   history: EventHistory | None = None) -> pn.viewable.Viewable:  # fmt: skip
    """The Control Center page of ``trader`` for the current session (what ``build_server``'s
    ``apps`` mounts).

    ``history`` (an :class:`EventHistory` of the trader's bus) backfills the chart and the
    signal feed of a page opened mid-run. Must be called inside a Panel session (a served page or a notebook): it registers the
    periodic update and closes its bus subscription when the session ends.
    """
    cc = ControlCenter(trader, period_ms=period_ms, history=history)
    page = cc.view()
    cb = pn.state.add_periodic_callback(cc.tick, period=period_ms)

    def _destroyed(_ctx: Any) -> None:
        cb.stop()
        cc.close()

    try:
        pn.state.on_session_destroyed(_destroyed)
    except Exception:  # no server session (notebook): nothing to clean up on close
        log.debug("no session to attach cleanup to")
    return page
