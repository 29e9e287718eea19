"""PrecomputedPipeline answers every bar exactly as the streaming SetupPipeline does, and refuses
a bar that is not the next one of its series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.data.datasets import load, synthetic_intraday
from tradekit.data.feeds import ReplayFeed
from tradekit.errors import DataError
from tradekit.runtime.precomputed import PrecomputedPipeline
from tradekit.signals.pipeline import SetupPipeline, iter_bars

SERIES = {
    "aapl_1D": (lambda: load("aapl").iloc[:1500], "AAPL", "1D"),
    "spy_1min": (lambda: synthetic_intraday("SPY", start="2024-03-04", days=12, seed=4), "SPY", "1min"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SERIES))
def test_every_bar_equals_the_streaming_pipeline(name: str) -> None:
    frame_fn, sym, tf = SERIES[name]
    bars: pd.DataFrame = frame_fn()
    cfg = AlgorithmConfig(symbols=(sym,), timeframe=tf)
    feed = ReplayFeed(bars, symbol=sym, timeframe=tf)
    pre = PrecomputedPipeline(cfg, sym, tf, feed.arrays(sym))
    stream = SetupPipeline(cfg, sym, tf)
    n_sig = n_setup = n_htf = 0
    for bar in feed:
        a, b = pre.update(bar), stream.update(bar)
        assert a == b, bar.ts_ns
        n_sig += len(a.signals)
        n_setup += len(a.setups)
        n_htf += sum(s.timeframe != tf for s in a.signals)
        assert pre.has_setup(pre.n_bars - 1) == bool(a.setups)
    assert n_sig > 100 and n_setup > 10 and n_htf > 0  # the comparison saw every kind of record
    assert pre.state_dict() == {"precomputed": True, "symbol": sym, "bars": len(bars)}


def test_a_bar_out_of_the_series_is_a_data_error() -> None:
    bars = synthetic_intraday("SPY", start="2024-03-04", days=1, seed=4)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    feed = ReplayFeed(bars, symbol="SPY")
    pre = PrecomputedPipeline(cfg, "SPY", "1min", feed.arrays("SPY"))
    seq = list(iter_bars(bars, "SPY", "1min"))
    pre.update(seq[0])
    with pytest.raises(DataError, match="not bar 1"):
        pre.update(seq[2])
    for bar in seq[1:]:
        pre.update(bar)
    with pytest.raises(DataError):
        pre.update(seq[-1])


def test_without_signal_records_only_counts_are_kept() -> None:
    """``signals=False`` (metrics-only replays): the same setups bar by bar and the same
    signal count, but no event rows or HTF rows are kept to build records from."""
    bars = synthetic_intraday("SPY", start="2024-03-04", days=6, seed=4)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    feed = ReplayFeed(bars, symbol="SPY")
    full = PrecomputedPipeline(cfg, "SPY", "1min", feed.arrays("SPY"))
    lean = PrecomputedPipeline(cfg, "SPY", "1min", feed.arrays("SPY"), signals=False)
    assert lean._events is None and not any(h._rows for h in lean._htf)
    for b in iter_bars(bars, "SPY", "1min"):
        a, c = full.update(b), lean.update(b)
        assert c.signals == [] and c.setups == a.setups
    assert lean.n_signals == full.n_signals > 100
    t = int(lean.signal_bars(0, len(bars))[0])
    with pytest.raises(RuntimeError, match="signals=False"):
        lean.signals_at(t)


def test_one_setup_passed_over_at_its_bar_is_counted_not_built() -> None:
    """``pass_over_setup_at`` frees one fired bar still to come (others stay busy, the
    setup mask is untouched); ``skip_to`` may then pass it and counts its setup; a bar that
    fires none, or one already processed, is a ValueError."""
    bars = synthetic_intraday("SPY", start="2024-03-04", days=3, seed=4)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    feed = ReplayFeed(bars, symbol="SPY")
    pre = PrecomputedPipeline(cfg, "SPY", "1min", feed.arrays("SPY"))
    fired = pre.setup_bars()
    first, second = int(fired[0]), int(fired[1])
    quiet = int(np.flatnonzero(~pre.setup_mask())[0])
    with pytest.raises(ValueError, match="fires no setup"):
        pre.pass_over_setup_at(quiet)
    pre.pass_over_setup_at(first)
    assert not pre.busy_mask()[first] and pre.busy_mask()[second]
    assert pre.setup_mask()[first]
    assert pre.skip_to(first + 1) >= 0 and pre.n_setups_passed == 1
    with pytest.raises(ValueError, match="fires no setup"):
        pre.pass_over_setup_at(first)
    with pytest.raises(ValueError, match="cannot be skipped"):
        pre.skip_to(second + 1)


def test_a_setup_before_the_refusal_horizon_is_counted_not_built_on_a_processed_bar() -> None:
    """With ``pass_over_refused``, ``update`` asks the horizon at each bar that fires a setup
    still to decide: a bar opening before it gives no setup and counts it (passed, refused),
    one at or after it builds the setup as before."""
    bars = synthetic_intraday("SPY", start="2024-03-04", days=3, seed=4)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    feed = ReplayFeed(bars, symbol="SPY")
    ref = PrecomputedPipeline(cfg, "SPY", "1min", feed.arrays("SPY"))
    pre = PrecomputedPipeline(cfg, "SPY", "1min", feed.arrays("SPY"))
    fired = pre.setup_bars()
    ts = feed.arrays("SPY")[0]
    refuse = {int(ts[fired[0]]), int(ts[fired[2]])}
    asked: list[int] = []

    def horizon(t: int) -> int:
        asked.append(t)
        return t + 1 if t in refuse else t

    pre.pass_over_refused(horizon)
    built = []
    for t in range(int(fired[3]) + 1):
        bar = ReplayFeed(bars.iloc[t : t + 1], symbol="SPY").next_bar()
        assert bar is not None
        want, got = ref.update(bar), pre.update(bar)
        if int(bar.ts_ns) in refuse:
            assert got.setups == [] and got.passed == 1 and want.setups
        else:
            assert got.setups == want.setups and got.passed == want.passed
        built.extend(got.setups)
    assert asked == [int(ts[f]) for f in fired[:4]]
    assert len(built) == 2 and pre.n_setups_passed == pre.n_refused_passed == 2
