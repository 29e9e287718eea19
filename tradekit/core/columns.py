"""``SetupColumns``: the setups of one series as arrays, for decisions taken in batch.

A backtest knows every setup of its replay before the loop starts (the batch pipeline computes
them in one pass). Most of them are refused by a gate that reads nothing but the setup, its bar
time and the VIX (confidence, session, factor score, roles, reward:risk), and such a refusal
cannot depend on the account. :class:`SetupColumns` carries exactly the
:class:`~tradekit.core.events.Setup` fields those gates read, one array entry per setup, so the
decision engines can find those certain refusals with array operations
(:meth:`tradekit.decision.engine.DecisionEngine.certain_skips`) instead of building a record
and a decision for each.

Units and conventions are those of :class:`~tradekit.core.events.Setup`: nanoseconds UTC,
prices in currency, ``direction`` +1 / -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradekit._typing import FloatArray, IntArray

__all__ = ["SetupColumns"]


@dataclass(frozen=True, eq=False)
class SetupColumns:
    """The gate-relevant fields of ``n`` setups of one ``symbol`` / ``timeframe`` series.

    Attributes
    ----------
    index:
        Bar position of each setup in its series (int64).
    ts_ns:
        The setup's bar time (int64 ns UTC), what every time check of a decision uses.
    direction, confluence_count:
        As on ``Setup`` (int64).
    entry, stop, tp1, confidence:
        As on ``Setup`` (float64).
    kind_code:
        Per setup, a position in ``kinds`` (int64).
    kinds:
        The distinct ``active_signals`` tuples of the setups.
    """

    symbol: str
    timeframe: str
    index: IntArray
    ts_ns: IntArray
    direction: IntArray
    entry: FloatArray
    stop: FloatArray
    tp1: FloatArray
    confidence: FloatArray
    confluence_count: IntArray
    kind_code: IntArray
    kinds: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        n = self.index.shape[0]
        for name in ("ts_ns", "direction", "entry", "stop", "tp1", "confidence",
                     "confluence_count", "kind_code"):  # fmt: skip
            if getattr(self, name).shape != (n,):
                raise ValueError(f"SetupColumns.{name} must have shape ({n},)")
        if n and (self.kind_code.min() < 0 or self.kind_code.max() >= len(self.kinds)):
            raise ValueError("SetupColumns.kind_code must index kinds")

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @classmethod
    def empty(cls, symbol: str, timeframe: str) -> SetupColumns:
        """No setups."""
        i, f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        return cls(symbol, timeframe, i, i, i, f, f, f, f, i, i, ())
