"""A fake feed for tests and notebooks: an async iterable over a list of bars.

It has what the live runner needs of a feed (``async for`` and ``stop()``) and nothing else,
with an optional delay between bars so pause/resume/stop can be exercised in a real loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from tradekit.core.events import Bar

__all__ = ["FakeFeed"]


class FakeFeed:
    """Yield ``bars`` in order, sleeping ``delay_s`` (seconds) before each one.

    Examples
    --------
    >>> import asyncio
    >>> from tradekit.testing import bar
    >>> async def first_close():
    ...     async for b in FakeFeed([bar(10, 11, 9, 10.5)]):
    ...         return b.close
    >>> asyncio.run(first_close())
    10.5
    """

    def __init__(self, bars: Iterable[Bar], delay_s: float = 0.0) -> None:
        if delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {delay_s}")
        self.bars = list(bars)
        self.delay_s = delay_s
        self.stopped = False
        self.emitted = 0

    def stop(self) -> None:
        """Emit nothing more (the runner calls this on stop)."""
        self.stopped = True

    async def __aiter__(self) -> AsyncIterator[Bar]:
        for b in self.bars:
            if self.stopped:
                return
            await asyncio.sleep(self.delay_s)
            self.emitted += 1
            yield b
