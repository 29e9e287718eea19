"""``BacktestView``: pick a data set, range, symbol and config version, run a backtest in a
worker thread with a progress bar, then show its stats, equity curve, trades, a Monte Carlo fan
chart and — when asked — a walk-forward out-of-sample equity curve.

The job (:func:`run_backtest_job`) runs off the server loop (see
:class:`~tradekit.dashboards.components.worker_run.WorkerRun`); progress is the count of
``bars.*`` events of the run's own bus over the bars to replay, then the finished walk-forward
runs. Monte Carlo resamples the closed trades (``"trades"``, 2,000 paths, seed 0) or, with
fewer than two trades, the per-bar returns of the equity curve (``"block"``). The walk-forward
optimises one dotted config parameter over the listed values on rolling train windows
(selection by Sharpe) and chains the test windows. A failed run (bad range, empty data, a bad
parameter) is a message, not a dead page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from tradekit.config import AlgorithmConfig
from tradekit.dashboards.components.base import Messages, TraderLike
from tradekit.dashboards.components.worker_run import WorkerRun
from tradekit.errors import ConfigError, DataError

__all__ = [
    "BacktestOutcome",
    "BacktestRequest",
    "BacktestView",
    "WalkForwardSpec",
    "load_request_data",
    "parse_walk_forward",
    "run_backtest_job",
    "run_request",
]

#: Monte Carlo paths resampled after every UI backtest, and the paths kept for the fan.
MC_PATHS, MC_KEEP = 2_000, 500


@dataclass(frozen=True)
class BacktestRequest:
    """What to backtest: ``dataset`` is ``"synthetic"`` or a shipped data set name."""

    dataset: str
    symbol: str
    start: dt.date
    end: dt.date
    config: AlgorithmConfig


@dataclass(frozen=True)
class WalkForwardSpec:
    """One config parameter (dotted path) tried at ``values`` over ``folds`` test windows."""

    param: str
    values: tuple[float, ...]
    folds: int

    def points(self) -> list[dict[str, float]]:
        return [{self.param: v} for v in self.values]


@dataclass
class BacktestOutcome:
    """What the worker returns: the backtest, its Monte Carlo and its walk-forward (if any)."""

    result: Any
    monte_carlo: Any = None
    walk_forward: Any = None
    notes: list[str] = field(default_factory=list)


def parse_walk_forward(
    name: str, values: str, folds: int, config: AlgorithmConfig
) -> WalkForwardSpec:
    """A validated :class:`WalkForwardSpec` from the form's text.

    Raises
    ------
    ConfigError
        Not a config parameter, a value that is not a number or that the config refuses, fewer
        than two values, or folds outside 2..10.
    """
    name = name.strip()
    try:
        vals = tuple(float(v) for v in values.replace(";", ",").split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"walk-forward values must be numbers separated by commas, got "
                          f"{values!r}") from None  # fmt: skip
    if len(vals) < 2 or not all(math.isfinite(v) for v in vals):
        raise ConfigError("walk-forward needs at least two finite values to choose between")
    if not 2 <= folds <= 10:
        raise ConfigError(f"walk-forward folds must be 2..10, got {folds}")
    for v in vals:
        try:
            config.with_overrides({name: v})
        except Exception as exc:
            first = str(exc).strip().splitlines()
            raise ConfigError(f"walk-forward {name}={v:g}: {first[-1] if first else exc}") from None
    return WalkForwardSpec(name, vals, folds)


def load_request_data(req: BacktestRequest) -> tuple[pd.DataFrame, str, str, Any]:
    """Bars, symbol, timeframe and market view of a request: the dates ``start`` to ``end``,
    both included (the form reads as a closed range: 4 to 6 March is three sessions).

    Raises
    ------
    DataError
        ``end`` before ``start``, or a range with no session (synthetic) or too few bars.
    """
    from tradekit.data import datasets
    from tradekit.data.calendar import get_calendar

    if req.end < req.start:
        raise DataError(f"empty range: end {req.end} is before start {req.start}",
                        rule="range")  # fmt: skip
    if req.dataset == "synthetic":
        sessions = get_calendar("XNYS").sessions(req.start, req.end)
        days = len(sessions)
        if days == 0:
            raise DataError(f"no NYSE session from {req.start} to {req.end}", rule="range")
        if days > 60:
            raise DataError(f"{days} synthetic sessions requested; at most 60 in the UI",
                            rule="range")  # fmt: skip
        first = sessions.index[0].date()
        bars = datasets.synthetic_intraday(req.symbol, start=str(first), days=days, seed=3)
        vix = datasets.synthetic_vix(bars, per="day")
        vix_ns = dict(zip(vix.index.normalize().as_unit("ns").asi8.tolist(),
                          vix.to_numpy(float).tolist(), strict=True))  # fmt: skip

        def market(ts_ns: int) -> float | None:
            day = pd.Timestamp(ts_ns, unit="ns", tz="UTC").normalize().value
            return vix_ns.get(day)

        return bars, req.symbol, "1min", market
    bars = datasets.load(req.dataset)
    lo = pd.Timestamp(req.start, tz="UTC")
    hi = pd.Timestamp(req.end, tz="UTC") + pd.Timedelta(days=1)  # the end date included
    bars = bars[(bars.index >= lo) & (bars.index < hi)]
    if len(bars) < 30:
        raise DataError(f"{len(bars)} bars of {req.dataset} in {req.start}..{req.end}; "
                        "need at least 30", rule="range")  # fmt: skip
    return bars, req.dataset.split("_")[0].upper(), "1D", _constant_vix


def _constant_vix(_ts_ns: int) -> float:
    """The market view of shipped daily data: a VIX of 18 (no VIX series ships with it)."""
    return 18.0


def request_config(req: BacktestRequest, symbol: str, timeframe: str) -> AlgorithmConfig:
    return req.config.with_overrides({"symbols": [symbol], "timeframe": timeframe})


def run_request(req: BacktestRequest, progress: Callable[[int, int], None]) -> Any:
    """Run ``req`` (in the calling thread), reporting ``progress(done, total)`` per bar."""
    from tradekit.runtime.backtest import run_backtest

    bars, symbol, timeframe, market = load_request_data(req)
    return run_backtest(
        bars, request_config(req, symbol, timeframe), market=market, progress=progress
    )


def _monte_carlo(res: Any) -> tuple[Any, str]:
    from tradekit.research.montecarlo import monte_carlo

    if len(res.trades) >= 2:
        return monte_carlo(res, method="trades", n=MC_PATHS, seed=0, keep_paths=MC_KEEP), ""
    why = f"{len(res.trades)} closed trades: Monte Carlo resamples the bars' returns instead"
    return monte_carlo(res, method="block", n=MC_PATHS, seed=0, keep_paths=MC_KEEP), why


def run_backtest_job(req: BacktestRequest, progress: Callable[[int, int], None],
                     wf: WalkForwardSpec | None = None) -> BacktestOutcome:  # fmt: skip
    """The backtest of ``req``, its Monte Carlo and (with ``wf``) its walk-forward, in the
    calling thread. Progress is 0..100: the backtest's bars, then the walk-forward's runs."""
    from tradekit.research.splits import walk_forward_splits
    from tradekit.research.walkforward import walk_forward

    share = 50 if wf is not None else 100
    res = run_request(req, lambda d, t: progress(share * d // max(t, 1), 100))
    out = BacktestOutcome(res)
    try:
        out.monte_carlo, note = _monte_carlo(res)
        if note:
            out.notes.append(note)
    except (DataError, ConfigError) as exc:
        out.notes.append(f"no Monte Carlo: {exc}")
    if wf is not None:
        bars, symbol, timeframe, market = load_request_data(req)
        splits = walk_forward_splits(bars, wf.folds, train_ratio=2.0)
        out.walk_forward = walk_forward(
            bars, wf.points(), splits, config=request_config(req, symbol, timeframe),
            market=market, executor="serial",
            progress=lambda d, t, _o: progress(50 + 50 * d // max(t, 1), 100),
        )  # fmt: skip
    progress(100, 100)
    return out


def _table(frame: pd.DataFrame, name: str, **kw: Any) -> pn.widgets.Tabulator:
    return pn.widgets.Tabulator(frame, disabled=True, show_index=False, name=name, **kw)


def _fmt(v: Any) -> str:
    return f"{v:,.4g}" if isinstance(v, float) else str(v)


class BacktestView(WorkerRun):
    """Backtest form, progress bar and results (stats, equity, trades, robustness)."""

    config_version: param.Selector[str] = param.Selector(default="active", objects=["active"])
    walk_forward = param.Boolean(default=False, label="walk-forward")
    wf_param = param.String(default="decision.min_confidence", label="parameter")
    wf_values = param.String(default="5, 6, 7", label="values")
    wf_folds = param.Integer(default=3, bounds=(2, 10), label="folds")

    run_prefix = "ui"
    action = "Run backtest"

    def __init__(self, trader: TraderLike, messages: Messages, **params: Any) -> None:
        super().__init__(trader, messages, **params)
        self.result: Any = None
        self.outcome: BacktestOutcome | None = None
        self.stats = _table(pd.DataFrame(), "backtest-stats", width=320)
        self.trades = _table(pd.DataFrame(), "backtest-trades", sizing_mode="stretch_width",
                             height=250)  # fmt: skip
        self.eq_src = ColumnDataSource({"x": [], "equity": []})
        fig = figure(x_axis_type="datetime", height=240, sizing_mode="stretch_width",
                     title="backtest equity", tools="xpan,xwheel_zoom,reset")  # fmt: skip
        fig.line(x="x", y="equity", source=self.eq_src)
        self.equity_pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")
        self.mc_md = pn.pane.Markdown("", css_classes=["tk-montecarlo"])
        self.mc_table = _table(pd.DataFrame(), "montecarlo-summary", sizing_mode="stretch_width")
        self.mc_pane = pn.pane.Bokeh(None, sizing_mode="stretch_width")
        self.wf_md = pn.pane.Markdown("", css_classes=["tk-walkforward"])
        self.wf_table = _table(pd.DataFrame(), "walkforward-folds", sizing_mode="stretch_width")
        self.wf_pane = pn.pane.Bokeh(None, sizing_mode="stretch_width")
        self.refresh_versions()

    def refresh_versions(self) -> None:
        self.param.config_version.objects = self.version_labels()

    def _job(self) -> tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any], Any]:
        cfg = self.config_of(self.config_version)
        req = BacktestRequest(self.dataset, self.symbol.strip().upper() or "SPY",
                              self.start, self.end, cfg)  # fmt: skip
        wf = (parse_walk_forward(self.wf_param, self.wf_values, self.wf_folds, cfg)
              if self.walk_forward else None)  # fmt: skip
        params: dict[str, Any] = {"dataset": req.dataset, "symbol": req.symbol,
                                  "start": str(req.start), "end": str(req.end),
                                  "config_version": self.config_version}  # fmt: skip
        if wf is not None:
            params["walk_forward"] = {"param": wf.param, "values": list(wf.values),
                                      "folds": wf.folds}  # fmt: skip
        label = f"{req.dataset} {req.symbol} {req.start}..{req.end}"
        return label, run_backtest_job, (req, self.report, wf), params, cfg

    def _finished(self, value: Any) -> dict[str, Any]:
        from tradekit.analytics.metrics import stats_to_json

        out: BacktestOutcome = value
        res = out.result
        self.outcome = out
        self.show(res)
        if self.run_id is not None:
            self.trader.store.write_equity(res.equity, run_id=self.run_id)
        results: dict[str, Any] = {k: v for k, v in res.summary.items() if k != "initial_equity"}
        results["stats"] = stats_to_json(res.stats)
        self._show_monte_carlo(out)
        if out.monte_carlo is not None:
            mc = out.monte_carlo
            results["monte_carlo"] = {"method": mc.method, "paths": len(mc.samples),
                                      "prob_ruin": mc.prob_ruin,
                                      "final_equity_q05": float(mc.samples["final_equity"].quantile(0.05)),
                                      "final_equity_q95": float(mc.samples["final_equity"].quantile(0.95))}  # fmt: skip
        self._show_walk_forward(out.walk_forward)
        if out.walk_forward is not None:
            results["walk_forward"] = out.walk_forward.summary()
        return results

    def show(self, res: Any) -> None:
        self.result = res
        summary = res.summary
        self.stats.value = pd.DataFrame({"metric": list(summary),
                                         "value": [_fmt(v) for v in summary.values()]})  # fmt: skip
        eq = res.equity
        self.eq_src.data = {"x": eq.index.tz_convert(None), "equity": eq.to_numpy()}
        cols = [c for c in ("symbol", "direction", "quantity", "entry_ts", "entry_price",
                            "exit_ts", "exit_price", "pnl", "r_multiple", "exit_reason")
                if c in res.trades]  # fmt: skip
        self.trades.value = res.trades[cols].tail(200) if cols else pd.DataFrame()
        self.status_md.object = (f"**done**: {summary.get('bars', 0):,} bars, "
                                 f"{len(res.trades)} trades")  # fmt: skip

    def _show_monte_carlo(self, out: BacktestOutcome) -> None:
        mc = out.monte_carlo
        notes = " ".join(out.notes)
        if mc is None:
            self.mc_md.object, self.mc_table.value, self.mc_pane.object = (
                notes,
                pd.DataFrame(),
                None,
            )
            return
        self.mc_md.object = (f"**Monte Carlo** ({mc.method}, {len(mc.samples):,} paths): "
                             f"probability of ruin {mc.prob_ruin:.1%}. {notes}")  # fmt: skip
        summ = mc.summary().reset_index(names="metric")
        self.mc_table.value = summ.map(_fmt)
        fig = mc.plot().children[0]
        fig.sizing_mode, fig.height = "stretch_width", 260
        self.mc_pane.object = fig

    def _show_walk_forward(self, wf: Any) -> None:
        if wf is None:
            self.wf_md.object, self.wf_table.value, self.wf_pane.object = "", pd.DataFrame(), None
            return
        s = wf.summary()
        self.wf_md.object = (f"**Walk-forward** ({s['folds']} folds, by {s['metric']}): OOS "
                             f"return {s['oos_return']:.2%}, stability {s['stability']:.0%}, "
                             f"decay {s['decay']:.2f}")  # fmt: skip
        folds = wf.folds.copy()
        folds["params"] = folds["params"].map(
            lambda p: ", ".join(f"{k}={v:g}" for k, v in p.items())
        )
        self.wf_table.value = folds.map(_fmt)
        fig = wf.plot()
        fig.sizing_mode, fig.height = "stretch_width", 240
        self.wf_pane.object = fig

    def view(self) -> pn.viewable.Viewable:
        form = pn.Row(*self.form_widgets(),
                      pn.widgets.Select.from_param(self.param.config_version, width=170))  # fmt: skip
        wf_form = pn.Row(
            pn.widgets.Checkbox.from_param(self.param.walk_forward, width=110,
                                            css_classes=["tk-wf-toggle"]),
            pn.widgets.TextInput.from_param(self.param.wf_param, width=200),
            pn.widgets.TextInput.from_param(self.param.wf_values, width=130),
            pn.widgets.IntInput.from_param(self.param.wf_folds, width=80),
        )  # fmt: skip
        return pn.Column(
            form, wf_form, pn.Row(self.run_btn, self.bar, self.status_md),
            pn.Row(self.stats, self.equity_pane, sizing_mode="stretch_width"),
            pn.pane.Markdown("#### Trades"), self.trades,
            pn.pane.Markdown("#### Robustness"), self.mc_md, self.mc_pane, self.mc_table,
            self.wf_md, self.wf_pane, self.wf_table,
            sizing_mode="stretch_width", name="backtest",
        )  # fmt: skip
