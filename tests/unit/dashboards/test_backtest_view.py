"""The Backtest and A/B views: jobs in the worker thread, results shown and recorded in DuckDB."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tradekit.config import AlgorithmConfig
from tradekit.dashboards.components.ab_view import ABView
from tradekit.dashboards.components.backtest_view import (
    BacktestRequest,
    BacktestView,
    load_request_data,
    parse_walk_forward,
    run_backtest_job,
)
from tradekit.dashboards.components.base import Messages
from tradekit.errors import ConfigError, DataError
from tradekit.runtime.replay import replay_trader


@pytest.fixture
def trader() -> Iterator[Any]:
    tr = replay_trader("synthetic", days=1, history_days=30, seed=11, speed=None, new_run=True)
    try:
        yield tr
    finally:
        tr.store.close()


def _wait(view: Any, timeout: float = 120.0) -> None:
    t_end = time.monotonic() + timeout
    while view._future is not None:
        assert time.monotonic() < t_end, "job did not finish"
        time.sleep(0.05)
        view.poll()


def _runs(trader: Any, prefix: str) -> Any:
    return trader.store.query("SELECT run_id, status, params, results, error FROM backtest_runs "
                              "WHERE run_id LIKE ? ORDER BY created_at", [f"{prefix}-%"])  # fmt: skip


@pytest.mark.parametrize(
    ("name", "values", "folds", "why"),
    [
        ("nonsense.x", "5, 6", 3, "unknown config section"),
        ("decision.min_confidence", "5, 11", 3, "less than or equal to 10"),
        ("decision.min_confidence", "five, six", 3, "numbers separated by commas"),
        ("decision.min_confidence", "5", 3, "at least two"),
        ("decision.min_confidence", "5, nan", 3, "at least two finite"),
        ("decision.min_confidence", "5, 6", 1, "folds must be 2..10"),
    ],
)
def test_walk_forward_form_is_validated(name: str, values: str, folds: int, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_walk_forward(name, values, folds, AlgorithmConfig())


def test_job_runs_backtest_monte_carlo_and_walk_forward_with_monotone_progress() -> None:
    cfg = AlgorithmConfig()
    req = BacktestRequest("synthetic", "SPY", dt.date(2024, 3, 4), dt.date(2024, 3, 4), cfg)
    wf = parse_walk_forward("decision.min_confidence", "5, 7", 2, cfg)
    seen: list[int] = []
    out = run_backtest_job(req, lambda d, t: seen.append(100 * d // t), wf)
    assert out.result.summary["bars"] == 390
    assert seen == sorted(seen) and seen[-1] == 100
    mc = out.monte_carlo
    assert mc is not None and len(mc.samples) == 2_000
    assert mc.method == ("trades" if len(out.result.trades) >= 2 else "block")
    folds = out.walk_forward.folds
    assert len(folds) == 2 and set(folds["params"].map(lambda p: p["decision.min_confidence"])) <= {
        5.0,
        7.0,
    }
    assert folds["test_start"].iloc[0] > folds["train_end"].iloc[0]  # tested out of sample
    assert out.walk_forward.oos_equity.iloc[0] == pytest.approx(
        out.result.summary["initial_equity"], rel=0.01
    )


def test_view_shows_and_records_a_run_with_its_robustness(trader: Any) -> None:
    view = BacktestView(trader, Messages())
    view.end = dt.date(2024, 3, 4)  # one session: both dates are included
    view.walk_forward, view.wf_values, view.wf_folds = True, "5, 7", 2
    view.submit()
    _wait(view)
    assert view.status == "done" and not view.messages.view.objects
    assert "Monte Carlo" in view.mc_md.object and view.mc_pane.object is not None
    assert "Walk-forward" in view.wf_md.object and len(view.wf_table.value) == 2
    runs = _runs(trader, "ui")
    assert list(runs["status"]) == ["done"]
    results = str(runs["results"].iloc[0])
    assert "monte_carlo" in results and "walk_forward" in results and "sharpe" in results
    assert "walk_forward" in str(runs["params"].iloc[0])
    # a bad walk-forward value is refused at submit: a message, no run row, no job
    view.wf_values = "5, 99"
    view.run_btn.clicks += 1
    assert view._future is None and len(_runs(trader, "ui")) == 1
    assert "less than or equal to 10" in str(view.messages.view.objects[0].object)


def test_ab_view_compares_two_versions_and_records_the_verdict(trader: Any) -> None:
    b = trader.engine.config.with_overrides({"decision.min_confidence": 7.0, "version": "1.0.1"})
    trader.store.save_config(b)
    view = ABView(trader, Messages())
    view.end = dt.date(2024, 3, 12)  # 7 sessions: 6 daily returns to pair
    view.version_a, view.version_b = "active", "default v1.0.1"
    view.n_boot = 300
    view.submit()
    _wait(view)
    assert view.status == "done", view.status_md.object
    assert view.verdict_md.object.startswith("**Verdict** (6 paired days")
    assert any(w in view.verdict_md.object for w in ("is better", "cannot tell"))
    m = view.metrics.value
    assert list(m.columns) == ["metric", "A: active", "B: default v1.0.1", "B - A"]
    assert set(view.intervals.value["difference (B - A)"]) == {
        "sharpe",
        "mean_daily_return",
        "mean_r",
    }
    runs = _runs(trader, "ab")
    assert list(runs["status"]) == ["done"] and "verdict" in str(runs["results"].iloc[0])


def test_ab_view_refuses_same_versions_and_reports_too_few_days(trader: Any) -> None:
    view = ABView(trader, Messages())
    view.version_a = view.version_b = "active"
    view.run_btn.clicks += 1
    assert view._future is None and "two different versions" in str(
        view.messages.view.objects[0].object
    )
    trader.store.save_config(trader.engine.config.with_overrides({"version": "1.0.2"}))
    view.refresh_versions()
    view.version_b = "default v1.0.2"
    view.end = dt.date(2024, 3, 5)  # two sessions: too few to pair
    view.submit()
    _wait(view)
    assert view.status == "failed" and "paired trading days" in str(
        view.messages.view.objects[0].object
    )
    runs = _runs(trader, "ab")
    assert list(runs["status"]) == ["failed"] and "paired trading days" in runs["error"].iloc[0]


def test_a_later_successful_run_clears_the_earlier_failure_only(trader: Any) -> None:
    messages = Messages()
    view = BacktestView(trader, messages)
    messages.show("an operator message", "warning")
    view.dataset = "aapl"  # daily bars: too few in one day, the run fails
    view.end = dt.date(2024, 3, 4)
    view.submit()
    _wait(view)
    assert view.status == "failed"
    texts = [str(a.object) for a in messages.view.objects]
    assert len(texts) == 2 and "backtest failed" in texts[0]
    view.dataset = "synthetic"
    view.submit()
    _wait(view)
    assert view.status == "done"
    assert [str(a.object) for a in messages.view.objects] == ["an operator message"]


def test_keyed_messages_replace_each_other() -> None:
    m = Messages()
    m.show("first failure", key="job")
    m.show("other")
    m.show("second failure", key="job")
    assert [str(a.object) for a in m.view.objects] == ["second failure", "other"]
    m.clear(key="job")
    assert [str(a.object) for a in m.view.objects] == ["other"]
    m.clear(key="missing")
    m.clear()
    assert m.view.objects == []


def _request(dataset: str, start: dt.date, end: dt.date) -> BacktestRequest:
    return BacktestRequest(dataset, "SPY", start, end, AlgorithmConfig())


@pytest.mark.parametrize(
    ("start", "end", "sessions"),
    [
        (dt.date(2024, 3, 4), dt.date(2024, 3, 4), ["2024-03-04"]),  # one day: start == end
        (dt.date(2024, 3, 4), dt.date(2024, 3, 6), ["2024-03-04", "2024-03-05", "2024-03-06"]),
        # Good Friday (29 March) closed, a weekend, then Monday: two sessions, none past the end
        (dt.date(2024, 3, 28), dt.date(2024, 4, 1), ["2024-03-28", "2024-04-01"]),
        (dt.date(2024, 3, 2), dt.date(2024, 3, 4), ["2024-03-04"]),  # starting on a Saturday
    ],
)
def test_the_form_range_includes_both_dates_and_only_nyse_sessions(
    start: dt.date, end: dt.date, sessions: list[str]
) -> None:
    bars, symbol, timeframe, _ = load_request_data(_request("synthetic", start, end))
    days = sorted({str(d) for d in bars.index.tz_convert("America/New_York").date})
    assert days == sessions and len(bars) == 390 * len(sessions)
    assert (symbol, timeframe) == ("SPY", "1min")


def test_the_form_range_of_shipped_daily_bars_includes_the_end_date() -> None:
    bars, symbol, timeframe, _ = load_request_data(
        _request("aapl", dt.date(2012, 1, 3), dt.date(2012, 3, 30))
    )
    assert (symbol, timeframe) == ("AAPL", "1D")
    assert bars.index[0].date() == dt.date(2012, 1, 3) and bars.index[-1].date() == dt.date(
        2012, 3, 30
    )


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        (dt.date(2024, 3, 6), dt.date(2024, 3, 5), "before start"),
        (dt.date(2024, 3, 2), dt.date(2024, 3, 3), "no NYSE session"),  # a weekend
    ],
)
def test_an_empty_form_range_is_a_data_error(start: dt.date, end: dt.date, why: str) -> None:
    with pytest.raises(DataError, match=why):
        load_request_data(_request("synthetic", start, end))
