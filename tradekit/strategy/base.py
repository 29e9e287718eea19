"""The seam for user strategies: the :class:`Strategy` protocol and what it sees per bar.

A strategy turns one closed bar into zero or more :class:`~tradekit.core.events.Setup`
records. The engine sends every setup, whoever made it, through the same decision gates,
pre-trade risk checks, paper broker and ledger, so a user strategy is judged and executed
exactly like the built-in confluence algorithm (:class:`~tradekit.strategy.ConfluenceStrategy`).

Per bar the engine hands the strategy a :class:`StrategyContext`:

* ``history`` -- the causal OHLCV history of the bar's symbol, this bar included and nothing
  after it (:class:`BarHistory`, numpy views, ``lookback`` bars deep);
* ``signals`` -- the detector events known at this bar's close (base and higher timeframes);
* ``confluence`` -- the setups the built-in confluence layer found at this bar;
* ``position(symbol)``, ``positions`` and ``account`` -- the paper account, read-only;
* ``close(symbol)`` -- ask for a position to be closed at market (it fills at the next bar's
  open, like every market order).

The context object is reused from bar to bar: read it during ``on_bar``, do not keep it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.core.events import Bar, Setup, Signal
from tradekit.core.ids import make_id

if TYPE_CHECKING:
    from tradekit.portfolio.base import AccountSummary
    from tradekit.portfolio.ledger import Ledger
    from tradekit.portfolio.position import Position

__all__ = [
    "DEFAULT_LOOKBACK",
    "BarHistory",
    "Strategy",
    "StrategyContext",
    "make_setup",
]

#: Bars of history kept per symbol for a strategy that does not say (``Strategy.lookback``).
DEFAULT_LOOKBACK = 500


@runtime_checkable
class Strategy(Protocol):
    """Anything with ``on_bar(bar, ctx) -> list[Setup]`` is a strategy.

    Optional attributes the engine reads when present:

    ``name`` (str)
        Recorded in alerts and setup ids (default: the class name).
    ``lookback`` (int)
        Bars of history ``ctx.history`` keeps (default :data:`DEFAULT_LOOKBACK`; 0 keeps none).
    ``reads_signals`` (bool)
        Whether ``on_bar`` reads ``ctx.signals`` (default True). A strategy that says False
        lets a metrics-only backtest (``record="summary"``) skip building signal records.
    ``config_overrides(config) -> dict``
        Dotted-path overrides (``{"decision.min_roles": 1}``) that let this strategy's setups
        through the gates; :func:`~tradekit.strategy.strategy_config` applies them.

    A strategy that raises does not stop the engine: the bar's setups are dropped, a
    ``PluginError`` is logged and an alert is published on ``alerts.strategy``.
    """

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> list[Setup]:
        """Setups known at ``bar``'s close (entries are decided now, filled from the next open)."""
        ...


class BarHistory:
    """The last ``capacity`` bars of one symbol, as numpy views ending at the current bar.

    Appending is O(1) amortised (a buffer twice the capacity, compacted when full), and every
    accessor returns a view, so reading ``history.close`` each bar costs no copy.

    Examples
    --------
    >>> h = BarHistory(3)
    >>> for i in range(5):
    ...     h.append(Bar("X", "1min", i, 1.0, 2.0, 0.5, float(i), 10.0))
    >>> h.close.tolist(), len(h)
    ([2.0, 3.0, 4.0], 3)
    """

    __slots__ = ("_buf", "_cap", "_end", "_start", "_ts")

    _O, _H, _L, _C, _V = range(5)

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._cap = int(capacity)
        self._buf = np.empty((5, 2 * self._cap), dtype=np.float64)
        self._ts = np.empty(2 * self._cap, dtype=np.int64)
        self._start = 0
        self._end = 0

    def append(self, bar: Bar) -> None:
        """Add the bar that just closed (the engine does this before calling the strategy)."""
        if self._end == self._buf.shape[1]:  # compact: keep the last capacity - 1 bars
            keep = self._cap - 1
            self._buf[:, :keep] = self._buf[:, self._end - keep : self._end]
            self._ts[:keep] = self._ts[self._end - keep : self._end]
            self._start, self._end = 0, keep
        j = self._end
        col = self._buf[:, j]
        col[0], col[1], col[2], col[3], col[4] = bar.open, bar.high, bar.low, bar.close, bar.volume
        self._ts[j] = bar.ts_ns
        self._end = j + 1
        if self._end - self._start > self._cap:
            self._start += 1

    def __len__(self) -> int:
        return self._end - self._start

    def _col(self, i: int) -> FloatArray:
        return self._buf[i, self._start : self._end]

    @property
    def open(self) -> FloatArray:
        return self._col(self._O)

    @property
    def high(self) -> FloatArray:
        return self._col(self._H)

    @property
    def low(self) -> FloatArray:
        return self._col(self._L)

    @property
    def close(self) -> FloatArray:
        """Closes, oldest first; ``close[-1]`` is the current bar's."""
        return self._col(self._C)

    @property
    def volume(self) -> FloatArray:
        return self._col(self._V)

    @property
    def ts_ns(self) -> IntArray:
        """Open times (int ns UTC) of the bars."""
        return self._ts[self._start : self._end]

    def frame(self) -> pd.DataFrame:
        """A copy as a bar frame (UTC index of open times); convenient, not for hot loops."""
        idx = pd.DatetimeIndex(pd.to_datetime(self.ts_ns, unit="ns", utc=True), name="ts")
        return pd.DataFrame(
            {
                "open": self.open.copy(),
                "high": self.high.copy(),
                "low": self.low.copy(),
                "close": self.close.copy(),
                "volume": self.volume.copy(),
            },
            index=idx,
        )


class StrategyContext:
    """What a strategy may look at for one bar (see the module docstring); read-only.

    Attributes
    ----------
    bar : Bar
        The bar that just closed.
    history : BarHistory
        Causal history of ``bar.symbol`` (ends with ``bar``); empty when ``lookback`` is 0.
    signals : sequence of Signal
        Detector events known at this bar's close.
    confluence : sequence of Setup
        Setups of the built-in confluence layer at this bar.
    index : int
        Position of ``bar`` in its symbol's series (0 for the first bar seen).
    """

    __slots__ = ("_closes", "_ledger", "bar", "confluence", "history", "index", "signals")

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._closes: list[tuple[str, str]] = []
        self.bar: Bar | None = None
        self.history: BarHistory = BarHistory(1)
        self.signals: Sequence[Signal] = ()
        self.confluence: Sequence[Setup] = ()
        self.index = -1

    def _reset(
        self,
        bar: Bar,
        index: int,
        history: BarHistory,
        signals: Sequence[Signal],
        confluence: Sequence[Setup],
    ) -> None:
        self.bar, self.index, self.history = bar, index, history
        self.signals, self.confluence = signals, confluence
        if self._closes:
            self._closes = []

    def position(self, symbol: str | None = None) -> float:
        """Signed quantity held in ``symbol`` (default: this bar's), 0.0 when flat."""
        sym = symbol if symbol is not None else self._bar().symbol
        return self._ledger.position_qty(sym)

    @property
    def positions(self) -> Mapping[str, Position]:
        """Every open position by symbol (ledger state marked at this bar's close)."""
        return self._ledger.positions

    @property
    def account(self) -> AccountSummary:
        """Cash, equity, day P&L ... of the paper account at this bar's close."""
        return self._ledger.summary()

    def close(self, symbol: str | None = None, reason: str = "strategy exit") -> None:
        """Close the position in ``symbol`` (default: this bar's) with a market order that
        fills at the next bar's open. Flat symbols are ignored. The order skips the entry gates
        (closing adds no risk) but not the pre-trade risk checks: while trading is HALTED it
        is refused, and the position's stop and targets keep working."""
        sym = symbol if symbol is not None else self._bar().symbol
        self._closes.append((sym, reason))

    def _bar(self) -> Bar:
        if self.bar is None:
            raise RuntimeError("the strategy context is only valid during on_bar")
        return self.bar


def make_setup(
    bar: Bar,
    direction: int,
    *,
    stop: float,
    targets: Sequence[float],
    kind: str,
    strategy: str,
    entry: float | None = None,
    confidence: float = 7.0,
    index: int = -1,
    signal_ids: tuple[str, ...] = (),
) -> Setup:
    """A :class:`Setup` of a user strategy at ``bar`` with a deterministic id.

    Parameters
    ----------
    bar:
        The bar at whose close the setup is known (``ts_ns`` and ``index`` come from it).
    direction:
        +1 long, -1 short.
    stop:
        Protective stop price (currency); sizes the trade (risk = ``|entry - stop|``).
    targets:
        One to three take-profit prices, nearest first (missing ones repeat the last).
    kind:
        The signal kind recorded in ``active_signals``; register it with a family in
        ``DecisionConfig.kind_families`` so the gates can score it.
    strategy:
        Name of the strategy (part of the id).
    entry:
        Reference entry price; default the bar's close.
    confidence:
        0..10, compared with ``decision.min_confidence`` by gate 1.
    index:
        Position of the bar in its series (``ctx.index``).
    signal_ids:
        Ids of the detector events the setup rests on, if any.
    """
    if not targets:
        raise ValueError("a setup needs at least one target")
    e = float(bar.close if entry is None else entry)
    tps = [float(t) for t in targets][:3]
    while len(tps) < 3:
        tps.append(tps[-1])
    return Setup(
        id=make_id("setup", strategy, bar.symbol, bar.timeframe, int(bar.ts_ns), int(direction)),
        symbol=bar.symbol,
        timeframe=bar.timeframe,
        ts_ns=int(bar.ts_ns),
        index=int(index),
        direction=int(direction),
        entry=e,
        stop=float(stop),
        tp1=tps[0],
        tp2=tps[1],
        tp3=tps[2],
        confidence=float(confidence),
        score=float(confidence),
        confluence_count=1,
        active_signals=(kind,),
        signal_ids=signal_ids,
        htf_bias=0,
    )
