"""tradekit.data.sources: where bars come from (files, memory, online providers).

All providers satisfy :class:`MarketDataProvider` (``history`` + ``latest``) and return
bar-contract frames.
"""

from tradekit.data.sources.base import DataFrameProvider, MarketDataProvider, TimeLike
from tradekit.data.sources.files import FileProvider, load_bars, normalize_bars
from tradekit.data.sources.yfinance import YFinanceProvider, recorded_fetch

__all__ = [
    "DataFrameProvider",
    "FileProvider",
    "MarketDataProvider",
    "TimeLike",
    "YFinanceProvider",
    "load_bars",
    "normalize_bars",
    "recorded_fetch",
]
