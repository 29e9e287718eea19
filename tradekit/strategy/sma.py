"""``SmaCross``: the minimal built-in user strategy, a moving-average crossover.

It is also the reference for writing your own: it reads the causal bar history, emits a
:class:`~tradekit.core.events.Setup` on a crossover and asks for the open position to be
closed on the opposite one. Its setups go through the same gates, risk checks, paper broker
and ledger as the confluence algorithm's. Because a crossover is a single signal, the default
gates (which want a confluence of two signal families) need the overrides of
:meth:`SmaCross.config_overrides`; :func:`~tradekit.strategy.strategy_config` applies them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradekit.config import AlgorithmConfig
from tradekit.core.events import Bar, Setup
from tradekit.strategy.base import StrategyContext, make_setup

__all__ = ["SmaCross"]


@dataclass(frozen=True, slots=True)
class SmaCross:
    """Long (optionally short) on a crossover of two simple moving averages of the close.

    Parameters
    ----------
    fast, slow:
        SMA lengths in bars (``fast < slow``).
    stop_atr:
        Protective stop distance in ATRs below (long) / above (short) the entry. The risk
        per share it implies sizes the trade (``decision.risk_per_trade`` of equity).
    atr_period:
        Bars in the average true range.
    targets_r:
        Take-profit distances in R (multiples of the stop distance), nearest first; the first
        one must be at least ``decision.min_rr_default`` (2.0) for gate 5.
    short:
        Also sell short on a cross down (otherwise a cross down only closes the long).
    confidence:
        Confidence recorded on the setups (gate 1 compares it with ``min_confidence``).

    Notes
    -----
    A cross up at bar ``t`` is ``fast[t-1] < slow[t-1]`` and ``fast[t] > slow[t]`` (strict on
    both sides, as ``backtesting.lib.crossover``); the SMAs include bar ``t``'s close, and the
    entry fills at bar ``t+1``'s open. The opposite cross closes the position at market (also
    at the next open); the stop and the targets work in between.

    Examples
    --------
    >>> SmaCross(10, 50).lookback
    51
    """

    fast: int = 10
    slow: int = 50
    stop_atr: float = 2.0
    atr_period: int = 14
    targets_r: tuple[float, ...] = (2.0, 3.0, 4.0)
    short: bool = False
    confidence: float = 7.0

    #: the signal kind of the setups, scored as a ``structure`` signal
    KIND = "SMA_CROSS"

    def __post_init__(self) -> None:
        if not (1 <= self.fast < self.slow):
            raise ValueError(f"need 1 <= fast < slow, got fast={self.fast}, slow={self.slow}")
        if not self.stop_atr > 0:
            raise ValueError("stop_atr must be > 0")
        if self.atr_period < 1:
            raise ValueError("atr_period must be >= 1")
        if not self.targets_r or any(not r > 0 for r in self.targets_r):
            raise ValueError("targets_r needs one to three positive R multiples")
        object.__setattr__(self, "targets_r", tuple(float(r) for r in self.targets_r[:3]))

    @property
    def name(self) -> str:
        return f"sma_cross_{self.fast}_{self.slow}"

    @property
    def lookback(self) -> int:
        """Bars of history needed: both SMAs at this bar and the previous one, and the ATR."""
        return max(self.slow, self.atr_period) + 1

    def config_overrides(self, config: AlgorithmConfig) -> dict[str, Any]:
        """What the gates need to judge a single-signal setup.

        ``SMA_CROSS`` is registered as a ``structure`` kind; gate 1 accepts one signal
        (``min_confluence=1``), gate 3 a factor score of one structure weight (2.5 by default)
        and gate 4 a primary without confirmations (``min_roles=1``). Every other gate (session
        and VIX, reward:risk, sizing, daily limits and cooldowns) is unchanged.
        """
        dc = config.decision
        weight = dc.family_weights["structure"]
        return {
            "decision.kind_families": {**dc.kind_families, self.KIND: "structure"},
            "decision.min_confluence": 1,
            "decision.min_roles": 1,
            "decision.min_factor_score": min(dc.min_factor_score, weight),
        }

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> list[Setup]:
        h = ctx.history
        n = len(h)
        if n < self.lookback:
            return []
        c = h.close
        f, s = self.fast, self.slow
        fast_now, slow_now = c[n - f :].mean(), c[n - s :].mean()
        fast_prev, slow_prev = c[n - f - 1 : n - 1].mean(), c[n - s - 1 : n - 1].mean()
        up = fast_prev < slow_prev and fast_now > slow_now
        down = fast_prev > slow_prev and fast_now < slow_now
        if not (up or down):
            return []
        pos = ctx.position()
        direction = 1 if up else -1
        if pos * direction < 0:
            ctx.close(reason=f"SMA {f}/{s} cross {'up' if up else 'down'}")
        if pos * direction > 0 or (down and not self.short):
            return []
        risk = self.stop_atr * self._atr(ctx)
        if not (math.isfinite(risk) and risk > 0):  # a flat history: no stop distance
            return []
        entry = float(bar.close)
        return [
            make_setup(
                bar,
                direction,
                stop=entry - direction * risk,
                targets=[entry + direction * r * risk for r in self.targets_r],
                kind=self.KIND,
                strategy=self.name,
                confidence=self.confidence,
                index=ctx.index,
            )
        ]

    def _atr(self, ctx: StrategyContext) -> float:
        """Mean true range of the last ``atr_period`` bars (Wilder's TR, simple average)."""
        h, p = ctx.history, self.atr_period
        hi, lo, prev = h.high[-p:], h.low[-p:], h.close[-p - 1 : -1]
        tr = np.maximum(hi - lo, np.maximum(np.abs(hi - prev), np.abs(lo - prev)))
        return float(tr.mean())
