"""Compile (or load from numba's on-disk cache) every kernel a replay uses, before its first bar.

The numba kernels are ``@njit(cache=True)``: the first run on a machine compiles them (about
20 s on a 2-core machine), later runs load the cached machine code (about half a second).
Without a warm-up that cost lands inside the first bar, and the first decision's
``processing_time_us`` reported the compile (1.3 s) instead of the decision.

:func:`warm_kernels` drives a throw-away engine over a few synthetic bars and decides one
stock and one option setup, group by group, reporting each group through ``progress``; when
the cache is cold it first says so ("compiling kernels, once per machine..."). Nothing it does
touches a store or the caller's engine.

Examples
--------
>>> seconds = warm_kernels()  # quiet; a second call costs almost nothing
>>> warm_kernels() < 5.0
True
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd

from tradekit.core.events import Bar, Setup

if TYPE_CHECKING:
    from tradekit.execution.base import QuoteSource
    from tradekit.options.chain import SyntheticChainProvider
    from tradekit.runtime.kernel import Engine

__all__ = ["GROUPS", "cache_is_cold", "main", "warm_kernels"]

#: The kernel groups in the order they are warmed (what the progress lines name).
GROUPS: tuple[str, ...] = ("data", "signals", "options and decisions", "execution")

_done = False


def _cache_dirs() -> list[Path]:
    root = os.environ.get("NUMBA_CACHE_DIR")
    if root:
        return [Path(root)]
    return [Path(__file__).resolve().parents[1]]


def cache_is_cold() -> bool:
    """True when numba has no cached kernel of tradekit on disk yet (first run on a machine,
    or a fresh install): the warm-up will compile rather than load."""
    for base in _cache_dirs():
        if base.is_dir() and next(base.rglob("*.nbi"), None) is not None:
            return False
    return True


def warm_kernels(*, progress: Callable[[str], None] | None = None) -> float:
    """Compile or load every kernel group; returns the seconds it took.

    Parameters
    ----------
    progress:
        Called with one line of text per step (e.g. ``print`` to stderr) when the cache is
        cold or a step is slow; a warm start says nothing. Nothing is reported when None.

    Returns
    -------
    float
        Wall seconds spent (0.0 when this process already warmed up).
    """
    global _done
    if _done:
        return 0.0
    say = progress if progress is not None else (lambda _line: None)
    t_all = time.perf_counter()
    cold = cache_is_cold()
    if cold:
        say("compiling kernels, once per machine (20-40 s; later runs load them from disk)...")
    steps = _steps()
    for i, (name, step) in enumerate(steps, 1):
        t0 = time.perf_counter()
        step()
        took = time.perf_counter() - t0
        if cold or took > 2.0:  # a warm cache loads in well under a second: say nothing
            say(f"  [{i}/{len(steps)}] {name}: {took:.1f} s")
    _done = True
    return time.perf_counter() - t_all


@dataclass
class _World:
    """The small synthetic world the warm-up steps share."""

    history: pd.DataFrame | None = None
    vix: pd.Series | None = None
    engine: Engine | None = None
    bars: list[Bar] = field(default_factory=list)


def _steps() -> list[tuple[str, Callable[[], None]]]:
    """The warm-up steps, in :data:`GROUPS` order."""
    from tradekit.config import AlgorithmConfig
    from tradekit.core.clock import SimClock
    from tradekit.data import datasets, resample
    from tradekit.data.feeds import ReplayFeed
    from tradekit.data.market import MarketDataService
    from tradekit.data.schema import bars_to_events
    from tradekit.runtime.backtest import run_backtest
    from tradekit.runtime.kernel import Engine
    from tradekit.runtime.precomputed import PrecomputedPipeline

    w = _World()

    def feed(bars: list[Bar]) -> None:
        assert w.engine is not None
        for bar in bars:
            w.engine.clock.set_time(bar.close_ts_ns)  # type: ignore[attr-defined]
            w.engine.on_bar(bar)

    def data() -> None:
        w.history = datasets.synthetic_intraday("SPY", start="2024-03-04", days=3, seed=0)
        resample(w.history, "15min")
        w.vix = datasets.synthetic_vix(w.history, per="day")

    def signals() -> None:
        assert w.history is not None
        market = MarketDataService.with_synthetic_chains({"SPY": w.history}, vix=w.vix, seed=0)
        cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
        quotes = cast("QuoteSource", market.chain_provider)
        w.engine = Engine(cfg, clock=SimClock(), market=market, quotes=quotes)
        w.bars = bars_to_events(w.history.iloc[390 + 60 : 390 + 124], "SPY", "1min")
        feed(w.bars[:60])
        # the batch kernels of a backtest's fast path (tradekit.runtime.precomputed)
        replay = ReplayFeed(w.history.iloc[:390], clock=SimClock(), symbol="SPY", timeframe="1min")
        PrecomputedPipeline(
            cfg, "SPY", "1min", replay.arrays("SPY"), calendar=w.engine.calendar.name
        )

    def decisions() -> None:
        assert w.engine is not None
        bar = w.bars[59]
        c = bar.close
        long = Setup("warm-1", "SPY", "1min", bar.ts_ns, 1, 1, c, c - 1.0, c + 2.0, c + 3.0,
                     c + 4.0, 7.5, 8.0, 3, ("FVG", "BOS", "VOLUME_SURGE"))  # fmt: skip
        short = dataclasses.replace(long, id="warm-2", direction=-1, stop=c + 1.0,
                                    tp1=c - 2.0, tp2=c - 3.0, tp3=c - 4.0)  # fmt: skip
        for setup in (long, short):
            w.engine._decide(setup)

    def execution() -> None:
        assert w.engine is not None and w.history is not None
        feed(w.bars[60:])
        w.engine.flatten()
        # a backtest's quiet-bar scan (tradekit.runtime.quiet), with its real argument types
        cfg = w.engine.config.with_overrides({"decision.vix_missing_policy": "allow"})
        run_backtest(w.history.iloc[:390], cfg, record="summary")
        # and the quotes of an open option position, at a bar and over a span
        # (SyntheticChainProvider)
        prov = cast("SyntheticChainProvider", w.engine.broker.quote_source)
        ts = w.history.index.asi8[400:410]
        contract = prov.chain("SPY", int(ts[0])).contract(0)
        prov.contract_row(contract, int(ts[1]))
        prov.quote_path(contract, ts)

    return [(GROUPS[0], data), (GROUPS[1], signals), (GROUPS[2], decisions), (GROUPS[3], execution)]


def main() -> None:
    """``python -m tradekit.runtime.warmup``: compile (or load) the kernels now, with the
    progress lines on stderr. ``make install`` runs it, so the first ``tradekit`` command on
    a fresh machine starts without the compile."""
    import sys

    took = warm_kernels(progress=lambda line: print(line, file=sys.stderr))
    print(f"tradekit kernels ready ({took:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
