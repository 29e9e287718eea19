"""tradekit.store: the DuckDB database of everything tradekit decided and did.

* :class:`Store` (``repository.py``): open / migrate / close, batched idempotent writes, typed
  reads as DataFrames (``reads.py``), configs, backtest runs and trader state (``runs.py``).
* :class:`StoreSubscriber` (``journal.py``): the EventBus subscriber that journals every event
  and writes the records to their tables; fills and state changes synchronously.
* ``schema.py``: DDL as numbered migrations. ``records.py``: daily rows, the event calendar and
  the :class:`TradeLike` protocol the ledger's closed trades satisfy. ``convert.py`` /
  ``tables.py``: records -> validated Arrow batches.
* Every engine row carries a ``run_id`` (:data:`LIVE_RUN_ID` for the live/paper trader), so
  replays of the same bars in several backtests never collide on their deterministic ids.
"""

from tradekit.store.journal import DEFAULT_TOPICS, SYNC_TOPICS, StoreSubscriber
from tradekit.store.live import Checkpoint, LiveRun
from tradekit.store.records import CALENDAR_KINDS, CalendarEvent, DailyPerformance, TradeLike
from tradekit.store.repository import DEFAULT_PATH, Store
from tradekit.store.schema import LATEST_VERSION, LIVE_RUN_ID, MIGRATIONS, migrate

__all__ = [
    "CALENDAR_KINDS",
    "DEFAULT_PATH",
    "DEFAULT_TOPICS",
    "LATEST_VERSION",
    "LIVE_RUN_ID",
    "MIGRATIONS",
    "SYNC_TOPICS",
    "CalendarEvent",
    "Checkpoint",
    "DailyPerformance",
    "LiveRun",
    "Store",
    "StoreSubscriber",
    "TradeLike",
    "migrate",
]
