"""``ABView``: compare two algorithm versions on the same bars from the Control Center.

Both versions run through the same engine on the bars of the form (see
:func:`tradekit.research.compare.compare`, a paired bootstrap over trading days) in the worker
thread; the view then shows the side-by-side metrics, the confidence intervals of the
differences (B − A), the gate pass rates and the verdict in plain words. Every comparison is a
``backtest_runs`` row (id ``ab-…``, filed under B's config) with the figures as results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import panel as pn
import param

from tradekit.dashboards.components.backtest_view import (
    BacktestRequest,
    load_request_data,
    request_config,
)
from tradekit.dashboards.components.base import Messages, TraderLike
from tradekit.dashboards.components.worker_run import WorkerRun
from tradekit.errors import ConfigError

__all__ = ["ABView", "run_ab_job"]


def run_ab_job(req_a: BacktestRequest, req_b: BacktestRequest, n_boot: int, seed: int,
               progress: Callable[[int, int], None]) -> Any:  # fmt: skip
    """:func:`~tradekit.research.compare.compare` of the two requests' configs on A's bars
    (the requests differ only in their config), in the calling thread."""
    from tradekit.research.compare import compare

    bars, symbol, timeframe, market = load_request_data(req_a)
    progress(10, 100)
    a = request_config(req_a, symbol, timeframe)
    b = request_config(req_b, symbol, timeframe)
    out = compare(bars, a, b, market=market, n_boot=n_boot, seed=seed)
    progress(100, 100)
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:,.4g}" if isinstance(v, float) else str(v)


class ABView(WorkerRun):
    """Two versions → side-by-side metrics, intervals and the verdict."""

    version_a: param.Selector[str] = param.Selector(default="active", objects=["active"],
                                                    label="version A")  # fmt: skip
    version_b: param.Selector[str] = param.Selector(default="active", objects=["active"],
                                                    label="version B")  # fmt: skip
    n_boot = param.Integer(default=1_000, bounds=(100, 20_000), label="bootstrap resamples")
    seed = param.Integer(default=0, bounds=(0, None))
    # the paired bootstrap needs trading days: two weeks of synthetic sessions by default
    start = param.CalendarDate(default=dt.date(2024, 3, 4))
    end = param.CalendarDate(default=dt.date(2024, 3, 15))

    run_prefix = "ab"
    action = "Compare"

    def __init__(self, trader: TraderLike, messages: Messages, **params: Any) -> None:
        super().__init__(trader, messages, **params)
        self.result: Any = None
        self.verdict_md = pn.pane.Markdown("", css_classes=["tk-ab-verdict"])
        self.metrics = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                            name="ab-metrics", width=520)  # fmt: skip
        self.intervals = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                              name="ab-intervals", width=620)  # fmt: skip
        self.gates = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                          name="ab-gates", width=520)  # fmt: skip
        self.refresh_versions()

    def refresh_versions(self) -> None:
        labels = self.version_labels()
        self.param.version_a.objects = labels
        self.param.version_b.objects = labels
        if len(labels) > 1 and self.version_b == "active":
            self.version_b = labels[-1]

    def _job(self) -> tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any], Any]:
        if self.version_a == self.version_b:
            raise ConfigError("pick two different versions to compare")
        sym = self.symbol.strip().upper() or "SPY"
        a, b = self.config_of(self.version_a), self.config_of(self.version_b)
        req_a = BacktestRequest(self.dataset, sym, self.start, self.end, a)
        req_b = BacktestRequest(self.dataset, sym, self.start, self.end, b)
        params = {"a": self.version_a, "b": self.version_b, "dataset": self.dataset,
                  "symbol": sym, "start": str(self.start), "end": str(self.end),
                  "n_boot": self.n_boot, "seed": self.seed}  # fmt: skip
        label = f"A/B {self.version_a} vs {self.version_b} on {self.dataset} {sym} {self.start}..{self.end}"
        return label, run_ab_job, (req_a, req_b, self.n_boot, self.seed, self.report), params, b

    def _finished(self, value: Any) -> dict[str, Any]:
        ab = value
        self.result = ab
        self.verdict_md.object = (
            f"**Verdict** ({ab.days} paired days, {ab.level:.0%}): {ab.verdict}"
        )
        m = ab.metrics.reset_index(names="metric")
        m.columns = ["metric", f"A: {self.version_a}", f"B: {self.version_b}", "B - A"]
        self.metrics.value = m.map(_fmt)
        self.intervals.value = ab.intervals.reset_index(names="difference (B - A)").map(_fmt)
        self.gates.value = ab.gates.reset_index().map(_fmt)
        self.status_md.object = f"**done**: {self.version_a} vs {self.version_b}"
        return ab.to_dict()

    def view(self) -> pn.viewable.Viewable:
        form = pn.Row(*self.form_widgets())
        versions = pn.Row(
            pn.widgets.Select.from_param(self.param.version_a, width=200),
            pn.widgets.Select.from_param(self.param.version_b, width=200),
            pn.widgets.IntInput.from_param(self.param.n_boot, width=150),
            pn.widgets.IntInput.from_param(self.param.seed, width=90),
        )  # fmt: skip
        return pn.Column(
            form, versions, pn.Row(self.run_btn, self.bar, self.status_md), self.verdict_md,
            pn.Row(self.metrics, pn.Column(self.intervals, self.gates)),
            sizing_mode="stretch_width", name="ab",
        )  # fmt: skip
