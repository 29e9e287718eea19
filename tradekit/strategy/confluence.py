"""``ConfluenceStrategy``: the built-in algorithm (detectors + HTF + confluence) as a strategy.

The engine always runs the :class:`~tradekit.signals.pipeline.SetupPipeline` of each symbol,
because its signal events are published and recorded whatever the strategy. The confluence
setups it finds are handed to the strategy as ``ctx.confluence``; this strategy returns them
unchanged, so ``Engine(config)`` and ``Engine(config, strategy=ConfluenceStrategy())`` decide
exactly what the engine decided before strategies were pluggable (the golden and parity tests
run through it).
"""

from __future__ import annotations

from tradekit.core.events import Bar, Setup
from tradekit.strategy.base import StrategyContext

__all__ = ["ConfluenceStrategy"]


class ConfluenceStrategy:
    """The setups of the built-in confluence layer, unchanged.

    Examples
    --------
    >>> ConfluenceStrategy().lookback
    0
    """

    name = "confluence"
    #: the confluence layer keeps its own state: no bar history is needed
    lookback = 0
    #: it reads ``ctx.confluence`` only
    reads_signals = False

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> list[Setup]:
        """``ctx.confluence`` as a list."""
        setups = ctx.confluence
        return setups if isinstance(setups, list) else list(setups)

    def __repr__(self) -> str:
        return "ConfluenceStrategy()"
