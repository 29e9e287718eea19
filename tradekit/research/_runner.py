"""What one research point runs, and where: the target of a sweep or walk-forward and its executors.

A *target* turns ``(bars, params)`` into a backtest result. Keys of ``params`` whose first
segment is an :class:`~tradekit.config.AlgorithmConfig` field (``"decision.max_vix"``,
``"timeframe"``) are dotted config overrides; all other keys go to the strategy factory (or to a
plain ``run(bars, **params)`` function).

Executors run independent points: in-process (``"serial"``), on a local process pool (the
default for sweeps) or on a ``dask.distributed.Client`` — the same :func:`evaluate` either way.
The shared context (bars, base config, market) is shipped once per worker, not per point.
"""

from __future__ import annotations

import math
import os
import pickle
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.errors import ConfigError

__all__ = [
    "Outcome",
    "Target",
    "evaluate",
    "result_metrics",
    "run_points",
    "split_params",
]

_CONFIG_FIELDS = frozenset(AlgorithmConfig.model_fields)
_YEAR_NS = 365.25 * 86_400e9


def split_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config overrides, strategy/run parameters)`` of one point."""
    cfg = {k: v for k, v in params.items() if k.split(".")[0] in _CONFIG_FIELDS}
    return cfg, {k: v for k, v in params.items() if k not in cfg}


@dataclass
class Target:
    """What a point runs.

    Exactly one of ``run`` (``run(bars, **params) -> result``; with ``config`` also
    ``config=...``) or the full pipeline (``config`` and/or ``strategy``, a factory called with
    the non-config parameters) is used. ``market``/``quotes`` go to the full pipeline.
    """

    run: Callable[..., Any] | None = None
    config: AlgorithmConfig | None = None
    strategy: Callable[..., Any] | None = None
    market: Any = None
    quotes: Any = None

    def __post_init__(self) -> None:
        if self.run is not None and self.strategy is not None:
            raise ConfigError("give either run=... or strategy=..., not both")

    def config_for(self, params: Mapping[str, Any]) -> AlgorithmConfig | None:
        """The base config with this point's dotted overrides (None without a config)."""
        cfg_over, _ = split_params(params)
        if not cfg_over:
            return self.config
        base = self.config if self.config is not None else AlgorithmConfig()
        return base.with_overrides(cfg_over)

    def __call__(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> Any:
        _, rest = split_params(params)
        cfg = self.config_for(params)
        if self.run is not None:
            return self.run(bars, **rest) if cfg is None else self.run(bars, config=cfg, **rest)
        from tradekit.runtime.backtest import backtest

        if rest and self.strategy is None:
            raise ConfigError(f"parameters {sorted(rest)} are neither config fields nor "
                              "strategy parameters (no strategy given)")  # fmt: skip
        strategy = self.strategy(**rest) if self.strategy is not None else None
        # research reads metrics and equity only: no record frames (the same decisions)
        return backtest(bars, cfg, strategy, market=self.market, quotes=self.quotes,
                        record="summary")  # fmt: skip


def _sharpe_of(equity: pd.Series) -> float:
    """Annualised Sharpe of per-bar returns (rf = 0, ddof 1; bars per year from the index)."""
    eq = equity.to_numpy(dtype=np.float64)
    if eq.shape[0] < 3:
        return math.nan
    r = eq[1:] / eq[:-1] - 1.0
    sd = r.std(ddof=1)
    if not sd > 0:
        return math.nan
    ppy = 1.0
    idx = equity.index
    if isinstance(idx, pd.DatetimeIndex):
        span = float(idx[-1].value - idx[0].value)
        ppy = r.shape[0] / (span / _YEAR_NS) if span > 0 else 1.0
    return float(r.mean() / sd * math.sqrt(ppy))


def equity_of(result: Any) -> pd.Series:
    """The equity curve of any result (a Series, or the ``equity`` column of a frame)."""
    eq = getattr(result, "equity", None)
    if isinstance(eq, pd.DataFrame):
        eq = eq["equity"]
    if not isinstance(eq, pd.Series):
        raise ConfigError(f"a {type(result).__name__} has no equity curve (.equity)")
    return eq


def result_metrics(result: Any) -> dict[str, float]:
    """Scalar figures of a result: its ``stats`` (or ``summary``) numbers, plus ``sharpe``
    from the equity curve when the result does not report one."""
    stats = getattr(result, "stats", None)
    if not isinstance(stats, (dict, pd.Series)):
        stats = getattr(result, "summary", None) or {}
    out: dict[str, float] = {}
    for k, v in dict(stats).items():
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[str(k)] = float(v)
    if "sharpe" not in out:
        out["sharpe"] = _sharpe_of(equity_of(result))
    return out


@dataclass
class Outcome:
    """One point's outcome: ``status`` ``"done"`` with ``metrics`` (and ``result`` when kept)
    or ``"failed"`` with ``error``; ``seconds`` of wall time in the worker."""

    index: int
    params: dict[str, Any]
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    result: Any = None


@dataclass
class _Context:
    target: Target
    bars: pd.DataFrame


def evaluate(ctx: _Context, index: int, params: dict[str, Any], window: slice | None = None,
             keep: bool = False) -> Outcome:  # fmt: skip
    """Run one point on ``ctx.bars[window]``; never raises (a failure is an Outcome)."""
    t0 = time.perf_counter()
    try:
        bars = ctx.bars if window is None else ctx.bars.iloc[window]
        res = ctx.target(bars, params)
        return Outcome(index, params, "done", result_metrics(res), "",
                       time.perf_counter() - t0, res if keep else None)  # fmt: skip
    except Exception as exc:  # a failed point is reported, never aborts the batch
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return Outcome(index, params, "failed", {}, tb, time.perf_counter() - t0)


# -- executors ---------------------------------------------------------------------------
_WORKER_CTX: _Context | None = None


def _dumps(obj: Any) -> bytes:
    try:
        import cloudpickle

        return bytes(cloudpickle.dumps(obj))
    except ImportError:  # plain pickle: the run function must be importable
        return pickle.dumps(obj)


def _init_worker(payload: bytes) -> None:
    global _WORKER_CTX
    _WORKER_CTX = pickle.loads(payload)


def _evaluate_in_worker(index: int, params: dict[str, Any], window: slice | None,
                        keep: bool) -> Outcome:  # fmt: skip
    assert _WORKER_CTX is not None, "worker initializer did not run"
    return evaluate(_WORKER_CTX, index, params, window, keep)


Task = tuple[int, dict[str, Any], slice | None]


def run_points(
    target: Target,
    bars: pd.DataFrame,
    tasks: Sequence[Task],
    *,
    client: Any = None,
    executor: str = "process",
    max_workers: int | None = None,
    keep: bool = False,
) -> Iterator[Outcome]:
    """Evaluate ``tasks`` (``(index, params, window)``) and yield outcomes as they finish.

    ``client``: a ``dask.distributed.Client`` (the context is scattered once to every worker);
    otherwise ``executor`` ``"process"`` (a local ``ProcessPoolExecutor``, spawn-safe: the
    context travels by cloudpickle when installed) or ``"serial"`` (this process).
    """
    ctx = _Context(target, bars)
    if client is not None:
        yield from _run_dask(client, ctx, tasks, keep)
    elif executor == "serial" or len(tasks) <= 1:
        for i, p, w in tasks:
            yield evaluate(ctx, i, p, w, keep)
    elif executor == "process":
        yield from _run_pool(ctx, tasks, max_workers, keep)
    else:
        raise ConfigError(f"executor must be 'process' or 'serial', got {executor!r}")


def _run_pool(ctx: _Context, tasks: Sequence[Task], max_workers: int | None,
              keep: bool) -> Iterator[Outcome]:  # fmt: skip
    workers = max_workers or min(len(tasks), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(_dumps(ctx),)) as pool:
        pending: dict[Future[Outcome], Task] = {
            pool.submit(_evaluate_in_worker, i, p, w, keep): (i, p, w) for i, p, w in tasks
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i, p, _w = pending.pop(fut)
                try:
                    yield fut.result()
                except Exception as exc:  # the worker died (BrokenProcessPool, pickling)
                    yield Outcome(i, p, "failed", {}, f"{type(exc).__name__}: {exc}")


def _evaluate_scattered(ctx: _Context, index: int, params: dict[str, Any], window: slice | None,
                        keep: bool) -> Outcome:  # fmt: skip
    return evaluate(ctx, index, params, window, keep)


def _run_dask(client: Any, ctx: _Context, tasks: Sequence[Task], keep: bool) -> Iterator[Outcome]:
    from distributed import as_completed

    shared = client.scatter(ctx, broadcast=True)
    futs = {
        client.submit(_evaluate_scattered, shared, i, p, w, keep, pure=False): (i, p)
        for i, p, w in tasks
    }
    for fut in as_completed(futs):
        i, p = futs[fut]
        try:
            yield fut.result()
        except Exception as exc:  # a lost worker or a serialisation error
            yield Outcome(i, p, "failed", {}, f"{type(exc).__name__}: {exc}")
