"""An ordered, synchronous publish/subscribe bus.

Topics are dotted lowercase strings (``bars.SPY``, ``signals.fvg``, ``orders.filled``).
A subscription pattern is either an exact topic, ``"*"`` (everything) or a prefix ending in
``".*"`` (``"signals.*"`` matches ``signals.fvg`` and ``signals.fvg.mitigated``).

Dispatch is synchronous and deterministic: handlers run in order of descending priority,
then subscription order. A *critical* handler's exception propagates to the publisher (the
store persisting a fill must not fail silently); a non-critical handler's exception (a
dashboard, a notebook widget) is recorded in :attr:`EventBus.errors` and dispatch goes on, so
one broken viewer can never stop the trader.

A subscription may ``exclude`` topic prefixes (``subscribe("*", h, exclude=("bars.",))``: every
topic but the bars). :meth:`EventBus.listens` says whether anybody would receive a topic, which
lets a replay skip publishing what nobody reads. The bus can carry the publishing engine's
:attr:`EventBus.clock`, so a subscriber can stamp an event with the time it was published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradekit.core.clock import Clock

__all__ = ["EventBus", "HandlerError", "Subscription"]

Handler = Callable[[str, Any], None]


@dataclass(frozen=True, slots=True)
class Subscription:
    """Handle returned by :meth:`EventBus.subscribe`; pass it to :meth:`EventBus.unsubscribe`."""

    pattern: str
    handler: Handler
    priority: int
    critical: bool
    seq: int
    #: topic prefixes this subscription does not receive even when ``pattern`` matches
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HandlerError:
    """A non-critical handler failure, kept for inspection and alerting."""

    topic: str
    pattern: str
    error: BaseException = field(compare=False)


def _matches(pattern: str, topic: str) -> bool:
    if pattern == "*" or pattern == topic:
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return False


class EventBus:
    """Synchronous ordered pub/sub; see the module docstring for the rules."""

    def __init__(self, *, max_errors: int = 1000) -> None:
        self._subs: list[Subscription] = []
        self._seq = 0
        self._cache: dict[str, tuple[Subscription, ...]] = {}
        self._max_errors = max_errors
        self.errors: list[HandlerError] = []
        #: the clock of the engine publishing on this bus (``Engine`` binds its own), or None
        self.clock: Clock | None = None

    def now_ns(self) -> int:
        """The bound clock's time (int ns UTC), -1 while no clock is bound."""
        return self.clock.now_ns() if self.clock is not None else -1

    def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        priority: int = 0,
        critical: bool = False,
        exclude: tuple[str, ...] = (),
    ) -> Subscription:
        """Register ``handler(topic, event)`` for topics matching ``pattern`` and starting with
        none of the ``exclude`` prefixes."""
        if not pattern or (pattern != "*" and "*" in pattern[:-1]):
            raise ValueError(f"invalid topic pattern {pattern!r}")
        sub = Subscription(pattern, handler, priority, critical, self._seq, tuple(exclude))
        self._seq += 1
        self._subs.append(sub)
        self._subs.sort(key=lambda s: (-s.priority, s.seq))
        self._cache.clear()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscription (no error if it is already gone)."""
        if sub in self._subs:
            self._subs.remove(sub)
            self._cache.clear()

    def _handlers(self, topic: str) -> tuple[Subscription, ...]:
        subs = self._cache.get(topic)
        if subs is None:
            subs = tuple(
                s
                for s in self._subs
                if _matches(s.pattern, topic) and not topic.startswith(s.exclude)
            )
            self._cache[topic] = subs
        return subs

    def listens(self, topic: str) -> bool:
        """Whether publishing ``topic`` would reach any handler."""
        return bool(self._handlers(topic))

    def publish(self, topic: str, event: Any) -> None:
        """Deliver ``event`` to every matching handler, in order, before returning."""
        subs = self._cache.get(topic)  # the lookup of _handlers, inlined (several per fill)
        if subs is None:
            subs = self._handlers(topic)
        for sub in subs:
            if sub.critical:
                sub.handler(topic, event)
                continue
            try:
                sub.handler(topic, event)
            except Exception as exc:  # a viewer's bug must not stop the engine
                if len(self.errors) >= self._max_errors:
                    del self.errors[0]
                self.errors.append(HandlerError(topic, sub.pattern, exc))
