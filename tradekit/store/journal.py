"""The bus → store bridge: journal every event, write records to their tables in batches.

:class:`StoreSubscriber` subscribes to the engine's topics on an
:class:`~tradekit.core.bus.EventBus`. Each event is appended to an in-memory batch in bus order;
the batch is written in **one transaction** (typed tables + the ``events`` journal) when it
reaches ``batch_size``, when ``flush_interval_s`` of clock time has passed, or on
:meth:`~StoreSubscriber.flush` / :meth:`~StoreSubscriber.close`.

Events on the *sync* topics (default ``fills.*``, ``state.*``, ``risk.state``) are written
before the handler returns, through a **critical** subscription with a high priority: a fill is on disk
before the ledger (a later subscriber) publishes the position it causes, and a kill-switch
``HALTED`` survives a crash. A failure there propagates to the publisher.

Nothing is dropped silently: an event of a type the store cannot serialise raises
:class:`~tradekit.errors.StoreError` when it is published; a batch whose write fails is kept
in :attr:`StoreSubscriber.failed` and the error is raised (non-critical handlers' errors are
recorded by the bus in ``bus.errors``).

Examples
--------
>>> from tradekit.core.bus import EventBus
>>> from tradekit.store import Store, StoreSubscriber
>>> bus, store = EventBus(), Store.open(":memory:")
>>> sub = StoreSubscriber(store, bus, batch_size=500)
>>> # ... engine runs, publishing on the bus ...
>>> sub.close()
>>> store.close()
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from tradekit.core.bus import EventBus, Subscription
from tradekit.core.clock import NS_PER_SECOND, Clock, WallClock
from tradekit.core.events import (
    Alert,
    Decision,
    Fill,
    Order,
    PositionSnapshot,
    Setup,
    Signal,
    StateChange,
)
from tradekit.errors import StoreError
from tradekit.store.records import TRADE_REQUIRED, DailyPerformance
from tradekit.store.repository import Store
from tradekit.store.schema import LIVE_RUN_ID

__all__ = ["DEFAULT_TOPICS", "STORE_PRIORITY", "SYNC_TOPICS", "StoreSubscriber"]

#: Topics the subscriber listens to by default.
DEFAULT_TOPICS: tuple[str, ...] = (
    "signals.*",
    "setups.*",
    "decisions.*",
    "orders.*",
    "fills.*",
    "positions.*",
    "alerts.*",
    "trades.*",
    "state.*",
    "risk.*",
)
#: Topics written synchronously (critical subscription), never batched: a fill before the
#: position it causes, a trader / risk state (``HALTED``) before anything else can happen.
SYNC_TOPICS: tuple[str, ...] = ("fills.*", "state.*", "risk.state")
#: Bus priority of the store's handlers: above the default 0, so persistence comes first.
STORE_PRIORITY = 1000

_KINDS: dict[type, str] = {
    Signal: "signal",
    Setup: "setup",
    Decision: "decision",
    Order: "order",
    Fill: "fill",
    PositionSnapshot: "snapshot",
    Alert: "alert",
    StateChange: "state",
    DailyPerformance: "daily",
}
_KIND_CACHE: dict[type, str | None] = {}


def _covers(sync: str, pattern: str) -> bool:
    """Whether every topic of ``pattern`` is also matched by the sync pattern ``sync``."""
    if sync in ("*", pattern):
        return True
    return sync.endswith(".*") and pattern.startswith(sync[:-1])


def _record_kind(event: Any) -> str | None:
    """Which table ``event`` goes to (``"signal"``, ``"trade"``...); ``None`` = journal only.

    Closed trades are recognised by their attributes (:class:`~tradekit.store.records.TradeLike`).

    Raises
    ------
    StoreError
        ``event`` is neither a record (dataclass instance) nor a mapping.
    """
    cls = type(event)
    if cls in _KIND_CACHE:
        return _KIND_CACHE[cls]
    kind = _KINDS.get(cls)
    if kind is None:
        kind = next((k for c, k in _KINDS.items() if isinstance(event, c)), None)
    record = dataclasses.is_dataclass(event) and not isinstance(event, type)
    if kind is None and record and all(hasattr(event, a) for a in TRADE_REQUIRED):
        kind = "trade"
    if kind is None and not isinstance(event, Mapping) and not record:
        raise StoreError(
            f"cannot store an event of type {cls.__name__}: not an event record or mapping"
        )
    if not isinstance(event, Mapping):
        _KIND_CACHE[cls] = kind
    return kind


class StoreSubscriber:
    """Persist bus events into a :class:`~tradekit.store.repository.Store`.

    Parameters
    ----------
    store:
        A writable store.
    bus:
        The bus to subscribe to (subscriptions are made in the constructor).
    run_id:
        Run the rows belong to (:data:`~tradekit.store.schema.LIVE_RUN_ID` for live/paper).
    batch_size:
        Flush when this many events are buffered (>= 1).
    flush_interval_s:
        Also flush when this much clock time (seconds) has passed since the last flush, checked
        as events arrive; ``None`` disables the time trigger.
    clock:
        Time source for the interval (the backtest's SimClock in a replay); default wall clock.
    topics / sync_topics:
        Subscription patterns, and those of them written synchronously.
    journal:
        Also append every event to the ``events`` journal (default True).
    config_hash / algorithm_version:
        Stamped on signal and setup rows.
    """

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        *,
        run_id: str = LIVE_RUN_ID,
        batch_size: int = 1000,
        flush_interval_s: float | None = 1.0,
        clock: Clock | None = None,
        topics: Sequence[str] = DEFAULT_TOPICS,
        sync_topics: Sequence[str] = SYNC_TOPICS,
        journal: bool = True,
        config_hash: str | None = None,
        algorithm_version: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if flush_interval_s is not None and flush_interval_s <= 0:
            raise ValueError(f"flush_interval_s must be > 0, got {flush_interval_s}")
        if store.read_only:
            raise StoreError("StoreSubscriber needs a writable store")
        self._store = store
        self._bus = bus
        self._run_id = run_id
        self._batch_size = batch_size
        self._interval_ns = (
            None if flush_interval_s is None else int(flush_interval_s * NS_PER_SECOND)
        )
        self._clock = clock if clock is not None else WallClock()
        self._journal = journal
        self._stamp = {"config_hash": config_hash, "algorithm_version": algorithm_version}
        self._pending: list[tuple[str, Any]] = []
        self._last_flush_ns = self._clock.now_ns()
        self.failed: list[tuple[str, Any]] = []
        self.errors: list[BaseException] = []
        self.written = 0
        # Sync patterns that overlap the topics get a critical handler; the batching handler
        # covers the rest and skips topics a sync pattern owns (no event is stored twice).
        self._sync = tuple(
            s for s in sync_topics if any(_covers(s, t) or _covers(t, s) for t in topics)
        )
        self._subs: list[Subscription] = [
            bus.subscribe(p, self._on_sync, priority=STORE_PRIORITY, critical=True)
            for p in self._sync
        ]
        self._subs += [
            bus.subscribe(p, self._on_event, priority=STORE_PRIORITY)
            for p in topics
            if not any(_covers(s, p) for s in self._sync)
        ]

    @property
    def pending(self) -> int:
        """Number of buffered events not yet written."""
        return len(self._pending)

    # -- handlers ------------------------------------------------------------------------
    def _on_event(self, topic: str, event: Any) -> None:
        if any(_covers(s, topic) for s in self._sync):
            return  # delivered to _on_sync as well
        _record_kind(event)  # refuse the unstorable now, not at flush time
        self._pending.append((topic, event))
        if len(self._pending) >= self._batch_size or self._interval_due():
            self.flush()

    def _on_sync(self, topic: str, event: Any) -> None:
        _record_kind(event)
        if self._pending:
            try:
                self.flush()
            except Exception as exc:  # the earlier batch is kept in .failed; the fill still goes
                self.errors.append(exc)
        self._write_batch([(topic, event)])
        self._last_flush_ns = self._clock.now_ns()

    def _interval_due(self) -> bool:
        if self._interval_ns is None:
            return False
        return self._clock.now_ns() - self._last_flush_ns >= self._interval_ns

    # -- writing -------------------------------------------------------------------------
    def flush(self) -> int:
        """Write every buffered event now (one transaction); returns how many were written.

        When the batch's transaction fails, its events are written one at a time, so a single
        record the store refuses (a malformed manual order, say) cannot hold back the others:
        only the events that cannot be written go to :attr:`failed`.

        Raises
        ------
        StoreError
            Some events could not be written (they are in :attr:`failed`, the rest is written).
        """
        batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            self._write_batch(batch)
        except Exception as exc:
            if len(batch) == 1:
                self.failed.extend(batch)
                raise
            written = self._write_one_by_one(batch, exc)
        else:
            written = len(batch)
        self._last_flush_ns = self._clock.now_ns()
        return written

    def _write_one_by_one(self, batch: list[tuple[str, Any]], first: Exception) -> int:
        """The failed ``batch`` event by event; raises a summary when any still fails."""
        bad: list[tuple[tuple[str, Any], Exception]] = []
        for item in batch:
            try:
                self._write_batch([item])
            except Exception as exc:
                bad.append((item, exc))
        self.failed.extend(item for item, _ in bad)
        if bad:
            (topic, _), err = bad[0]
            raise StoreError(
                f"{len(bad)} of {len(batch)} events could not be written (kept in .failed); "
                f"first: {topic}: {err}"
            ) from first
        return len(batch)

    def _write_batch(self, batch: list[tuple[str, Any]]) -> None:
        groups: dict[str, list[Any]] = {}
        for _, event in batch:
            kind = _record_kind(event)
            if kind is not None:
                groups.setdefault(kind, []).append(event)
        with self._store.transaction():
            for kind, events in groups.items():
                self._writer(kind)(events)
            if self._journal:
                self._store.append_journal(batch, run_id=self._run_id)
        self.written += len(batch)

    def _writer(self, kind: str) -> Callable[[list[Any]], Any]:
        s, rid = self._store, self._run_id
        writers: dict[str, Callable[[list[Any]], Any]] = {
            "signal": lambda evs: s.write_signals(evs, run_id=rid, **self._stamp),
            "setup": lambda evs: s.write_setups(evs, run_id=rid, **self._stamp),
            "decision": lambda evs: s.write_decisions(evs, run_id=rid),
            "order": lambda evs: s.upsert_orders(evs, run_id=rid),
            "fill": lambda evs: s.write_fills(evs, run_id=rid),
            "snapshot": lambda evs: s.write_snapshots(evs, run_id=rid),
            "alert": lambda evs: s.write_alerts(evs, run_id=rid),
            "trade": lambda evs: s.write_trades(evs, run_id=rid),
            "daily": lambda evs: s.write_daily(evs, run_id=rid),
            "state": self._write_states,
        }
        return writers[kind]

    def _write_states(self, changes: list[StateChange]) -> None:
        for ch in changes:
            self._store.set_state(ch.component, ch.new, reason=ch.reason, run_id=self._run_id)

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Unsubscribe, then flush what is buffered (idempotent)."""
        for sub in self._subs:
            self._bus.unsubscribe(sub)
        self._subs.clear()
        self.flush()

    def __enter__(self) -> StoreSubscriber:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"StoreSubscriber(run_id={self._run_id!r}, pending={len(self._pending)}, "
            f"written={self.written}, failed={len(self.failed)})"
        )
