"""A process-wide setting changed while a replay runs, shared by nested and concurrent uses.

The replay's collector thresholds (:mod:`tradekit.runtime.gcpolicy`) and numpy's huge-page
advice (:mod:`tradekit.runtime.pages`) belong to the whole process: the first use applies the
replay's value and saves the one before, later uses (nested, or in other threads) share it,
and the last one to end restores the saved value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["SharedSetting"]

_T = TypeVar("_T")


class SharedSetting(Generic[_T]):
    """``apply()`` sets the replay's value and returns the previous one; ``restore(saved)``
    puts it back."""

    def __init__(self, apply: Callable[[], _T], restore: Callable[[_T], None]) -> None:
        self._apply, self._restore = apply, restore
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: _T | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Run the body with the replay's value (applied by the first of concurrent uses)."""
        with self._lock:
            if self._depth == 0:
                self._saved = self._apply()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    saved, self._saved = self._saved, None
                    self._restore(saved)  # type: ignore[arg-type]  # set by the first use
