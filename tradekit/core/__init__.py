"""Engine-level building blocks with no I/O: clocks, the event bus, event records, ids."""

from tradekit.core.bus import EventBus, HandlerError, Subscription
from tradekit.core.clock import Clock, SimClock, WallClock
from tradekit.core.ids import make_id

__all__ = ["Clock", "EventBus", "HandlerError", "SimClock", "Subscription", "WallClock", "make_id"]
