"""The event bus: ordering, patterns, error isolation."""

from __future__ import annotations

import pytest

from tradekit.core.bus import EventBus


class TestDispatchOrder:
    def test_priority_then_subscription_order(self) -> None:
        bus = EventBus()
        seen: list[str] = []
        bus.subscribe("x", lambda t, e: seen.append("low-1"))
        bus.subscribe("x", lambda t, e: seen.append("high"), priority=10)
        bus.subscribe("x", lambda t, e: seen.append("low-2"))
        bus.publish("x", None)
        assert seen == ["high", "low-1", "low-2"]

    def test_publish_is_synchronous(self) -> None:
        bus = EventBus()
        got: list[int] = []
        bus.subscribe("a", lambda t, e: got.append(e))
        bus.publish("a", 1)
        assert got == [1]


class TestPatterns:
    @pytest.mark.parametrize(
        ("pattern", "topic", "hit"),
        [
            ("signals.*", "signals.fvg", True),
            ("signals.*", "signals.fvg.mitigated", True),
            ("signals.*", "signalsx.fvg", False),
            ("*", "anything.at.all", True),
            ("orders.filled", "orders.filled", True),
            ("orders.filled", "orders.filled.extra", False),
        ],
    )
    def test_matching(self, pattern: str, topic: str, hit: bool) -> None:
        bus = EventBus()
        got: list[str] = []
        bus.subscribe(pattern, lambda t, e: got.append(t))
        bus.publish(topic, None)
        assert (got == [topic]) is hit

    def test_bad_pattern_rejected(self) -> None:
        with pytest.raises(ValueError):
            EventBus().subscribe("sig*nals", lambda t, e: None)

    def test_unsubscribe(self) -> None:
        bus = EventBus()
        got: list[int] = []
        sub = bus.subscribe("a", lambda t, e: got.append(e))
        bus.publish("a", 1)
        bus.unsubscribe(sub)
        bus.publish("a", 2)
        assert got == [1]


class TestErrorIsolation:
    def test_non_critical_handler_error_is_recorded_and_dispatch_goes_on(self) -> None:
        bus = EventBus()
        got: list[int] = []

        def broken(topic: str, event: object) -> None:
            raise RuntimeError("viewer bug")

        bus.subscribe("a", broken, priority=5)
        bus.subscribe("a", lambda t, e: got.append(e))
        bus.publish("a", 7)
        assert got == [7]
        assert len(bus.errors) == 1 and isinstance(bus.errors[0].error, RuntimeError)

    def test_critical_handler_error_propagates(self) -> None:
        bus = EventBus()

        def store_down(topic: str, event: object) -> None:
            raise OSError("disk full")

        bus.subscribe("fills.new", store_down, critical=True)
        with pytest.raises(OSError):
            bus.publish("fills.new", object())

    def test_error_list_is_bounded(self) -> None:
        bus = EventBus(max_errors=3)
        bus.subscribe("a", lambda t, e: 1 / 0)
        for _ in range(10):
            bus.publish("a", None)
        assert len(bus.errors) == 3
