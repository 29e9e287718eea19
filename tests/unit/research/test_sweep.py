"""Sweeps: points, failures as rows, the same table serially / on a pool / on Dask, records."""

from __future__ import annotations

import pandas as pd
import pytest

from tradekit.data.datasets import load
from tradekit.errors import ConfigError
from tradekit.research.sweep import grid, random_points, sweep
from tradekit.store import Store
from tradekit.strategy import SmaCross


def _final_return(bars: pd.DataFrame, scale: float, fail: bool = False) -> object:
    """A plain run function: a result with an equity curve (fails on request)."""
    if fail:
        raise ValueError("planted failure")

    class Result:
        def __init__(self) -> None:
            self.equity = bars["close"] / bars["close"].iloc[0] * 1_000.0 * scale
            self.stats = {"total_return": float(self.equity.iloc[-1] / self.equity.iloc[0] - 1)}

    return Result()


def test_grid_is_every_combination_in_order() -> None:
    assert grid(a=[1, 2], b=["x"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert len(grid(**{"decision.max_vix": [20, 25, 30], "fast": [5, 10]})) == 6
    with pytest.raises(ConfigError):
        grid(a=[])
    with pytest.raises(ConfigError):
        grid()


def test_random_points_are_seeded_and_inside_the_space() -> None:
    space = {"fast": range(3, 20), "mode": ["a", "b"], "x": lambda r: r.uniform(0.5, 2.0)}
    p1, p2 = random_points(space, 25, seed=7), random_points(space, 25, seed=7)
    assert p1 == p2 and p1 != random_points(space, 25, seed=8)
    assert all(3 <= p["fast"] < 20 and p["mode"] in "ab" and 0.5 <= p["x"] <= 2.0 for p in p1)
    with pytest.raises(ConfigError):
        random_points({"bad": 3}, 2)


def test_a_failed_point_is_a_row_and_the_sweep_goes_on() -> None:
    bars = load("aapl").iloc[:200]
    pts = [{"scale": 1.0}, {"scale": 2.0, "fail": True}, {"scale": 3.0}]
    t = sweep(bars, pts, run=_final_return, executor="serial", progress=False)
    assert list(t["status"]) == ["done", "failed", "done"]
    assert "planted failure" in t.loc[1, "error"] and pd.isna(t.loc[0, "error"])
    assert t.loc[0, "total_return"] == pytest.approx(t.loc[2, "total_return"])


def test_process_pool_gives_the_serial_table(tmp_path) -> None:
    bars = load("aapl").iloc[:700]
    pts = grid(fast=[5, 10], slow=[30, 50])
    serial = sweep(bars, pts, strategy=SmaCross, executor="serial", progress=False)
    pooled = sweep(bars, pts, strategy=SmaCross, max_workers=2, progress=False)
    cols = ["fast", "slow", "status", "total_return", "sharpe", "trades"]
    pd.testing.assert_frame_equal(serial[cols], pooled[cols])
    assert (serial["status"] == "done").all() and serial["trades"].sum() > 0


def test_dask_local_cluster_gives_the_serial_table() -> None:
    distributed = pytest.importorskip("distributed")
    bars = load("aapl").iloc[:700]
    pts = grid(fast=[5, 10], slow=[40])
    serial = sweep(bars, pts, strategy=SmaCross, executor="serial", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster,  \
            distributed.Client(cluster) as client:  # fmt: skip
        seen: list[int] = []
        on_dask = sweep(bars, pts, strategy=SmaCross, client=client,
                        progress=lambda done, total, o: seen.append(done))  # fmt: skip
    cols = ["fast", "slow", "status", "total_return", "trades"]
    pd.testing.assert_frame_equal(serial[cols], on_dask[cols])
    assert seen == [1, 2]


def test_each_point_is_a_backtest_runs_row() -> None:
    bars = load("aapl").iloc[:400]
    pts = [{"decision.min_confidence": 5.0}, {"decision.min_confidence": "lots"}]
    with Store.open(":memory:") as store:
        t = sweep(bars, pts, executor="serial", progress=False, store=store, name="conf",
                  data_label="aapl")  # fmt: skip
        runs = store.query("SELECT run_id, status, error, data_label, config_id FROM backtest_runs "
                           "ORDER BY run_id")  # fmt: skip
        again = sweep(bars, pts[:1], executor="serial", progress=False, store=store, name="conf")
    assert list(again["run_id"]) == ["conf-2-p0000"]
    assert list(t["status"]) == ["done", "failed"]
    assert list(runs["run_id"]) == ["conf-p0000", "conf-p0001"] == list(t["run_id"])
    assert list(runs["status"]) == ["done", "failed"] and "min_confidence" in runs["error"][1]
    assert (runs["data_label"] == "aapl").all() and runs["config_id"].notna().all()


def test_sort_by_an_unknown_metric_is_a_clear_error() -> None:
    bars = load("aapl").iloc[:200]
    with pytest.raises(ConfigError, match="no metric"):
        sweep(bars, [{"scale": 1.0}], run=_final_return, executor="serial", progress=False,
              sort_by="nope")  # fmt: skip
