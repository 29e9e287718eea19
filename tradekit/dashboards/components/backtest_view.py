"""``BacktestView``: pick a data set, range, symbol and config version, run a backtest in a
worker thread with a progress bar, then show its stats, equity curve and trades.

The run happens in a :class:`concurrent.futures.ThreadPoolExecutor` (one worker), never on the
server loop; progress is the count of ``bars.*`` events of the run's own bus over the bars to
replay, read by the app's periodic callback. A failed run (bad range, empty data) is a message,
not a dead page.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.dashboards.components.base import Messages, TraderLike
from tradekit.errors import DataError

__all__ = ["BacktestRequest", "BacktestView", "load_request_data", "run_request"]


@dataclass(frozen=True)
class BacktestRequest:
    """What to backtest: ``dataset`` is ``"synthetic"`` or a shipped data set name."""

    dataset: str
    symbol: str
    start: dt.date
    end: dt.date
    config: AlgorithmConfig


def load_request_data(req: BacktestRequest) -> tuple[pd.DataFrame, str, str, Any]:
    """Bars, symbol, timeframe and market view of a request.

    Raises
    ------
    DataError
        The range is empty or holds no bars.
    """
    from tradekit.data import datasets

    if req.end <= req.start:
        raise DataError(f"empty range: end {req.end} is not after start {req.start}",
                        rule="range")  # fmt: skip
    if req.dataset == "synthetic":
        days = max(1, len(pd.bdate_range(req.start, req.end, inclusive="left")))
        if days > 60:
            raise DataError(f"{days} synthetic sessions requested; at most 60 in the UI",
                            rule="range")  # fmt: skip
        bars = datasets.synthetic_intraday(req.symbol, start=str(req.start), days=days, seed=3)
        vix = datasets.synthetic_vix(bars, per="day")
        vix_ns = dict(zip(vix.index.normalize().as_unit("ns").asi8.tolist(),
                          vix.to_numpy(float).tolist(), strict=True))  # fmt: skip

        def market(ts_ns: int) -> float | None:
            day = pd.Timestamp(ts_ns, unit="ns", tz="UTC").normalize().value
            return vix_ns.get(day)

        return bars, req.symbol, "1min", market
    bars = datasets.load(req.dataset)
    lo, hi = pd.Timestamp(req.start, tz="UTC"), pd.Timestamp(req.end, tz="UTC")
    bars = bars[(bars.index >= lo) & (bars.index < hi)]
    if len(bars) < 30:
        raise DataError(f"{len(bars)} bars of {req.dataset} in {req.start}..{req.end}; "
                        "need at least 30", rule="range")  # fmt: skip
    return bars, req.dataset.split("_")[0].upper(), "1D", (lambda ts: 18.0)


def run_request(req: BacktestRequest, progress: Callable[[int, int], None]) -> Any:
    """Run ``req`` (in the calling thread), reporting ``progress(done, total)`` per bar."""
    from tradekit.runtime.backtest import run_backtest

    bars, symbol, timeframe, market = load_request_data(req)
    cfg = req.config.with_overrides({"symbols": [symbol], "timeframe": timeframe})
    bus, total, done = EventBus(), len(bars), [0]

    def on_bar(_t: str, _b: Any) -> None:
        done[0] += 1
        if done[0] % 50 == 0 or done[0] == total:
            progress(done[0], total)

    bus.subscribe("bars.*", on_bar)
    return run_backtest(bars, cfg, market=market, bus=bus)


class BacktestView(param.Parameterized):
    """Backtest form, progress bar and results."""

    dataset: param.Selector[str] = param.Selector(default="synthetic", objects=["synthetic"])
    symbol = param.String(default="SPY")
    start = param.CalendarDate(default=dt.date(2024, 3, 4))
    end = param.CalendarDate(default=dt.date(2024, 3, 6))
    config_version: param.Selector[str] = param.Selector(default="active", objects=["active"])
    progress = param.Integer(default=0, bounds=(0, 100))
    status = param.String(default="idle")

    def __init__(self, trader: TraderLike, messages: Messages, **params: Any) -> None:
        from tradekit.data import datasets

        super().__init__(**params)
        self.trader, self.messages = trader, messages
        self.param.dataset.objects = ["synthetic", *datasets.list()]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tk-backtest")
        self._future: Future[Any] | None = None
        self._lock = threading.Lock()
        self._done_total = (0, 1)
        self.result: Any = None
        self.run_id: str | None = None
        self.run_btn = pn.widgets.Button(name="Run backtest", button_type="primary")
        self.run_btn.on_click(messages.guard(lambda _e: self.submit(), "backtest"))
        self.bar = pn.indicators.Progress(
            value=0, max=100, width=300, css_classes=["tk-backtest-progress"]
        )
        self.status_md = pn.pane.Markdown("idle")
        self.stats = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                          name="backtest-stats", width=320)  # fmt: skip
        self.trades = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                           sizing_mode="stretch_width", height=250,
                                           name="backtest-trades")  # fmt: skip
        self.eq_src = ColumnDataSource({"x": [], "equity": []})
        fig = figure(x_axis_type="datetime", height=240, sizing_mode="stretch_width",
                     title="backtest equity", tools="xpan,xwheel_zoom,reset")  # fmt: skip
        fig.line(x="x", y="equity", source=self.eq_src)
        self.equity_pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")
        self.refresh_versions()

    def refresh_versions(self) -> None:
        cfgs = self.trader.store.configs()
        self.param.config_version.objects = ["active", *(f"{n} v{v}" for n, v in
                                                         zip(cfgs["name"], cfgs["version"],
                                                             strict=True))]  # fmt: skip

    def _config(self) -> AlgorithmConfig:
        if self.config_version == "active":
            return self.trader.engine.config
        name, version = self.config_version.rsplit(" v", 1)
        return self.trader.store.load_config((name, version))

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._done_total = (done, max(total, 1))

    def submit(self) -> None:
        """Start the run in the worker (no-op while one is running)."""
        if self._future is not None and not self._future.done():
            self.messages.show("a backtest is already running", "warning")
            return
        req = BacktestRequest(self.dataset, self.symbol.strip().upper() or "SPY",
                              self.start, self.end, self._config())  # fmt: skip
        self._done_total = (0, 1)
        self.run_id = self._register(req)
        self.status = "running"
        self.status_md.object = f"running {req.dataset} {req.symbol} {req.start}..{req.end}"
        self.run_btn.disabled = True
        self._future = self._pool.submit(run_request, req, self._progress)

    def poll(self) -> None:
        """Update progress and, once the run ended, its results (app's periodic callback)."""
        fut = self._future
        if fut is None:
            return
        with self._lock:
            done, total = self._done_total
        self.bar.value = self.progress = int(100 * done / total)
        if not fut.done():
            return
        self._future = None
        self.run_btn.disabled = False
        exc = fut.exception()
        if exc is not None:
            self._record_failure(exc)
            self.status = "failed"
            self.status_md.object = f"**failed**: {exc}"
            self.messages.show(f"backtest failed: {type(exc).__name__}: {exc}")
            return
        res = fut.result()
        self._record(res)
        self.show(res)

    # -- backtest_runs: written from the periodic callback's thread (the server loop) -----------
    def _register(self, req: BacktestRequest) -> str | None:
        """A ``backtest_runs`` row (status running) for ``req``; its run id."""
        from tradekit.runtime.recording import free_run_id

        store = self.trader.store
        params = {"dataset": req.dataset, "symbol": req.symbol, "start": str(req.start),
                  "end": str(req.end), "config_version": self.config_version, "source": "ui"}  # fmt: skip
        run_id = free_run_id(store, f"ui-{req.dataset}-{req.symbol}-{req.start}-{req.end}")
        config_id = store.save_config(req.config)
        store.start_backtest_run(config_id, params, run_id=run_id,
                                 data_label=f"{req.dataset} {req.symbol} {req.start}..{req.end}")  # fmt: skip
        return run_id

    def _record(self, res: Any) -> None:
        from tradekit.analytics.metrics import stats_to_json

        if self.run_id is None:
            return
        store = self.trader.store
        store.write_equity(res.equity, run_id=self.run_id)
        summary = {k: v for k, v in res.summary.items() if k != "initial_equity"}
        store.finish_backtest_run(self.run_id, {**summary, "stats": stats_to_json(res.stats)})

    def _record_failure(self, exc: BaseException) -> None:
        if self.run_id is not None:
            self.trader.store.fail_backtest_run(self.run_id, exc)

    def show(self, res: Any) -> None:
        self.result = res
        self.status, self.bar.value = "done", 100
        summary = res.summary
        self.stats.value = pd.DataFrame(
            {"metric": list(summary), "value": [f"{v:,.4g}" if isinstance(v, float) else str(v)
                                                for v in summary.values()]})  # fmt: skip
        eq = res.equity
        self.eq_src.data = {"x": eq.index.tz_convert(None), "equity": eq.to_numpy()}
        cols = [c for c in ("symbol", "direction", "quantity", "entry_ts", "entry_price",
                            "exit_ts", "exit_price", "pnl", "r_multiple", "exit_reason")
                if c in res.trades]  # fmt: skip
        self.trades.value = res.trades[cols].tail(200) if cols else pd.DataFrame()
        self.status_md.object = (f"**done**: {summary.get('bars', 0):,} bars, "
                                 f"{len(res.trades)} trades")  # fmt: skip

    def view(self) -> pn.viewable.Viewable:
        form = pn.Row(
            pn.widgets.Select.from_param(self.param.dataset, width=130),
            pn.widgets.TextInput.from_param(self.param.symbol, width=90),
            pn.widgets.DatePicker.from_param(self.param.start, width=140),
            pn.widgets.DatePicker.from_param(self.param.end, width=140),
            pn.widgets.Select.from_param(self.param.config_version, width=170),
        )  # fmt: skip
        return pn.Column(
            form, pn.Row(self.run_btn, self.bar, self.status_md),
            pn.Row(self.stats, self.equity_pane, sizing_mode="stretch_width"),
            pn.pane.Markdown("#### Trades"), self.trades,
            sizing_mode="stretch_width", name="backtest",
        )  # fmt: skip

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
