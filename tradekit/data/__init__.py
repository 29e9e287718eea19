"""tradekit.data: the bar contract, exchange calendars, closed-bar resampling, datasets,
sources and feeds.

The pandas-facing API of market data. Everything here hands the engine validated bars
(:func:`validate_bars`) or int-ns/float64 arrays (:func:`bars_to_arrays`).

Examples
--------
>>> from tradekit.data import datasets, resample
>>> bars = datasets.synthetic_intraday("SPY", days=2)
>>> hourly = resample(bars, "1h")  # with known_index / known_ts: no look-ahead
"""

from tradekit.data import datasets
from tradekit.data.calendar import MarketCalendar, get_calendar
from tradekit.data.feeds import PollingFeed, ReplayFeed
from tradekit.data.resample import HTFBars, htf_index_map, parse_rule, resample, resample_arrays
from tradekit.data.schema import (
    BAR_COLUMNS,
    ValidatedBars,
    bars_to_arrays,
    infer_bar_duration_ns,
    validate_bars,
)
from tradekit.data.sources import (
    DataFrameProvider,
    FileProvider,
    MarketDataProvider,
    YFinanceProvider,
    load_bars,
)
from tradekit.data.synthetic import synthetic_intraday, synthetic_pair, synthetic_vix

__all__ = [
    "BAR_COLUMNS",
    "DataFrameProvider",
    "FileProvider",
    "HTFBars",
    "MarketCalendar",
    "MarketDataProvider",
    "MarketDataService",
    "PollingFeed",
    "ReplayFeed",
    "ValidatedBars",
    "YFinanceProvider",
    "bars_to_arrays",
    "datasets",
    "get_calendar",
    "htf_index_map",
    "infer_bar_duration_ns",
    "load_bars",
    "parse_rule",
    "resample",
    "resample_arrays",
    "synthetic_intraday",
    "synthetic_pair",
    "synthetic_vix",
    "validate_bars",
]


def __getattr__(name: str) -> object:
    """Lazy export of :class:`~tradekit.data.market.MarketDataService` (it imports the options
    package, which itself uses this package's calendar)."""
    if name == "MarketDataService":
        from tradekit.data.market import MarketDataService

        return MarketDataService
    raise AttributeError(f"module 'tradekit.data' has no attribute {name!r}")
