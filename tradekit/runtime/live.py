"""``LiveRunner``: drive an :class:`~tradekit.runtime.kernel.Engine` from an async feed.

It runs *inside* an existing event loop — a Jupyter kernel's or a Panel server's — and never
calls ``asyncio.run``. :meth:`LiveRunner.start` schedules one task on the running loop and
returns at once; :meth:`pause`, :meth:`resume` and :meth:`stop` control it from notebook cells
or UI callbacks. Each bar goes to the very same ``engine.on_bar`` a backtest calls, which is
why a replay through this runner and :func:`~tradekit.runtime.backtest.run_backtest` produce
identical decisions and fills (tested).

An exception raised while processing one bar is caught, published as a CRITICAL alert and
counted; the runner goes on with the next bar unless ``max_errors`` is exceeded, in which case
it trips the kill switch and stops — a broken engine must halt trading, not spin.

Examples
--------
In a notebook cell (the loop is already running)::

    runner = LiveRunner(engine, ReplayFeed(bars, speed=60.0, clock=engine.clock))
    runner.start()          # returns immediately
    runner.pause(); runner.resume()
    await runner.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, Callable
from enum import StrEnum

from tradekit.core.enums import AlertLevel
from tradekit.core.events import Alert, Bar, StateChange
from tradekit.core.ids import make_id
from tradekit.errors import TraderError
from tradekit.runtime.kernel import BarOutcome, Engine

__all__ = ["LiveRunner", "RunnerState"]


class RunnerState(StrEnum):
    IDLE = "IDLE"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


class LiveRunner:
    """Consume ``feed`` and call ``engine.on_bar`` for every bar, in the running event loop.

    Parameters
    ----------
    engine:
        The engine (its clock is a ``SimClock`` for replay, a ``WallClock`` live).
    feed:
        Any async iterable of :class:`~tradekit.core.events.Bar`; a ``ReplayFeed`` or
        ``PollingFeed`` (which have ``stop()``, called on :meth:`stop`).
    on_outcome:
        Optional callback after each bar (e.g. print a summary line, update a widget); its
        exceptions are recorded like a bar failure.
    max_errors:
        Consecutive failing bars tolerated before the kill switch is tripped.
    """

    def __init__(
        self,
        engine: Engine,
        feed: AsyncIterable[Bar],
        *,
        on_outcome: Callable[[BarOutcome], None] | None = None,
        max_errors: int = 5,
    ) -> None:
        self.engine = engine
        self.feed = feed
        self.on_outcome = on_outcome
        self.max_errors = max_errors
        self.state = RunnerState.IDLE
        self.bars = 0
        self.errors = 0
        self.last_bar: Bar | None = None
        self.last_latency_us = 0.0
        self._task: asyncio.Task[None] | None = None
        self._resume = asyncio.Event()
        self._resume.set()
        self._consecutive = 0

    # -- control --------------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Schedule the runner on the running loop and return its task (does not block).

        Raises
        ------
        RuntimeError
            It is already running.
        TraderError
            It has stopped: a runner runs once (its feed is spent).
        """
        if self._task is not None and not self._task.done():
            raise RuntimeError("LiveRunner is already running")
        if self.state in (RunnerState.STOPPED, RunnerState.FAILED):
            # its feed is stopped or exhausted: a second run would show RUNNING, then nothing
            raise TraderError(
                f"this LiveRunner is {self.state.value} and its feed is spent; build a new "
                "LiveRunner with a fresh feed (an AutoTrader resumes its run by itself)"
            )
        loop = asyncio.get_running_loop()
        self._set_state(RunnerState.RUNNING, "start")
        self._task = loop.create_task(self._run(), name="tradekit-live-runner")
        return self._task

    def pause(self) -> None:
        """Stop taking bars after the current one (the feed keeps buffering)."""
        if self.state is RunnerState.RUNNING:
            self._resume.clear()
            self._set_state(RunnerState.PAUSED, "pause")

    def resume(self) -> None:
        if self.state is RunnerState.PAUSED:
            self._set_state(RunnerState.RUNNING, "resume")
            self._resume.set()

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the feed and the task; cancels the task if it does not end within the timeout."""
        stop_feed = getattr(self.feed, "stop", None)
        if stop_feed is not None:
            stop_feed()
        self._resume.set()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout_s)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.state not in (RunnerState.FAILED, RunnerState.STOPPED):
            self._set_state(RunnerState.STOPPED, "stop")

    async def wait(self) -> None:
        """Wait until the feed is exhausted or the runner stopped."""
        if self._task is not None:
            await asyncio.shield(self._task)

    # -- the loop ---------------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            async for bar in self.feed:
                if not self._resume.is_set():
                    await self._resume.wait()
                if self.state is RunnerState.STOPPED:
                    break
                self._process(bar)
                if self.state is RunnerState.FAILED:
                    break
        finally:
            if self.state in (RunnerState.RUNNING, RunnerState.PAUSED):
                self._set_state(RunnerState.STOPPED, "feed ended")

    def _process(self, bar: Bar) -> None:
        t0 = time.perf_counter_ns()
        try:
            outcome = self.engine.on_bar(bar)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
        except Exception as exc:
            self.errors += 1
            self._consecutive += 1
            self._alert(f"bar processing failed: {type(exc).__name__}: {exc}", bar)
            if self._consecutive > self.max_errors:
                self.engine.kill(f"{self._consecutive} consecutive bar failures", by="runner")
                self._set_state(RunnerState.FAILED, f"too many errors: {exc}")
            return
        self._consecutive = 0
        self.bars += 1
        self.last_bar = bar
        self.last_latency_us = (time.perf_counter_ns() - t0) / 1000.0

    def _alert(self, message: str, bar: Bar) -> None:
        now = self.engine.clock.now_ns()
        self.engine.bus.publish(
            "alerts.runner",
            Alert(make_id("alert", "runner", now, message), now, AlertLevel.CRITICAL, "runner",
                  message, {"symbol": bar.symbol, "bar_ts_ns": bar.ts_ns}),
        )  # fmt: skip

    def _set_state(self, new: RunnerState, reason: str) -> None:
        old, self.state = self.state, new
        self.engine.bus.publish(
            "state.runner",
            StateChange(self.engine.clock.now_ns(), "runner", old.value, new.value, reason),
        )
