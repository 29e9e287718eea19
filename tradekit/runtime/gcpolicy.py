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
from collections.abc import Iterator
from contextlib import contextmanager

from tradekit.runtime.shared_setting import SharedSetting

__all__ = ["REPLAY_THRESHOLDS", "replay_gc"]

#: ``gc.set_threshold`` arguments while a replay runs.
REPLAY_THRESHOLDS = (50_000, 50, 100)


def _raise() -> tuple[int, int, int]:
    saved = gc.get_threshold()
    if saved[0] > 0:  # a threshold of 0 switched collection off: leave it so
        gc.set_threshold(*(max(a, b) for a, b in zip(REPLAY_THRESHOLDS, saved, strict=True)))
    return saved


_THRESHOLDS = SharedSetting(_raise, lambda saved: gc.set_threshold(*saved))


@contextmanager
def replay_gc() -> Iterator[None]:
    """Run the body with :data:`REPLAY_THRESHOLDS` (see the module docstring)."""
    with _THRESHOLDS.held():
        yield
