"""Contracts between the broker and the rest of the engine.

:class:`QuoteSource` is how the paper broker learns an option's bid/ask at a given time (the
synthetic chain implements it; a real chain provider can too). Stock orders fill against bars.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tradekit.core.events import OptionContract

__all__ = ["Quote", "QuoteSource"]


class Quote(tuple[float, float, float]):
    """``(bid, ask, underlying_price)`` of an option at one instant."""

    __slots__ = ()

    def __new__(cls, bid: float, ask: float, underlying: float) -> Quote:
        return super().__new__(cls, (float(bid), float(ask), float(underlying)))

    @property
    def bid(self) -> float:
        return self[0]

    @property
    def ask(self) -> float:
        return self[1]

    @property
    def underlying(self) -> float:
        return self[2]

    @property
    def mid(self) -> float:
        return 0.5 * (self[0] + self[1])


@runtime_checkable
class QuoteSource(Protocol):
    """Gives the quote of an option contract at ``ts_ns`` (None when it cannot be priced)."""

    def quote(self, contract: OptionContract, ts_ns: int) -> Quote | None: ...
