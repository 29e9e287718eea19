"""Walk-forward optimisation: choose parameters on each train window, judge them only on the
test window that follows, and stitch the out-of-sample (OOS) results.

For every :class:`~tradekit.research.splits.Split` the grid is evaluated on the train bars
only; the point with the best ``metric`` there (ties: the first point) is then run on the test
bars, which the choice never saw. The OOS equity is the test windows' returns chained in order
(each window starts from the previous window's final equity), so it is what trading the chosen
parameters would have earned. Reported as well: how stable the choice is across folds and how
much of the in-sample (IS) figure survives out of sample (the *decay*).

Examples
--------
>>> from tradekit.data.datasets import load
>>> from tradekit.research.splits import walk_forward_splits
>>> from tradekit.research.sweep import grid
>>> from tradekit.research.walkforward import walk_forward
>>> from tradekit.strategy import SmaCross
>>> bars = load("aapl").iloc[:1500]
>>> wf = walk_forward(bars, grid(fast=[5, 10], slow=[40]), walk_forward_splits(bars, 3),
...                   strategy=SmaCross, executor="serial", progress=False)
>>> len(wf.folds), wf.oos_equity.index.is_monotonic_increasing
(3, True)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.errors import ConfigError
from tradekit.research._progress import Progress, ProgressArg
from tradekit.research._runner import Outcome, Target, evaluate, run_points
from tradekit.research.splits import Split

__all__ = ["WalkForwardResult", "walk_forward"]


@dataclass
class WalkForwardResult:
    """Folds, stitched OOS equity and the robustness figures of one walk-forward run.

    Attributes
    ----------
    folds:
        One row per fold: train/test start and end, the chosen parameters, the IS and OOS
        ``metric``, and the OOS return of the test window.
    trials:
        Every (fold, point) train evaluation: the grid's IS landscape per fold.
    oos_equity:
        Test-window equity chained across folds (currency, starts at the first window's
        initial equity).
    metric:
        The selection metric (higher is better).
    """

    folds: pd.DataFrame
    trials: pd.DataFrame
    oos_equity: pd.Series
    metric: str

    @property
    def stability(self) -> float:
        """Share of folds that chose the most common parameter set (1.0: always the same)."""
        keys = [repr(sorted(p.items())) for p in self.folds["params"]]
        return Counter(keys).most_common(1)[0][1] / len(keys) if keys else math.nan

    @property
    def decay(self) -> float:
        """Mean OOS metric over mean IS metric of the chosen points (1.0: no decay; near 0 or
        negative: the in-sample edge did not survive)."""
        is_m = float(np.nanmean(self.folds[f"is_{self.metric}"]))
        oos_m = float(np.nanmean(self.folds[f"oos_{self.metric}"]))
        return oos_m / is_m if is_m and math.isfinite(is_m) else math.nan

    @property
    def oos_return(self) -> float:
        """Total return of the stitched OOS equity (fraction)."""
        eq = self.oos_equity
        return float(eq.iloc[-1] / eq.iloc[0] - 1.0) if len(eq) > 1 else math.nan

    def summary(self) -> dict[str, Any]:
        return {"folds": len(self.folds), "metric": self.metric, "oos_return": self.oos_return,
                "stability": self.stability, "decay": self.decay}  # fmt: skip

    def plot(self) -> Any:
        """Bokeh figure of the stitched OOS equity with the fold boundaries."""
        from bokeh.models import Span  # type: ignore[attr-defined]

        from tradekit.research._plots import equity_figure

        fig = equity_figure(self.oos_equity, title=f"walk-forward OOS equity ({self.metric})")
        for ts in self.folds["test_start"].iloc[1:]:
            x = ts.tz_convert(None) if getattr(ts, "tzinfo", None) else ts
            fig.add_layout(Span(location=x, dimension="height", line_dash="dashed",
                                line_alpha=0.4))  # fmt: skip
        return fig


def _best(outcomes: Sequence[Outcome], metric: str) -> Outcome | None:
    done = [o for o in outcomes if o.status == "done" and math.isfinite(o.metrics.get(metric,
                                                                                    math.nan))]  # fmt: skip
    if not done:
        return None
    return max(sorted(done, key=lambda o: o.index), key=lambda o: o.metrics[metric])


def walk_forward(
    bars: pd.DataFrame,
    points: Sequence[Mapping[str, Any]],
    splits: Sequence[Split],
    *,
    metric: str = "sharpe",
    config: AlgorithmConfig | None = None,
    strategy: Callable[..., Any] | None = None,
    run: Callable[..., Any] | None = None,
    market: Any = None,
    quotes: Any = None,
    client: Any = None,
    executor: str = "process",
    max_workers: int | None = None,
    progress: ProgressArg = True,
) -> WalkForwardResult:
    """Optimise ``points`` on each split's train window by ``metric``, test the winner on its
    test window; see the module docstring. All train evaluations of all folds run as one
    parallel batch; the test runs follow.

    Raises
    ------
    ConfigError
        No points or no splits, or a fold where every point failed (the errors are named).
    """
    pts = [dict(p) for p in points]
    if not pts or not splits:
        raise ConfigError("walk-forward needs at least one point and one split")
    target = Target(run=run, config=config, strategy=strategy, market=market, quotes=quotes)
    k = len(pts)
    tasks = [(f.fold * k + i, p, f.train) for f in splits for i, p in enumerate(pts)]
    bar = Progress(progress, len(tasks) + len(splits), "walk-forward")
    by_fold: dict[int, list[Outcome]] = {f.fold: [] for f in splits}
    trials: list[dict[str, Any]] = []
    try:
        for o in run_points(target, bars, tasks, client=client, executor=executor,
                            max_workers=max_workers):  # fmt: skip
            fold, point = divmod(o.index, k)
            by_fold[fold].append(Outcome(point, o.params, o.status, o.metrics, o.error, o.seconds))
            trials.append({"fold": fold, "point": point, **o.params, "status": o.status,
                           "error": o.error or None, metric: o.metrics.get(metric, math.nan)})  # fmt: skip
            bar.update(o)
        rows: list[dict[str, Any]] = []
        pieces: list[pd.Series] = []
        from tradekit.research._runner import _Context, equity_of

        ctx = _Context(target, bars)
        level = None
        for f in splits:
            best = _best(by_fold[f.fold], metric)
            if best is None:
                errors = {o.error for o in by_fold[f.fold] if o.error}
                raise ConfigError(f"fold {f.fold}: no point produced a finite {metric!r} on its "
                                  f"train window; errors: {sorted(errors)[:3]}")  # fmt: skip
            test = evaluate(ctx, best.index, best.params, f.test, keep=True)
            bar.update(test)
            if test.status != "done":
                raise ConfigError(f"fold {f.fold}: the chosen point failed out of sample: "
                                  f"{test.error}")  # fmt: skip
            eq = equity_of(test.result).astype(float)
            scale = 1.0 if level is None else level / float(eq.iloc[0])
            piece = eq * scale
            level = float(piece.iloc[-1])
            pieces.append(piece if not pieces else piece.iloc[1:])
            idx = bars.index
            rows.append({
                "fold": f.fold, "train_start": idx[f.train.start], "train_end": idx[f.train.stop - 1],
                "test_start": idx[f.test.start], "test_end": idx[f.test.stop - 1],
                "params": best.params, f"is_{metric}": best.metrics[metric],
                f"oos_{metric}": test.metrics.get(metric, math.nan),
                "oos_return": float(eq.iloc[-1] / eq.iloc[0] - 1.0),
            })  # fmt: skip
    finally:
        bar.close()
    oos = pd.concat(pieces)
    oos = oos[~oos.index.duplicated(keep="last")].rename("equity")
    return WalkForwardResult(pd.DataFrame(rows), pd.DataFrame(trials), oos, metric)
