"""``WorkerRun``: the shared part of the views that run research jobs off the server loop.

A job (a backtest, an A/B comparison) is picked with the same form — data set, symbol, date
range (both dates included) — runs in a one-worker
:class:`concurrent.futures.ThreadPoolExecutor`, reports
``progress(done, total)`` from the worker (guarded by a lock) and is polled by the app's periodic
callback, which moves the progress bar and, once the job ended, records it in
``backtest_runs`` and shows its result. A failed job is a message and a ``failed`` row, never a
dead page. Store writes happen only in :meth:`poll`/:meth:`submit`, i.e. on the server loop.
"""

from __future__ import annotations

import datetime as dt
import threading
from abc import abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import panel as pn
import param

from tradekit.config import AlgorithmConfig
from tradekit.dashboards.components.base import Messages, TraderLike

__all__ = ["WorkerRun"]


class WorkerRun(param.Parameterized):
    """Form, worker, progress bar and run bookkeeping; subclasses define the job.

    Subclasses implement :meth:`_job` (returns ``(label, fn, args, params)`` for the worker, or
    raises to refuse the request), :meth:`_finished` (the job's value, on the loop) and
    :meth:`view`.
    """

    dataset: param.Selector[str] = param.Selector(default="synthetic", objects=["synthetic"])
    symbol = param.String(default="SPY")
    start = param.CalendarDate(default=dt.date(2024, 3, 4))
    end = param.CalendarDate(default=dt.date(2024, 3, 5), doc="last date of the range, included")
    progress = param.Integer(default=0, bounds=(0, 100))
    status = param.String(default="idle")

    #: Prefix of the ``backtest_runs`` ids of this view's jobs.
    run_prefix = "ui"
    #: Label of the button and of the messages.
    action = "Run"

    def __init__(self, trader: TraderLike, messages: Messages, **params: Any) -> None:
        from tradekit.data import datasets

        super().__init__(**params)
        self.trader, self.messages = trader, messages
        self.param.dataset.objects = ["synthetic", *datasets.list()]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tk-worker")
        self._future: Future[Any] | None = None
        self._lock = threading.Lock()
        self._done_total = (0, 1)
        self.run_id: str | None = None
        self.run_btn = pn.widgets.Button(name=self.action, button_type="primary")
        self.run_btn.on_click(messages.guard(lambda _e: self.submit(), self.action.lower()))
        self.bar = pn.indicators.Progress(value=0, max=100, width=300,
                                          css_classes=[f"tk-{self.run_prefix}-progress"])  # fmt: skip
        self.status_md = pn.pane.Markdown("idle")

    # -- the form -----------------------------------------------------------------------------
    def version_labels(self) -> list[str]:
        """``"active"`` and ``"<name> v<version>"`` of every stored config."""
        cfgs = self.trader.store.configs()
        return ["active", *(f"{n} v{v}" for n, v in zip(cfgs["name"], cfgs["version"],
                                                        strict=True))]  # fmt: skip

    def config_of(self, label: str) -> AlgorithmConfig:
        """The config a :meth:`version_labels` entry names."""
        if label == "active":
            return self.trader.engine.config
        name, version = label.rsplit(" v", 1)
        return self.trader.store.load_config((name, version))

    def form_widgets(self) -> list[Any]:
        return [
            pn.widgets.Select.from_param(self.param.dataset, width=130),
            pn.widgets.TextInput.from_param(self.param.symbol, width=90),
            pn.widgets.DatePicker.from_param(self.param.start, width=140),
            pn.widgets.DatePicker.from_param(self.param.end, width=140),
        ]

    # -- the job ------------------------------------------------------------------------------
    @abstractmethod
    def _job(self) -> tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any], Any]:
        """``(label, fn, args, params, config)``: what the worker runs, what the run row says
        (``params``) and the config it is filed under."""

    @abstractmethod
    def _finished(self, value: Any) -> dict[str, Any]:
        """Show ``value``; return the results to store with the run."""

    def report(self, done: int, total: int) -> None:
        """Progress from the worker thread."""
        with self._lock:
            self._done_total = (done, max(total, 1))

    def submit(self) -> None:
        """Start the job in the worker (no-op with a warning while one is running)."""
        from tradekit.runtime.recording import free_run_id

        if self._future is not None and not self._future.done():
            self.messages.show(f"{self.action.lower()}: a job is already running", "warning")
            return
        label, fn, args, params, config = self._job()
        store = self.trader.store
        self.run_id = free_run_id(store, f"{self.run_prefix}-{self.dataset}-"
                                         f"{self.symbol.strip().upper()}-{self.start}-{self.end}")  # fmt: skip
        store.start_backtest_run(store.save_config(config), {**params, "source": "ui"},
                                 run_id=self.run_id, data_label=label)  # fmt: skip
        self._done_total = (0, 1)
        self.status, self.bar.value = "running", 0
        self.status_md.object = f"running {label}"
        self.run_btn.disabled = True
        self._future = self._pool.submit(fn, *args)

    def poll(self) -> None:
        """Move the bar and, once the job ended, record and show it (periodic callback)."""
        fut = self._future
        if fut is None:
            return
        with self._lock:
            done, total = self._done_total
        self.bar.value = self.progress = min(100, int(100 * done / total))
        if not fut.done():
            return
        self._future = None
        self.run_btn.disabled = False
        exc = fut.exception()
        if exc is not None:
            self._fail(exc)
            return
        try:
            results = self._finished(fut.result())
        except Exception as show_exc:  # a result that cannot be shown is a failed run
            self._fail(show_exc)
            return
        if self.run_id is not None:
            self.trader.store.finish_backtest_run(self.run_id, results)
        self.status, self.bar.value = "done", 100
        self.messages.clear(key=self.action)  # an earlier failure of this job is over

    def _fail(self, exc: BaseException) -> None:
        if self.run_id is not None:
            self.trader.store.fail_backtest_run(self.run_id, exc)
        self.status = "failed"
        self.status_md.object = f"**failed**: {exc}"
        self.messages.show(f"{self.action.lower()} failed: {type(exc).__name__}: {exc}",
                           key=self.action)  # fmt: skip

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
