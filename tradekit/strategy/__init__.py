"""User strategies: the :class:`Strategy` seam and the built-in implementations.

``Engine(config, strategy=...)`` and :func:`tradekit.backtest` take any object with
``on_bar(bar, ctx) -> list[Setup]``; the default is :class:`ConfluenceStrategy`, the built-in
confluence algorithm. Setups from every strategy go through the same gates, risk checks,
paper broker and ledger.
"""

from tradekit.strategy.base import (
    DEFAULT_LOOKBACK,
    BarHistory,
    Strategy,
    StrategyContext,
    make_setup,
)
from tradekit.strategy.confluence import ConfluenceStrategy
from tradekit.strategy.driver import StrategyDriver, strategy_name
from tradekit.strategy.sma import SmaCross
from tradekit.strategy.spec import STRATEGIES, strategy_config, strategy_from_spec

__all__ = [
    "DEFAULT_LOOKBACK",
    "STRATEGIES",
    "BarHistory",
    "ConfluenceStrategy",
    "SmaCross",
    "Strategy",
    "StrategyContext",
    "StrategyDriver",
    "make_setup",
    "strategy_config",
    "strategy_from_spec",
    "strategy_name",
]
