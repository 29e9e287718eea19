"""The cyclic garbage collector during a replay.

A replay allocates millions of small, long-lived objects (records, events, frames) and almost
no reference cycles. With CPython's default thresholds (700, 10, 10) the collector keeps
re-scanning the survivors: 18-22 % of a ``record="all"`` backtest's time at 100k-300k bars
(measured; metrics-only runs hold few objects and gain nothing). :func:`replay_gc` raises the
thresholds for the duration of the replay, so young objects are collected every 50,000
allocations and full collections become rare, and restores them afterwards. Nothing is left
uncollected: the collector still runs, less often. The thresholds are process-wide: nested or
concurrent replays (threads) share one raised setting, restored when the last one ends; higher
thresholds set by the caller are kept, and so is a first threshold of 0 (collection off).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["REPLAY_THRESHOLDS", "replay_gc"]

#: ``gc.set_threshold`` arguments while a replay runs.
REPLAY_THRESHOLDS = (50_000, 50, 100)

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def replay_gc() -> Iterator[None]:
    """Run the body with :data:`REPLAY_THRESHOLDS` (see the module docstring)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            if _saved[0] > 0:  # a threshold of 0 switched collection off: leave it so
                raised = (max(a, b) for a, b in zip(REPLAY_THRESHOLDS, _saved, strict=True))
                gc.set_threshold(*raised)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
