"""Walk-forward: choices made on train windows only; a look-ahead parameter is not chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradekit.data.datasets import load
from tradekit.errors import ConfigError
from tradekit.research.splits import walk_forward_splits
from tradekit.research.sweep import grid
from tradekit.research.walkforward import walk_forward
from tradekit.strategy import SmaCross

BARS = load("aapl").iloc[:1200]
SPLITS = walk_forward_splits(BARS, 4, train_ratio=2.0)
FUTURE = BARS.index[SPLITS[-1].test]  # the last test window: the future of every choice
SEEN: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []


class _Result:
    def __init__(self, equity: pd.Series) -> None:
        self.equity = equity
        self.stats = {"total_return": float(equity.iloc[-1] / equity.iloc[0] - 1.0)}


def _planted(bars: pd.DataFrame, mode: str) -> _Result:
    """``honest`` earns 0.05 % a bar everywhere; ``oracle`` earns 1 % a bar in the last test
    window and loses 0.05 % a bar before it: over the whole sample it wins, but only someone
    who had seen that window would choose it."""
    SEEN.append((mode, bars.index[0], bars.index[-1]))
    if mode == "honest":
        r = np.full(len(bars), 0.0005)
    else:
        r = np.where(bars.index.isin(FUTURE), 0.01, -0.0005)
    r = r + np.sin(np.arange(len(bars))) * 1e-4  # some variance, so Sharpe is finite
    return _Result(pd.Series(1_000.0 * np.cumprod(1.0 + r), index=bars.index))


def test_a_parameter_that_wins_only_by_peeking_is_not_selected() -> None:
    SEEN.clear()
    pts = [{"mode": "honest"}, {"mode": "oracle"}]
    full = {p["mode"]: _planted(BARS, p["mode"]).equity for p in pts}
    assert full["oracle"].iloc[-1] > full["honest"].iloc[-1]  # in hindsight the oracle wins
    wf = walk_forward(BARS, pts, SPLITS, run=_planted, executor="serial", progress=False)
    assert [p["mode"] for p in wf.folds["params"]] == ["honest"] * len(SPLITS)
    assert wf.stability == 1.0
    for f in SPLITS:  # no train evaluation ever saw a bar of its fold's test window
        train_calls = [s for s in SEEN if s[2] == BARS.index[f.train.stop - 1]]
        assert train_calls and all(end < BARS.index[f.test.start] for _, _, end in train_calls)


def test_oos_equity_is_chained_over_the_test_windows() -> None:
    wf = walk_forward(BARS, grid(fast=[5, 10], slow=[40]), SPLITS, strategy=SmaCross,
                      executor="serial", progress=False, metric="total_return")  # fmt: skip
    eq = wf.oos_equity
    # marks are stamped at the daily bar's close, the bars at the session open: same days
    assert eq.index[0].date() == BARS.index[SPLITS[0].test.start].date()
    assert eq.index[-1].date() == BARS.index[SPLITS[-1].test.stop - 1].date()
    assert eq.index.is_unique and eq.index.is_monotonic_increasing
    total = np.prod(1.0 + wf.folds["oos_return"].to_numpy()) - 1.0
    assert wf.oos_return == pytest.approx(total, rel=1e-9)
    assert len(wf.trials) == 2 * len(SPLITS) and set(wf.summary()) >= {"decay", "stability"}
    assert wf.plot() is not None


def test_a_fold_where_every_point_fails_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="fold 0"):
        walk_forward(BARS, [{"decision.min_confidence": "x"}], SPLITS, executor="serial",
                     progress=False)  # fmt: skip
