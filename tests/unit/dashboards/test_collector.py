from __future__ import annotations

from tradekit.core.bus import EventBus
from tradekit.dashboards.components.collector import BusCollector


def test_collects_matching_topics_in_order_and_drains_once() -> None:
    bus = EventBus()
    c = BusCollector(bus, ("bars.*", "alerts.*"))
    for i in range(3):
        bus.publish("bars.SPY", i)
        bus.publish("orders.new", -i)
    bus.publish("alerts.feed", "x")
    assert c.drain() == [("bars.SPY", 0), ("bars.SPY", 1), ("bars.SPY", 2), ("alerts.feed", "x")]
    assert c.drain() == []


def test_bounded_buffer_drops_oldest_and_counts_them() -> None:
    bus = EventBus()
    c = BusCollector(bus, ("bars.*",), maxlen=10)
    for i in range(25):
        bus.publish("bars.SPY", i)
    assert c.dropped == 15
    assert [e for _t, e in c.drain(limit=4)] == [15, 16, 17, 18]
    assert len(c.drain()) == 6
    assert c.dropped == 15


def test_close_unsubscribes() -> None:
    bus = EventBus()
    c = BusCollector(bus, ("bars.*",))
    c.close()
    bus.publish("bars.SPY", 1)
    assert c.drain() == [] and c.received == 0


def test_runs_after_critical_subscribers() -> None:
    bus = EventBus()
    seen: list[str] = []
    c = BusCollector(bus, ("bars.*",))
    bus.subscribe("bars.*", lambda t, e: seen.append(f"store saw {len(c._buf)}"), critical=True)
    bus.publish("bars.SPY", 1)
    assert seen == ["store saw 0"]  # the store ran first; the collector appended after it
    assert c.drain() == [("bars.SPY", 1)]
