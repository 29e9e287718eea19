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

__all__ = ["DEFAULT_PATTERNS", "BusCollector"]

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
