"""tradekit: research and paper trading for rule-based options day-trading, in Jupyter.

One engine, two clocks: the same :class:`~tradekit.runtime.kernel.Engine` handles a bar in a
backtest and live. :func:`backtest` is the one research entry (bars, a config, a
:class:`~tradekit.strategy.Strategy` → a :class:`~tradekit.runtime.backtest.BacktestResult`).
See README.md for a tour.

The research names load on first use, so ``import tradekit`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from tradekit.config import AlgorithmConfig, HardLimits
from tradekit.errors import (
    BrokerError,
    ConfigError,
    DataError,
    OrderRejected,
    PluginError,
    RiskDenied,
    StoreError,
    TradekitError,
)

if TYPE_CHECKING:
    from tradekit.runtime.backtest import BacktestResult, backtest
    from tradekit.strategy import ConfluenceStrategy, SmaCross, Strategy

__version__ = "0.1.0"

#: public name → module that defines it (imported on first attribute access, PEP 562)
_LAZY: dict[str, str] = {
    "BacktestResult": "tradekit.runtime.backtest",
    "backtest": "tradekit.runtime.backtest",
    "ConfluenceStrategy": "tradekit.strategy",
    "SmaCross": "tradekit.strategy",
    "Strategy": "tradekit.strategy",
}

__all__ = [
    "AlgorithmConfig",
    "BacktestResult",
    "BrokerError",
    "ConfigError",
    "ConfluenceStrategy",
    "DataError",
    "HardLimits",
    "OrderRejected",
    "PluginError",
    "RiskDenied",
    "SmaCross",
    "StoreError",
    "Strategy",
    "TradekitError",
    "__version__",
    "backtest",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tradekit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
