"""tradekit: research and paper trading for rule-based options day-trading, in Jupyter.

One engine, two clocks: the same :class:`~tradekit.runtime.kernel.Engine` handles a bar in a
backtest and live. See README.md for a tour.
"""

from tradekit.config import AlgorithmConfig, HardLimits
from tradekit.errors import (
    BrokerError,
    ConfigError,
    DataError,
    OrderRejected,
    RiskDenied,
    StoreError,
    TradekitError,
)

__version__ = "0.1.0"

__all__ = [
    "AlgorithmConfig",
    "BrokerError",
    "ConfigError",
    "DataError",
    "HardLimits",
    "OrderRejected",
    "RiskDenied",
    "StoreError",
    "TradekitError",
    "__version__",
]
