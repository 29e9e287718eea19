"""Backtests requested over the API, run in a worker process — never on the event loop.

``POST /api/backtests`` validates the request and its configuration, records a ``pending`` row
in ``backtest_runs`` and queues :func:`run_backtest_job` on a
:class:`~concurrent.futures.ProcessPoolExecutor` (``spawn`` workers: the server process has
threads, which ``fork`` does not copy safely). The worker replays the data through the same
:func:`~tradekit.runtime.backtest.run_backtest` as the CLI and reports its progress (fraction of
bars replayed) on a multiprocessing queue that the server drains every
:data:`POLL_S` seconds. Only the server process writes the database (DuckDB has one writer):
``running`` when the worker starts, ``done`` with the summary as results, or ``failed`` with
the error.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import logging
import multiprocessing as mp
import queue as queue_mod
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradekit.config import AlgorithmConfig
from tradekit.errors import StoreError
from tradekit.store.reads import _finish
from tradekit.store.repository import Store

__all__ = ["POLL_S", "BacktestQueue", "BacktestRequest", "run_backtest_job"]

log = logging.getLogger("tradekit.api")

#: Seconds between two reads of the workers' progress queue.
POLL_S = 0.2

_progress_queue: Any = None  # set in each worker by _init_worker


class BacktestRequest(BaseModel):
    """The body of ``POST /api/backtests``: which data to replay, with which configuration."""

    model_config = ConfigDict(extra="forbid", strict=True)

    data: Literal["synthetic", "aapl", "goog", "ibm", "msft", "aapl_2019"] = Field(
        "synthetic", description="'synthetic' 1-minute bars or a shipped daily dataset"
    )
    symbol: str = Field("SPY", pattern=r"^[A-Z]{1,6}$", description="synthetic symbol")
    start: str = Field(
        "2023-02-27",
        pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])$",
        description="first synthetic session of the history (YYYY-MM-DD)",
    )
    days: int = Field(2, ge=1, le=20, description="synthetic sessions replayed")
    history_days: int = Field(30, ge=0, le=260, description="synthetic sessions of history")
    seed: int = Field(3, ge=0, le=2**31 - 1)
    vix: float = Field(18.0, ge=5.0, le=150.0, description="fixed VIX for daily data")
    config_version: str | None = Field(
        None, max_length=64, description="a saved config version (default: the trader's)"
    )
    overrides: dict[str, Any] | None = Field(
        None, description='dotted-path overrides, e.g. {"signals.swing_left": 3}'
    )


def _init_worker(progress: Any) -> None:
    global _progress_queue
    _progress_queue = progress


def _report(run_id: str, what: str, value: float) -> None:
    if _progress_queue is not None:
        with contextlib.suppress(Exception):  # progress is best effort, the result is not
            _progress_queue.put_nowait((run_id, what, value))


def run_backtest_job(run_id: str, spec: dict[str, Any], config_json: str) -> dict[str, Any]:
    """Run one backtest (in a worker process) and return its summary.

    Parameters
    ----------
    run_id:
        The ``backtest_runs`` id (for progress messages).
    spec:
        A validated :class:`BacktestRequest` as a dict.
    config_json:
        The algorithm, as :meth:`AlgorithmConfig.to_json` text.
    """
    from tradekit.runtime.backtest import run_backtest
    from tradekit.runtime.replay import replay_inputs, replay_market

    _report(run_id, "start", 0.0)
    inp = replay_inputs(
        spec["data"],
        symbol=spec["symbol"],
        start=spec["start"],
        days=spec["days"],
        history_days=spec["history_days"],
        seed=spec["seed"],
        vix=spec["vix"],
    )
    base = AlgorithmConfig.from_json(config_json)
    cfg = base.with_overrides({"symbols": [inp.symbol], "timeframe": inp.timeframe})
    market, quotes = replay_market(inp)
    reported = [0.0]

    def on_progress(done: int, total: int) -> None:
        frac = done / max(1, total)
        if frac - reported[0] >= 0.02 and done < total:  # about 50 updates per run
            reported[0] = frac
            _report(run_id, "progress", frac)

    res = run_backtest(inp.bars, cfg, market=market, quotes=quotes, progress=on_progress)
    summary = dict(res.summary)
    summary.update(
        data=spec["data"],
        symbol=inp.symbol,
        timeframe=inp.timeframe,
        bars=len(inp.bars),
        config_id=cfg.content_hash,
        engine_run_id=res.run_id,
    )
    return summary


class BacktestQueue:
    """Queues API backtests on worker processes and keeps ``backtest_runs`` up to date.

    Parameters
    ----------
    store:
        The server's store (written from the event loop only).
    workers:
        Worker processes (backtests running at once).
    max_active:
        Pending + running backtests accepted; one more is refused (429).
    """

    def __init__(self, store: Store, *, workers: int = 1, max_active: int = 4) -> None:
        self.store = store
        self.workers = workers
        self.max_active = max_active
        self.progress: dict[str, float] = {}
        self._ctx = mp.get_context("spawn")
        self._queue: Any = None
        self._pool: cf.ProcessPoolExecutor | None = None
        self._active: dict[str, cf.Future[dict[str, Any]]] = {}
        self._pump: asyncio.Task[None] | None = None

    @property
    def active(self) -> int:
        return len(self._active)

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._queue = self._ctx.Queue()
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._ctx,
                initializer=_init_worker,
                initargs=(self._queue,),
            )
        return self._pool

    def submit(self, request: BacktestRequest, config: AlgorithmConfig) -> str:
        """Record a pending run and queue it; returns the run id.

        Raises
        ------
        OverflowError
            ``max_active`` backtests are already pending or running.
        """
        if len(self._active) >= self.max_active:
            raise OverflowError(f"{self.max_active} backtests are already queued or running")
        spec = request.model_dump()
        config_id = self.store.save_config(config)
        run_id = self.store.create_backtest_run(
            config_id, {**spec, "config_version": config.version, "source": "api"}
        )
        self.progress[run_id] = 0.0
        loop = asyncio.get_running_loop()
        try:
            fut = self._executor().submit(run_backtest_job, run_id, spec, config.to_json())
        except (RuntimeError, cf.BrokenExecutor) as exc:
            self._reset_pool()
            self.store.fail_backtest_run(run_id, f"could not start a worker: {exc}")
            return run_id
        self._active[run_id] = fut

        def done(f: cf.Future[dict[str, Any]], rid: str = run_id) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: close() recorded it
                loop.call_soon_threadsafe(self._finished, rid, f)

        fut.add_done_callback(done)
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._drain_progress())
        return run_id

    def _reset_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _status(self, run_id: str) -> str | None:
        df = self.store.query("SELECT status FROM backtest_runs WHERE run_id = ?", [run_id])
        return None if df.empty else str(df["status"].iloc[0])

    def _mark_running(self, run_id: str) -> None:
        if self._status(run_id) == "pending":
            self.store.start_backtest_run(run_id=run_id)

    def _finished(self, run_id: str, fut: cf.Future[dict[str, Any]]) -> None:
        if self._active.pop(run_id, None) is None:
            return  # close() already recorded it
        try:
            if fut.cancelled():
                self.store.fail_backtest_run(run_id, "cancelled: the server stopped")
                return
            exc = fut.exception()
            if exc is not None:
                if isinstance(exc, cf.BrokenExecutor):
                    self._reset_pool()
                self.store.fail_backtest_run(run_id, exc)
                return
            self._mark_running(run_id)
            self.store.finish_backtest_run(run_id, fut.result())
            self.progress[run_id] = 1.0
        except StoreError as exc:  # the store is closing; nothing more can be recorded
            log.warning("backtest %s: could not record its end: %s", run_id, exc)

    async def _drain_progress(self) -> None:
        while self._active:
            await asyncio.sleep(POLL_S)
            self.poll()
        self.poll()

    def poll(self) -> None:
        """Apply the progress messages the workers sent since the last call."""
        q = self._queue
        while q is not None:
            try:
                run_id, what, value = q.get_nowait()
            except (queue_mod.Empty, OSError, ValueError, EOFError):
                break
            if run_id not in self.progress:
                continue
            if what == "start":
                with contextlib.suppress(StoreError):
                    self._mark_running(run_id)
            self.progress[run_id] = max(self.progress[run_id], float(value))

    def describe(self, run_id: str) -> dict[str, Any] | None:
        """The API view of one run, or ``None`` when there is no such run."""
        df = _finish(self.store.query("SELECT * FROM backtest_runs WHERE run_id = ?", [run_id]))
        if df.empty:
            return None
        row = df.iloc[0].to_dict()
        status = str(row["status"])
        progress = self.progress.get(run_id)
        if status == "done":
            progress = 1.0
        elif status == "pending" and progress is None:
            progress = 0.0

        def iso(v: Any) -> str | None:
            return None if v is None or v is pd.NaT or pd.isna(v) else pd.Timestamp(v).isoformat()

        return {
            "id": run_id,
            "status": status,
            "progress": progress,
            "config_id": row.get("config_id"),
            "params": row.get("params"),
            "results": row.get("results") if status == "done" else None,
            "error": row.get("error") if isinstance(row.get("error"), str) else None,
            "created_at": iso(row.get("created_at")),
            "started_at": iso(row.get("started_at")),
            "finished_at": iso(row.get("finished_at")),
        }

    def close(self) -> None:
        """Stop the workers; runs still queued or running are recorded as failed."""
        active, self._active = self._active, {}
        for run_id, fut in active.items():
            fut.cancel()
            with contextlib.suppress(StoreError):
                self.store.fail_backtest_run(run_id, "cancelled: the server stopped")
        if self._pump is not None:
            self._pump.cancel()
        self._reset_pool()
        if self._queue is not None:
            self._queue.close()
            self._queue = None
