"""The DuckDB store: opening, transactions and batched, idempotent writes.

One :class:`Store` wraps one DuckDB connection. Every write takes a batch of records, checks
their type, turns them into one Arrow table (:mod:`tradekit.store.convert`) and inserts it with
a single ``INSERT ... SELECT`` inside a transaction, so a batch is written completely or not at
all. Ids are deterministic, so writes are idempotent: ``ON CONFLICT DO NOTHING`` for facts
(signals, decisions, fills, trades, alerts) and an upsert for things whose latest state matters
(orders, position snapshots, daily rows, trader state).

Only one process may open the file for writing (DuckDB's file lock); a second process gets
:class:`~tradekit.errors.StoreLockedError`. Reads are in :class:`~tradekit.store.reads.StoreReads`.

Examples
--------
>>> from tradekit.store import Store
>>> with Store.open(":memory:") as store:
...     store.set_state("trading_state", "HALTED")
...     store.get_state("trading_state")
'HALTED'
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from tradekit.core.clock import Clock, WallClock
from tradekit.core.events import Alert, Decision, Fill, Order, PositionSnapshot, Setup, Signal
from tradekit.errors import StoreError, StoreLockedError
from tradekit.store.convert import Col, dumps_json, jsonable, record_payload, to_arrow
from tradekit.store.live import StoreLive
from tradekit.store.reads import StoreReads
from tradekit.store.records import (
    CALENDAR_KINDS,
    TRADE_REQUIRED,
    CalendarEvent,
    DailyPerformance,
    TradeLike,
)
from tradekit.store.runs import StoreRuns
from tradekit.store.schema import LATEST_VERSION, LIVE_RUN_ID, current_version, migrate
from tradekit.store.tables import (
    ALERT_COLS,
    CALENDAR_COLS,
    DAILY_COLS,
    DECISION_COLS,
    FILL_COLS,
    ORDER_COLS,
    SETUP_COLS,
    SIGNAL_COLS,
    SNAPSHOT_COLS,
    TRADE_COLS,
)

__all__ = ["CHECKPOINT_THRESHOLD", "DEFAULT_PATH", "Store"]

#: Default database file (relative to the working directory); ``TRADEKIT_DB`` overrides it.
DEFAULT_PATH = Path("data") / "tradekit.duckdb"

#: WAL size that triggers DuckDB's automatic checkpoint. DuckDB's default (16 MB) makes a
#: 100k-row batch pay a checkpoint inside its COMMIT (~2x slower); a larger WAL is replayed
#: safely after a crash, and :meth:`Store.close` / :meth:`Store.checkpoint` fold it in.
CHECKPOINT_THRESHOLD = "256MB"

R = TypeVar("R")


def _resolve(path: str | os.PathLike[str] | None) -> str:
    if path is None:
        path = os.environ.get("TRADEKIT_DB") or DEFAULT_PATH
    return str(path)


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    memory = path == ":memory:"
    if not memory and read_only and not Path(path).exists():
        raise StoreError(f"no database at {path!r} to open read-only")
    if not memory and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLockedError(
                f"database {path!r} is locked by another process ({exc}). One process owns the "
                "database: read through that process's REST API or an exported snapshot, or "
                "stop it first."
            ) from exc
        raise StoreError(f"cannot open database {path!r}: {exc}") from exc
    except duckdb.ConnectionException as exc:
        raise StoreError(
            f"cannot open database {path!r}: {exc}. This process already has it open with "
            "another mode (read-only vs writable): share that Store object instead."
        ) from exc
    except duckdb.Error as exc:
        raise StoreError(f"cannot open database {path!r}: {exc}") from exc


def _records(items: Iterable[Any], cls: type[R], method: str) -> list[R]:
    """Materialise a batch and check every item is a ``cls`` (never drop what does not fit)."""
    out = list(items)
    for i, r in enumerate(out):
        if not isinstance(r, cls):
            raise StoreError(
                f"{method} expects {cls.__name__} records; item {i} is {type(r).__name__}"
            )
    return out


def _last_by_key(records: list[R], key: Any) -> list[R]:
    """Keep the last record per key (an upsert cannot touch one row twice in a statement)."""
    return list({key(r): r for r in records}.values())


def _upsert_sql(cols: Sequence[str], keys: Sequence[str], keep: Sequence[str] = ()) -> str:
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in keys and c not in keep)
    return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"


class Store(StoreReads, StoreRuns, StoreLive):
    """A tradekit database (use :meth:`open`, not the constructor)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, path: str, *, read_only: bool, clock: Clock
    ) -> None:
        self._con = con
        self._path = path
        self._read_only = read_only
        self._clock = clock
        self._lock = threading.RLock()
        self._in_tx = False
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        clock: Clock | None = None,
    ) -> Store:
        """Open (creating and migrating if needed) a store.

        Parameters
        ----------
        path:
            Database file; ``":memory:"`` for a throw-away store. Default: ``$TRADEKIT_DB`` or
            ``data/tradekit.duckdb`` under the working directory.
        read_only:
            Open without write access (no migration; the schema must be current).
        clock:
            Source of ``created_at`` / ``recorded_at`` times; default the wall clock.

        Raises
        ------
        StoreLockedError
            Another process holds the file open for writing.
        StoreError
            The file cannot be opened, or its schema is older (read-only) or newer than this code.
        """
        resolved = _resolve(path)
        clk = clock if clock is not None else WallClock()
        con = _connect(resolved, read_only)
        try:
            if read_only:
                have = current_version(con)
                if have != LATEST_VERSION:
                    raise StoreError(
                        f"database {resolved!r} has schema version {have}, this tradekit needs "
                        f"{LATEST_VERSION}; open it writable once to migrate"
                    )
            else:
                con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
                migrate(con, clk.now_ns())
        except BaseException:
            con.close()
            raise
        return cls(con, resolved, read_only=read_only, clock=clk)

    @property
    def path(self) -> str:
        """The database path (``":memory:"`` for an in-memory store)."""
        return self._path

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def schema_version(self) -> int:
        """The applied schema version."""
        with self._lock:
            return current_version(self._con)

    def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations (idempotent); returns the schema version."""
        self._writable()
        with self._lock:
            return migrate(self._con, self._clock.now_ns(), target=target)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file now (e.g. at the session close)."""
        self._writable()
        with self._lock:
            self._con.execute("CHECKPOINT")

    def close(self) -> None:
        """Checkpoint (fold the WAL into the file) and close; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            try:
                if not self._read_only and self._path != ":memory:":
                    self._con.execute("CHECKPOINT")
            finally:
                self._con.close()
                self._closed = True

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "ro" if self._read_only else "rw"
        return f"Store({self._path!r}, {mode}, closed={self._closed})"

    # -- plumbing ------------------------------------------------------------------------
    def _writable(self) -> None:
        if self._closed:
            raise StoreError("store is closed")
        if self._read_only:
            raise StoreError(f"store {self._path!r} is open read-only")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them are committed together, or none (on any exception).

        Nested use joins the outer transaction.
        """
        with self._lock:
            if self._in_tx:
                yield
                return
            self._writable()
            self._con.execute("BEGIN TRANSACTION")
            self._in_tx = True
            try:
                yield
            except BaseException:
                self._in_tx = False
                with suppress(duckdb.Error):  # the original error is the one to report
                    self._con.execute("ROLLBACK")
                raise
            self._in_tx = False
            try:
                self._con.execute("COMMIT")
            except duckdb.Error as exc:
                with suppress(duckdb.Error):
                    self._con.execute("ROLLBACK")
                raise StoreError(f"commit failed (nothing was written): {exc}") from exc

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run SQL and return a DataFrame (raw DuckDB types)."""
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            try:
                return self._con.execute(sql, list(params or [])).df()
            except duckdb.Error as exc:
                raise StoreError(f"query failed: {exc}") from exc

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one write statement in a transaction; DuckDB errors become StoreError."""
        self._writable()
        with self.transaction():
            try:
                return self._con.execute(sql, list(params)).fetchall()
            except duckdb.Error as exc:
                raise StoreError(f"write failed: {exc}") from exc

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement and return its rows."""
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            try:
                return self._con.execute(sql, list(params)).fetchall()
            except duckdb.Error as exc:
                raise StoreError(f"query failed: {exc}") from exc

    def _insert(self, table: str, tbl: pa.Table, conflict: str = "ON CONFLICT DO NOTHING") -> int:
        """Insert an Arrow batch in one statement; returns the number of rows written."""
        if tbl.num_rows == 0:
            return 0
        cols = ", ".join(f'"{c}"' for c in tbl.column_names)
        sql = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _tk_batch {conflict}"
        with self._lock:
            self._con.register("_tk_batch", tbl)
            try:
                with self.transaction():
                    try:
                        row = self._con.execute(sql).fetchall()
                    except duckdb.Error as exc:
                        msg = f"writing {tbl.num_rows} rows to {table} failed: {exc}"
                        raise StoreError(msg) from exc
            finally:
                with suppress(duckdb.Error):  # fails in an aborted outer transaction; harmless
                    self._con.unregister("_tk_batch")
        return int(row[0][0]) if row else 0

    def _write(
        self,
        table: str,
        cols: tuple[Col, ...],
        records: list[Any],
        constants: Mapping[str, str | None],
        conflict: str = "ON CONFLICT DO NOTHING",
    ) -> int:
        self._writable()
        if not records:
            return 0
        ids = [getattr(r, "id", None) for r in records]
        return self._insert(table, to_arrow(table, cols, records, ids, constants), conflict)

    # -- engine records ------------------------------------------------------------------
    def write_signals(
        self,
        signals: Iterable[Signal],
        *,
        run_id: str = LIVE_RUN_ID,
        config_hash: str | None = None,
        algorithm_version: str | None = None,
    ) -> int:
        """Insert detector signals into ``auto_signals``; existing ids are left unchanged.

        Returns
        -------
        int
            Rows actually inserted (0 when every id was already stored).

        Raises
        ------
        StoreError
            An item is not a ``Signal``, or a NOT NULL field is missing / non-finite.
        """
        recs = _records(signals, Signal, "write_signals")
        consts = {
            "run_id": run_id,
            "config_hash": config_hash,
            "algorithm_version": algorithm_version,
        }
        return self._write("auto_signals", SIGNAL_COLS, recs, consts)

    def write_setups(
        self,
        setups: Iterable[Setup],
        *,
        run_id: str = LIVE_RUN_ID,
        config_hash: str | None = None,
        algorithm_version: str | None = None,
    ) -> int:
        """Insert confluence setups into ``auto_signals`` (``is_setup = true``, kind ``SETUP``)."""
        recs = _records(setups, Setup, "write_setups")
        consts = {
            "run_id": run_id,
            "config_hash": config_hash,
            "algorithm_version": algorithm_version,
        }
        return self._write("auto_signals", SETUP_COLS, recs, consts)

    def write_decisions(self, decisions: Iterable[Decision], *, run_id: str = LIVE_RUN_ID) -> int:
        """Insert decisions (all gate results in ``gate_results``, first blocker in ``blocked_by``)."""
        recs = _records(decisions, Decision, "write_decisions")
        return self._write("auto_decisions", DECISION_COLS, recs, {"run_id": run_id})

    def upsert_orders(self, orders: Iterable[Order], *, run_id: str = LIVE_RUN_ID) -> int:
        """Store the latest state of each order.

        An update older than the stored state (smaller ``ts``) is ignored, so a late duplicate
        cannot roll an order back. ``first_ts`` keeps the time the order was first seen. The
        status history is in the journal.
        """
        recs = _records(orders, Order, "upsert_orders")
        first: dict[str, int] = {}
        for o in recs:
            first[o.id] = min(first.get(o.id, o.ts_ns), o.ts_ns)
        latest = _last_by_key(recs, lambda o: o.id)
        self._writable()
        if not latest:
            return 0
        tbl = to_arrow("orders", ORDER_COLS, latest, [o.id for o in latest], {"run_id": run_id})
        firsts = pa.array([first[o.id] for o in latest], pa.int64()).cast(pa.timestamp("ns"))
        tbl = tbl.set_column(tbl.column_names.index("first_ts"), "first_ts", firsts)
        keep = ("first_ts", "decision_id")  # decision_id is indexed: DuckDB cannot update it
        conflict = _upsert_sql(tbl.column_names, ("run_id", "id"), keep)
        return self._insert("orders", tbl, conflict + " WHERE excluded.ts >= orders.ts")

    def write_fills(self, fills: Iterable[Fill], *, run_id: str = LIVE_RUN_ID) -> int:
        """Insert fills; writing the same fill id again changes nothing."""
        recs = _records(fills, Fill, "write_fills")
        return self._write("fills", FILL_COLS, recs, {"run_id": run_id})

    def write_snapshots(
        self, snapshots: Iterable[PositionSnapshot], *, run_id: str = LIVE_RUN_ID
    ) -> int:
        """Upsert position snapshots keyed by ``(run_id, ts, symbol)`` (latest values win)."""
        recs = _records(snapshots, PositionSnapshot, "write_snapshots")
        recs = _last_by_key(recs, lambda p: (p.ts_ns, p.symbol))
        conflict = _upsert_sql(
            ["run_id"] + [c.name for c in SNAPSHOT_COLS], ("run_id", "ts", "symbol")
        )
        return self._write("position_snapshots", SNAPSHOT_COLS, recs, {"run_id": run_id}, conflict)

    def write_alerts(self, alerts: Iterable[Alert], *, run_id: str = LIVE_RUN_ID) -> int:
        """Insert alerts (unacknowledged); an existing id is left as it is."""
        recs = _records(alerts, Alert, "write_alerts")
        return self._write("alerts", ALERT_COLS, recs, {"run_id": run_id})

    def acknowledge_alert(self, alert_id: str, *, run_id: str | None = None) -> bool:
        """Mark an alert acknowledged (now, by the store clock); False if no such alert."""
        self._writable()
        sql = (
            "UPDATE alerts SET acknowledged = true, acknowledged_at = make_timestamp_ns(?) "
            "WHERE id = ? AND NOT acknowledged"
        )
        params: list[Any] = [self._clock.now_ns(), alert_id]
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        with self.transaction():
            self._con.execute(sql, params)
            found = self._con.execute(
                "SELECT count(*) FROM alerts WHERE id = ?" + (" AND run_id = ?" if run_id else ""),
                [alert_id] + ([run_id] if run_id else []),
            ).fetchall()
        return bool(found and found[0][0])

    # -- derived records -----------------------------------------------------------------
    def write_trades(self, trades: Iterable[TradeLike], *, run_id: str = LIVE_RUN_ID) -> int:
        """Insert closed round trips (idempotent by trade id).

        Any record with the :class:`~tradekit.store.records.TradeLike` attributes is accepted
        (the ledger's ``ClosedTrade``); optional attributes it lacks take their defaults.
        """
        recs = list(trades)
        for i, t in enumerate(recs):
            missing = [a for a in TRADE_REQUIRED if not hasattr(t, a)]
            if missing:
                raise StoreError(
                    f"write_trades: item {i} ({type(t).__name__}) lacks {', '.join(missing)}"
                )
        return self._write("trades", TRADE_COLS, recs, {"run_id": run_id})

    def write_daily(self, rows: Iterable[DailyPerformance], *, run_id: str = LIVE_RUN_ID) -> int:
        """Upsert daily performance rows keyed by ``(run_id, date)`` (a day can be recomputed)."""
        recs = _last_by_key(_records(rows, DailyPerformance, "write_daily"), lambda d: d.date)
        conflict = _upsert_sql(["run_id"] + [c.name for c in DAILY_COLS], ("run_id", "date"))
        return self._write("daily_performance", DAILY_COLS, recs, {"run_id": run_id}, conflict)

    def write_calendar(self, events: Iterable[CalendarEvent]) -> int:
        """Add or update (description) event-calendar rows; ``kind`` must be a known kind."""
        recs = _last_by_key(_records(events, CalendarEvent, "write_calendar"), lambda c: c.id)
        for i, ev in enumerate(recs):
            if ev.kind not in CALENDAR_KINDS:
                raise StoreError(f"calendar item {i}: kind {ev.kind!r} not in {CALENDAR_KINDS}")
        now = self._clock.now_ns()
        cols = (*CALENDAR_COLS, Col("created_at", "ts", lambda _c: now, nullable=False))
        conflict = "ON CONFLICT (id) DO UPDATE SET description = excluded.description"
        return self._write("event_calendar", cols, recs, {}, conflict)

    def delete_calendar_event(self, event_id: str) -> None:
        """Remove one event-calendar row (user-maintained table)."""
        self._writable()
        with self.transaction():
            self._con.execute("DELETE FROM event_calendar WHERE id = ?", [event_id])

    # -- journal -------------------------------------------------------------------------
    def append_journal(
        self, entries: Iterable[tuple[str, Any]], *, run_id: str = LIVE_RUN_ID
    ) -> list[int]:
        """Append ``(topic, event)`` pairs to the ``events`` journal, in order.

        ``ts`` is the event's ``ts_ns`` (or the store clock for events without one); the payload
        is the record as JSON (:func:`~tradekit.store.convert.record_payload`). The journal is
        append-only: the store offers no way to change or delete an entry.

        Returns
        -------
        list[int]
            The sequence numbers given to the entries.

        Raises
        ------
        StoreError
            An event is neither a record (dataclass) nor a mapping.
        """
        self._writable()
        items = list(entries)
        if not items:
            return []
        now = self._clock.now_ns()
        rows = [_journal_row(topic, ev, now) for topic, ev in items]
        with self.transaction():
            # seq = max + 1.. inside the transaction: gap-free, and never reused even when
            # two Store objects share the file within one process.
            start = int(self._fetch("SELECT coalesce(max(seq), 0) FROM events")[0][0]) + 1
            seqs = list(range(start, start + len(rows)))
            cols = list(zip(*rows, strict=True))
            tbl = pa.table(
                {
                    "seq": pa.array(seqs, pa.int64()),
                    "ts": pa.array(cols[0], pa.int64()).cast(pa.timestamp("ns")),
                    "recorded_at": pa.array([now] * len(rows), pa.int64()).cast(pa.timestamp("ns")),
                    "topic": pa.array(cols[1], pa.string()),
                    "type": pa.array(cols[2], pa.string()),
                    "payload": pa.array(cols[3], pa.string()),
                    "run_id": pa.array([run_id] * len(rows), pa.string()),
                }
            )
            self._insert("events", tbl, "")
        return seqs


def _journal_row(topic: str, event: Any, now_ns: int) -> tuple[int, str, str, str]:
    """``(ts, topic, type, payload_json)`` of one journal entry."""
    if not isinstance(topic, str) or not topic:
        raise StoreError(f"journal topic must be a non-empty string, got {topic!r}")
    if isinstance(event, Mapping):
        payload: dict[str, Any] = jsonable(dict(event))
        type_name = "dict"
        ts = event.get("ts_ns")
    else:
        payload = record_payload(event)
        type_name = type(event).__name__
        ts = getattr(event, "ts_ns", None)
    if not isinstance(ts, int | np.integer) or isinstance(ts, bool):
        ts = now_ns
    return int(ts), topic, type_name, dumps_json(payload) or "{}"
