"""tradekit.signals: detectors, multi-timeframe context, confluence and setups (SIGNALS.md).

Batch research::

    events = detect(bars)                                   # every detector event
    events, setups = detect_setups(bars, symbol="SPY", timeframe="1min")

Live (one call per closed bar, same kernels, same results)::

    pipe = SetupPipeline(config, "SPY", "1min")
    out = pipe.update(bar)          # out.signals, out.setups
"""

from __future__ import annotations

from tradekit.signals.confluence import (
    CONFLUENCE_TYPES,
    ConfluenceParams,
    ConfluenceState,
    score_confluence,
)
from tradekit.signals.detectors import detect, detect_arrays, detect_smt
from tradekit.signals.generator import SignalGenerator
from tradekit.signals.mtf import (
    HtfAggregator,
    HtfSeries,
    HtfTracker,
    build_htf,
    default_htfs,
    strat_continuity,
)
from tradekit.signals.pipeline import (
    PipelineOutput,
    SetupPipeline,
    detect_setups,
    iter_bars,
    setups_from_frame,
)
from tradekit.signals.records import EVENT_COLUMNS, KindCode, events_to_signals

__all__ = [
    "CONFLUENCE_TYPES",
    "EVENT_COLUMNS",
    "ConfluenceParams",
    "ConfluenceState",
    "HtfAggregator",
    "HtfSeries",
    "HtfTracker",
    "KindCode",
    "PipelineOutput",
    "SetupPipeline",
    "SignalGenerator",
    "build_htf",
    "default_htfs",
    "detect",
    "detect_arrays",
    "detect_setups",
    "detect_smt",
    "events_to_signals",
    "iter_bars",
    "score_confluence",
    "setups_from_frame",
    "strat_continuity",
]
