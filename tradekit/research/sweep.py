"""Parameter sweeps: a grid, random draws or explicit points, evaluated in parallel.

A *point* is a mapping of parameter names to values. Names whose first segment is an
:class:`~tradekit.config.AlgorithmConfig` field (``"decision.max_vix"``) are dotted config
overrides; the others go to the strategy factory (``strategy=SmaCross`` gets ``fast=``,
``slow=``) or to a plain ``run(bars, **params)`` function. Every point runs through
:func:`~tradekit.research._runner.evaluate` — the same code in this process, on a local process
pool (the default) or on a ``dask.distributed.Client`` — and a failing point becomes a row with
its error; it never aborts the sweep.

Examples
--------
>>> from tradekit.data.datasets import load
>>> from tradekit.research.sweep import grid, sweep
>>> from tradekit.strategy import SmaCross
>>> pts = grid(fast=[5, 10], slow=[30])
>>> table = sweep(load("aapl").iloc[:600], pts, strategy=SmaCross, executor="serial",
...               progress=False)
>>> table[["fast", "slow", "status"]].to_dict("records")
[{'fast': 5, 'slow': 30, 'status': 'done'}, {'fast': 10, 'slow': 30, 'status': 'done'}]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.errors import ConfigError
from tradekit.research._progress import Progress, ProgressArg
from tradekit.research._runner import Outcome, Target, run_points

__all__ = ["grid", "random_points", "sweep"]


def grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, in order (``grid(a=[1, 2], b=[3])``).

    Dotted config paths are not valid keywords; pass them as a dict:
    ``grid(**{"decision.max_vix": [25, 30]})``.
    """
    if not axes:
        raise ConfigError("grid needs at least one axis")
    for name, values in axes.items():
        if isinstance(values, str) or not isinstance(values, Iterable) or not list(values):
            raise ConfigError(f"grid axis {name!r} needs a non-empty list of values")
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


def random_points(space: Mapping[str, Any], n: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` random points of ``space``: a list/tuple is a set of choices, a ``(low, high)``
    pair of ints an inclusive integer range given as ``range(low, high + 1)``, and a callable
    ``fn(rng) -> value`` draws its own value (e.g. ``lambda r: r.uniform(0.5, 2.0)``).
    Seeded: the same ``seed`` gives the same points."""
    if n < 1:
        raise ConfigError(f"random search needs n >= 1, got {n}")
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        point: dict[str, Any] = {}
        for name, dim in space.items():
            if callable(dim):
                point[name] = dim(rng)
            elif isinstance(dim, range | list | tuple) and len(dim):
                v = list(dim)[int(rng.integers(len(dim)))]
                point[name] = v.item() if isinstance(v, np.generic) else v
            else:
                raise ConfigError(f"random space {name!r}: give a list, a range or a callable")
        out.append(point)
    return out


def _row(o: Outcome, names: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"point": o.index, **{k: o.params.get(k) for k in names},
                           "status": o.status, "error": o.error or None,
                           "seconds": round(o.seconds, 4)}  # fmt: skip
    row.update(o.metrics)
    return row


def _record(store: Any, target: Target, o: Outcome, data_label: str | None, name: str) -> str:
    """One ``backtest_runs`` row for the point: its config, parameters, status and results."""
    try:
        cfg = target.config_for(o.params) or AlgorithmConfig()
    except ConfigError:  # the point's overrides are invalid: it failed, under the base config
        cfg = target.config or AlgorithmConfig()
    if cfg != (target.config or AlgorithmConfig()):  # each variant is its own version
        cfg = cfg.with_overrides({"version": f"{cfg.version}+{name}.p{o.index:04d}"})
    config_id = store.save_config(cfg)
    params = {"sweep": name, "point": o.index, **o.params}
    rid = store.start_backtest_run(config_id, params, run_id=f"{name}-p{o.index:04d}",
                                   data_label=data_label)  # fmt: skip
    if o.status == "done":
        store.finish_backtest_run(rid, {**o.metrics, "seconds": o.seconds})
    else:
        store.fail_backtest_run(rid, o.error)
    return str(rid)


def sweep(
    bars: pd.DataFrame,
    points: Sequence[Mapping[str, Any]],
    *,
    config: AlgorithmConfig | None = None,
    strategy: Callable[..., Any] | None = None,
    run: Callable[..., Any] | None = None,
    market: Any = None,
    quotes: Any = None,
    client: Any = None,
    executor: str = "process",
    max_workers: int | None = None,
    progress: ProgressArg = True,
    store: Any = None,
    data_label: str | None = None,
    name: str = "sweep",
    sort_by: str | None = None,
) -> pd.DataFrame:
    """Run every point on ``bars``; one row per point (parameters, status, error, seconds and
    every scalar metric of the result: ``sharpe``, ``total_return``, ``max_drawdown``...).

    Parameters
    ----------
    points:
        From :func:`grid`, :func:`random_points` or your own list of dicts.
    config, strategy, run:
        What a point runs (see :class:`~tradekit.research._runner.Target`): the full pipeline
        with ``config`` and/or a ``strategy`` factory, or a plain ``run(bars, **params)``.
    client:
        A ``dask.distributed.Client``: the points run on its workers (bars shipped once).
    executor, max_workers:
        Without a client: ``"process"`` (local pool) or ``"serial"``.
    progress:
        ``True`` a tqdm bar, a callable ``fn(done, total, outcome)`` (a Panel widget), or off.
    store:
        A :class:`~tradekit.store.Store`: each point becomes a ``backtest_runs`` row
        ``{name}-pNNNN`` with its config (a point's overrides are saved as version
        ``{version}+{name}.pNNNN``), parameters, status and results or error.
    sort_by:
        A metric to sort by (descending); default: point order.
    """
    pts = [dict(p) for p in points]
    if not pts:
        raise ConfigError("a sweep needs at least one point")
    target = Target(run=run, config=config, strategy=strategy, market=market, quotes=quotes)
    names = list(dict.fromkeys(k for p in pts for k in p))
    tasks = [(i, p, None) for i, p in enumerate(pts)]
    if store is not None:  # a second sweep of the same name gets name-2, name-3...
        taken = set(store.query("SELECT run_id FROM backtest_runs")["run_id"])
        base, n = name, 2
        while f"{name}-p0000" in taken:
            name, n = f"{base}-{n}", n + 1
    bar = Progress(progress, len(tasks), name)
    rows: list[dict[str, Any]] = []
    try:
        for o in run_points(target, bars, tasks, client=client, executor=executor,
                            max_workers=max_workers):  # fmt: skip
            row = _row(o, names)
            if store is not None:
                row["run_id"] = _record(store, target, o, data_label, name)
            rows.append(row)
            bar.update(o)
    finally:
        bar.close()
    table = pd.DataFrame(rows).sort_values("point", ignore_index=True)
    if sort_by is not None:
        if sort_by not in table:
            raise ConfigError(f"no metric {sort_by!r} in the results: {sorted(table.columns)}")
        table = table.sort_values(sort_by, ascending=False, ignore_index=True)
    return table
