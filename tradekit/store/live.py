"""Live runs and crash-recovery checkpoints: the auto-trader's rows in the store.

Mixed into :class:`~tradekit.store.repository.Store`.

* A *live run* is a row of ``backtest_runs`` with ``kind = 'live'``: its ``config_id`` (the
  config's content hash), the ``data_label`` of what it trades, ``status`` (``running`` while
  it may still be resumed, ``done`` when its feed ended, ``failed``) and ``results``.
* ``auto_checkpoints`` holds the latest checkpoint of each run: the engine state as an opaque
  blob (:mod:`tradekit.runtime.checkpoint`), the close time of the bar it follows and a JSON
  digest (cash, positions, counts) that recovery reconciles against the stored fills. It is
  written inside the transaction that writes that bar's records, so the database is never ahead
  of or behind its own checkpoint.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradekit.core.clock import Clock
from tradekit.errors import StoreError
from tradekit.store.convert import dumps_json, jsonable

__all__ = ["Checkpoint", "LiveRun", "StoreLive"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The latest checkpoint of one run (``bar_ts_ns``: close time of its last bar, UTC ns)."""

    run_id: str
    bar_ts_ns: int
    bars_seen: int
    format: int
    config_id: str
    state: bytes
    digest: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LiveRun:
    """A live run's row: ids, what it trades and how it ended (``status``)."""

    run_id: str
    config_id: str | None
    data_label: str | None
    status: str
    params: dict[str, Any]
    results: dict[str, Any] | None


class StoreLive(ABC):
    """Live-run and checkpoint methods of the store (needs ``_exec`` / ``_fetch``)."""

    _clock: Clock

    @abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one write statement in a transaction (implemented by Store)."""

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement and return its rows (implemented by Store)."""

    # -- live runs -----------------------------------------------------------------------
    def create_live_run(
        self,
        run_id: str,
        *,
        config_id: str,
        data_label: str,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Register a new live run as ``running`` (started now, by the store clock).

        Raises
        ------
        StoreError
            ``run_id`` already exists.
        """
        if self._fetch("SELECT 1 FROM backtest_runs WHERE run_id = ?", [run_id]):
            raise StoreError(f"run {run_id!r} already exists")
        now = self._clock.now_ns()
        self._exec(
            "INSERT INTO backtest_runs (run_id, config_id, status, params, created_at, "
            "started_at, kind, data_label) VALUES (?, ?, 'running', ?, make_timestamp_ns(?), "
            "make_timestamp_ns(?), 'live', ?)",
            [run_id, config_id, dumps_json(jsonable(dict(params or {}))), now, now, data_label],
        )

    def live_run(self, run_id: str) -> LiveRun | None:
        """The row of a live run, or None."""
        rows = self._fetch(
            "SELECT run_id, config_id, data_label, status, params, results FROM backtest_runs "
            "WHERE run_id = ? AND kind = 'live'",
            [run_id],
        )
        return _live_run(rows[0]) if rows else None

    def latest_live_run(self) -> LiveRun | None:
        """The most recently created live run, or None."""
        rows = self._fetch(
            "SELECT run_id, config_id, data_label, status, params, results FROM backtest_runs "
            "WHERE kind = 'live' ORDER BY created_at DESC, run_id DESC LIMIT 1"
        )
        return _live_run(rows[0]) if rows else None

    def end_live_run(
        self, run_id: str, status: str, results: Mapping[str, Any] | None = None
    ) -> None:
        """Close a running live run as ``done`` or ``failed`` with its results."""
        if status not in ("done", "failed"):
            raise StoreError(f"a live run ends as 'done' or 'failed', not {status!r}")
        rows = self._fetch("SELECT status FROM backtest_runs WHERE run_id = ?", [run_id])
        if not rows:
            raise StoreError(f"no run {run_id!r}")
        if rows[0][0] != "running":
            raise StoreError(f"run {run_id!r} is {rows[0][0]!r}, not running")
        self._exec(
            "UPDATE backtest_runs SET status = ?, finished_at = make_timestamp_ns(?), "
            "results = ? WHERE run_id = ?",
            [status, self._clock.now_ns(), dumps_json(jsonable(dict(results or {}))), run_id],
        )

    def update_live_results(self, run_id: str, results: Mapping[str, Any]) -> None:
        """Overwrite the running results of a live run (e.g. at each session close)."""
        self._exec(
            "UPDATE backtest_runs SET results = ? WHERE run_id = ?",
            [dumps_json(jsonable(dict(results))), run_id],
        )

    # -- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self, cp: Checkpoint) -> None:
        """Upsert the run's checkpoint (call inside the transaction of the bar's records)."""
        self._exec(
            "INSERT INTO auto_checkpoints VALUES (?, make_timestamp_ns(?), ?, ?, ?, ?, ?, "
            "make_timestamp_ns(?)) ON CONFLICT (run_id) DO UPDATE SET bar_ts = excluded.bar_ts, "
            "bars_seen = excluded.bars_seen, format = excluded.format, "
            "config_id = excluded.config_id, state = excluded.state, digest = excluded.digest, "
            "updated_at = excluded.updated_at",
            [cp.run_id, cp.bar_ts_ns, cp.bars_seen, cp.format, cp.config_id, cp.state,
             dumps_json(jsonable(cp.digest)), self._clock.now_ns()],
        )  # fmt: skip

    def load_checkpoint(self, run_id: str) -> Checkpoint | None:
        """The run's latest checkpoint, or None when it has none."""
        rows = self._fetch(
            "SELECT run_id, epoch_ns(bar_ts), bars_seen, format, config_id, state, digest "
            "FROM auto_checkpoints WHERE run_id = ?",
            [run_id],
        )
        if not rows:
            return None
        rid, ts, seen, fmt, cid, state, digest = rows[0]
        return Checkpoint(rid, int(ts), int(seen), int(fmt), cid, bytes(state), json.loads(digest))


def _live_run(row: tuple[Any, ...]) -> LiveRun:
    rid, cid, label, status, params, results = row
    return LiveRun(
        rid,
        cid,
        label,
        status,
        json.loads(params) if params else {},
        json.loads(results) if results else None,
    )
