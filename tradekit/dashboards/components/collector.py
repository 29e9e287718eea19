"""``BusCollector``: a non-blocking bus subscriber that buffers events for a periodic drain.

The engine publishes synchronously; a dashboard must add nothing to that path but an append.
The collector's handler puts ``(topic, event)`` into a bounded :class:`collections.deque`
(``maxlen`` drops the oldest when nobody drains — a closed browser tab must not grow memory), and
the view's periodic callback calls :meth:`BusCollector.drain` on the server loop, where touching
the Bokeh document is safe. ``deque.append`` / ``popleft`` are atomic, so a feed running in
another thread is fine too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from tradekit.core.bus import EventBus, Subscription

__all__ = ["DEFAULT_PATTERNS", "HISTORY_PATTERNS", "BusCollector", "EventHistory"]

#: What the Control Center listens to (TEAM.md bus topics).
DEFAULT_PATTERNS: tuple[str, ...] = (
    "bars.*",
    "signals.*",
    "setups.new",
    "decisions.*",
    "fills.*",
    "positions.snapshot",
    "alerts.*",
    "state.*",
)


class BusCollector:
    """Buffer events of ``patterns`` from ``bus`` until :meth:`drain` is called.

    Parameters
    ----------
    bus:
        The engine's bus.
    patterns:
        Topic patterns to subscribe (see :class:`~tradekit.core.bus.EventBus`).
    maxlen:
        Events kept when nobody drains; older ones are dropped (and counted in ``dropped``).

    Examples
    --------
    >>> bus = EventBus()
    >>> c = BusCollector(bus, ("bars.*",))
    >>> bus.publish("bars.SPY", 1); bus.publish("orders.new", 2)
    >>> c.drain()
    [('bars.SPY', 1)]
    >>> c.close()
    """

    def __init__(
        self, bus: EventBus, patterns: Iterable[str] = DEFAULT_PATTERNS, *, maxlen: int = 50_000
    ) -> None:
        self.bus = bus
        self.maxlen = maxlen
        self.received = 0
        self._drained = 0
        self._buf: deque[tuple[str, Any]] = deque(maxlen=maxlen)
        # lowest priority and non-critical: runs after the store, and a failure here is
        # recorded by the bus instead of reaching the engine
        self._subs: list[Subscription] = [
            bus.subscribe(p, self._on_event, priority=-100) for p in patterns
        ]

    def _on_event(self, topic: str, event: Any) -> None:
        self.received += 1
        self._buf.append((topic, event))

    @property
    def dropped(self) -> int:
        """Events lost to the ``maxlen`` bound since the start."""
        return max(0, self.received - self._drained - len(self._buf))

    def drain(self, limit: int | None = None) -> list[tuple[str, Any]]:
        """Take (at most ``limit``) buffered events, oldest first."""
        n = len(self._buf) if limit is None else min(limit, len(self._buf))
        out = [self._buf.popleft() for _ in range(n)]
        self._drained += n
        return out

    def close(self) -> None:
        """Unsubscribe (a closed session must not keep collecting)."""
        for sub in self._subs:
            self.bus.unsubscribe(sub)
        self._subs.clear()
        self._buf.clear()


#: What a page opened late is backfilled with (states and snapshots are read fresh instead).
HISTORY_PATTERNS: tuple[str, ...] = ("bars.*", "signals.*", "setups.new", "decisions.*", "fills.*")


class EventHistory:
    """The recent past of a trader's bus, so a page opened mid-run starts with it.

    One history per served trader (``tradekit serve`` creates it before the trader starts);
    each new Control Center page replays :meth:`snapshot` into its chart and signal feed, then
    follows its own :class:`BusCollector`. Bars and the other events are bounded separately
    (``bars`` candles — the chart's rollover — and ``events`` signals/setups/decisions/fills),
    and the snapshot merges them back in publication order.

    Examples
    --------
    >>> bus = EventBus()
    >>> h = EventHistory(bus, bars=2, events=10)
    >>> for i in range(3):
    ...     bus.publish("bars.SPY", i); bus.publish("signals.new", f"s{i}")
    >>> h.snapshot()
    [('signals.new', 's0'), ('bars.SPY', 1), ('signals.new', 's1'), ('bars.SPY', 2), ('signals.new', 's2')]
    >>> h.close()
    """

    def __init__(self, bus: EventBus, *, bars: int = 20_000, events: int = 5_000) -> None:
        self.bus = bus
        self._seq = 0
        self._bars: deque[tuple[int, str, Any]] = deque(maxlen=bars)
        self._events: deque[tuple[int, str, Any]] = deque(maxlen=events)
        self._subs: list[Subscription] = [
            bus.subscribe(p, self._on_event, priority=-100) for p in HISTORY_PATTERNS
        ]

    def _on_event(self, topic: str, event: Any) -> None:
        self._seq += 1
        (self._bars if topic.startswith("bars.") else self._events).append(
            (self._seq, topic, event)
        )

    def snapshot(self) -> list[tuple[str, Any]]:
        """The kept events, oldest first, as ``(topic, event)`` like :meth:`BusCollector.drain`."""
        import heapq

        merged = heapq.merge(list(self._bars), list(self._events), key=lambda e: e[0])
        return [(topic, ev) for _seq, topic, ev in merged]

    def close(self) -> None:
        for sub in self._subs:
            self.bus.unsubscribe(sub)
        self._subs.clear()
        self._bars.clear()
        self._events.clear()
