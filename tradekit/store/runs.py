"""Configs, backtest runs and trader state: the store's small, row-at-a-time tables.

Mixed into :class:`~tradekit.store.repository.Store`.

* ``algorithm_configs``: a config is saved once per ``(name, version)``; its ``config_id`` is
  :attr:`AlgorithmConfig.content_hash` (parameters only), so two versions with identical
  parameters share an id. Re-saving a ``(name, version)`` with *different* parameters is refused:
  a released version is immutable, change the version instead.
* ``backtest_runs``: ``pending -> running -> done | failed`` (``pending -> failed`` too); any
  other transition is a :class:`~tradekit.errors.StoreError`.
* ``auto_trade_state``: one JSON value per ``(run_id, key)``, upserted with ``updated_at``. The
  kill switch's ``HALTED`` is written here synchronously, so it survives a restart.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import Clock
from tradekit.core.ids import make_id
from tradekit.errors import ConfigError, StoreError
from tradekit.store.convert import dumps_json, jsonable
from tradekit.store.schema import LIVE_RUN_ID

__all__ = ["RUN_STATUSES", "StoreRuns"]

RUN_STATUSES = ("pending", "running", "done", "failed")
_ALLOWED = {"running": ("pending",), "done": ("running",), "failed": ("pending", "running")}


class StoreRuns(ABC):
    """Config, run and state methods of the store (needs ``_exec`` / ``_fetch`` / ``_clock``)."""

    _clock: Clock

    @abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one write statement in a transaction (implemented by Store)."""

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement and return its rows (implemented by Store)."""

    # -- configs -------------------------------------------------------------------------
    def save_config(self, config: AlgorithmConfig) -> str:
        """Save a config (idempotent) and return its ``config_id`` (the content hash).

        Raises
        ------
        StoreError
            This ``(name, version)`` is already saved with different parameters.
        """
        if not isinstance(config, AlgorithmConfig):
            raise StoreError(f"save_config expects an AlgorithmConfig, got {type(config).__name__}")
        cid = config.content_hash
        rows = self._fetch(
            "SELECT config_id FROM algorithm_configs WHERE name = ? AND version = ?",
            [config.name, config.version],
        )
        if rows:
            if rows[0][0] != cid:
                raise StoreError(
                    f"config {config.name!r} version {config.version!r} is already saved with "
                    f"different parameters (id {rows[0][0]}, now {cid}); bump the version"
                )
            return cid
        self._exec(
            "INSERT INTO algorithm_configs VALUES (?, ?, ?, ?, make_timestamp_ns(?))",
            [config.name, config.version, cid, config.to_json(), self._clock.now_ns()],
        )
        return cid

    def load_config(self, key: str | tuple[str, str]) -> AlgorithmConfig:
        """Rebuild a saved config by ``config_id`` or by ``(name, version)``.

        With a ``config_id`` shared by several versions, the earliest saved one is returned
        (their parameters are identical by definition of the id).

        Raises
        ------
        StoreError
            Nothing is saved under ``key`` or the stored JSON no longer validates.
        """
        if isinstance(key, tuple):
            rows = self._fetch(
                "SELECT json FROM algorithm_configs WHERE name = ? AND version = ?", list(key)
            )
        else:
            rows = self._fetch(
                "SELECT json FROM algorithm_configs WHERE config_id = ? "
                "ORDER BY created_at, name, version LIMIT 1",
                [key],
            )
        if not rows:
            raise StoreError(f"no saved config {key!r}")
        try:
            return AlgorithmConfig.from_json(rows[0][0])
        except ConfigError as exc:
            raise StoreError(f"saved config {key!r} no longer validates: {exc}") from exc

    # -- backtest runs -------------------------------------------------------------------
    def create_backtest_run(
        self,
        config_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        data_label: str | None = None,
    ) -> str:
        """Register a ``pending`` run (queued, not started); returns its ``run_id``.

        The default ``run_id`` is derived from the config id, the params and the clock;
        ``data_label`` says what the bars are (``"aapl"``, ``"SYNTHETIC SPY ..."``, a path).
        """
        now = self._clock.now_ns()
        params_json = dumps_json(jsonable(dict(params or {})))
        rid = run_id or make_id("run", config_id or "", params_json, now)
        if self._fetch("SELECT 1 FROM backtest_runs WHERE run_id = ?", [rid]):
            raise StoreError(f"backtest run {rid!r} already exists")
        self._exec(
            "INSERT INTO backtest_runs (run_id, config_id, status, params, created_at, "
            "data_label) VALUES (?, ?, 'pending', ?, make_timestamp_ns(?), ?)",
            [rid, config_id, params_json, now, data_label],
        )
        return rid

    def start_backtest_run(
        self,
        config_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        data_label: str | None = None,
    ) -> str:
        """Mark a run ``running`` (creating it if ``run_id`` is new or not given); returns it."""
        if run_id is None or not self._fetch(
            "SELECT 1 FROM backtest_runs WHERE run_id = ?", [run_id]
        ):
            run_id = self.create_backtest_run(
                config_id, params, run_id=run_id, data_label=data_label
            )
        self._transition(run_id, "running", "started_at = make_timestamp_ns(?)", [])
        return run_id

    def finish_backtest_run(self, run_id: str, results: Mapping[str, Any] | None = None) -> None:
        """Mark a running run ``done`` and store its results (JSON-able mapping)."""
        res = dumps_json(jsonable(dict(results or {})))
        self._transition(run_id, "done", "finished_at = make_timestamp_ns(?), results = ?", [res])

    def fail_backtest_run(self, run_id: str, error: str | BaseException) -> None:
        """Mark a pending or running run ``failed`` with the error text."""
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self._transition(run_id, "failed", "finished_at = make_timestamp_ns(?), error = ?", [text])

    def _transition(self, run_id: str, new: str, sets: str, extra: list[Any]) -> None:
        rows = self._fetch("SELECT status FROM backtest_runs WHERE run_id = ?", [run_id])
        if not rows:
            raise StoreError(f"no backtest run {run_id!r}")
        old = rows[0][0]
        if old not in _ALLOWED[new]:
            raise StoreError(f"backtest run {run_id!r} cannot go from {old!r} to {new!r}")
        self._exec(
            f"UPDATE backtest_runs SET status = ?, {sets} WHERE run_id = ?",
            [new, self._clock.now_ns(), *extra, run_id],
        )

    # -- trader state --------------------------------------------------------------------
    def set_state(
        self, key: str, value: Any, *, reason: str = "", run_id: str = LIVE_RUN_ID
    ) -> None:
        """Set one state value (JSON-able), e.g. ``set_state("risk", "HALTED")``."""
        if not isinstance(key, str) or not key:
            raise StoreError(f"state key must be a non-empty string, got {key!r}")
        self._exec(
            "INSERT INTO auto_trade_state VALUES (?, ?, ?, ?, make_timestamp_ns(?)) "
            "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, "
            "reason = excluded.reason, updated_at = excluded.updated_at",
            [run_id, key, dumps_json(jsonable(value)), reason, self._clock.now_ns()],
        )

    def get_state(self, key: str, default: Any = None, *, run_id: str = LIVE_RUN_ID) -> Any:
        """The stored value of ``key`` (decoded from JSON), or ``default`` if never set."""
        rows = self._fetch(
            "SELECT value FROM auto_trade_state WHERE run_id = ? AND key = ?", [run_id, key]
        )
        if not rows:
            return default
        raw = rows[0][0]
        return None if raw is None else json.loads(raw)
