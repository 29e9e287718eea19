"""Progress reporting of research batches: a tqdm bar or a callback (for a Panel widget)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "ProgressArg"]

#: ``True`` = a tqdm bar (terminal or notebook), ``False``/``None`` = silent, or a callable
#: ``fn(done, total, outcome)`` called after each finished point (e.g. to move a Panel widget).
ProgressArg = bool | Callable[[int, int, Any], None] | None


class Progress:
    """Counts finished points and forwards them to tqdm or to a callback."""

    def __init__(self, progress: ProgressArg, total: int, desc: str) -> None:
        self.total = total
        self.done = 0
        self._fn = progress if callable(progress) else None
        self._bar: Any = None
        if progress is True:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="run", leave=False)

    def update(self, outcome: Any) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
            if getattr(outcome, "status", "done") == "failed":
                self._bar.set_postfix_str("some points failed", refresh=False)
        if self._fn is not None:
            self._fn(self.done, self.total, outcome)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
