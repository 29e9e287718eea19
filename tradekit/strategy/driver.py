"""``StrategyDriver``: how the engine calls a strategy, safely, once per bar.

The driver keeps each symbol's causal :class:`~tradekit.strategy.base.BarHistory`, fills the
reused :class:`~tradekit.strategy.base.StrategyContext`, calls ``strategy.on_bar`` and checks
what comes back. A strategy is user code, so nothing it does may stop the engine
(freqtrade's ``strategy_safe_wrapper``): an exception, a result that is not a list of
:class:`~tradekit.core.events.Setup`, or a setup with mistyped fields becomes a
:class:`~tradekit.errors.PluginError` that is logged and published as an ``alerts.strategy``
alert, and the offending output is dropped. Close requests (``ctx.close``) become market
orders through the pre-trade risk checks and the paper broker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tradekit.core.enums import AlertLevel
from tradekit.core.events import Alert, Bar, Setup, Signal
from tradekit.core.ids import make_id
from tradekit.decision.base import check_setup_types
from tradekit.errors import DataError, PluginError
from tradekit.execution.orders import closing_request
from tradekit.strategy.base import DEFAULT_LOOKBACK, BarHistory, Strategy, StrategyContext
from tradekit.strategy.confluence import ConfluenceStrategy

if TYPE_CHECKING:
    from tradekit.runtime.kernel import Engine

__all__ = ["StrategyDriver", "strategy_name"]

_log = logging.getLogger("tradekit.strategy")
_EMPTY = BarHistory(1)


def strategy_name(strategy: object) -> str:
    """``strategy.name`` when it has one, else its class name."""
    name = getattr(strategy, "name", None)
    return name if isinstance(name, str) and name else type(strategy).__name__


class StrategyDriver:
    """Calls ``strategy.on_bar`` for the engine; see the module docstring.

    Parameters
    ----------
    strategy:
        Any :class:`~tradekit.strategy.base.Strategy`.
    engine:
        The engine whose ledger, risk engine, broker, bus and clock the context reads and the
        close requests go through.

    Attributes
    ----------
    errors : int
        Strategy failures so far (each one also an alert).
    """

    def __init__(self, strategy: Strategy, engine: Engine) -> None:
        if not callable(getattr(strategy, "on_bar", None)):
            raise TypeError(f"{strategy!r} is not a Strategy: it has no on_bar(bar, ctx)")
        self.strategy = strategy
        self.name = strategy_name(strategy)
        lookback = getattr(strategy, "lookback", DEFAULT_LOOKBACK)
        if not isinstance(lookback, int) or lookback < 0:
            raise TypeError(f"strategy {self.name}: lookback must be an int >= 0, got {lookback!r}")
        self.lookback = lookback
        self._engine = engine
        self._ctx = StrategyContext(engine.ledger)
        self._history: dict[str, BarHistory] = {}
        self._index: dict[str, int] = {}
        self.errors = 0

    def step(self, bar: Bar, signals: Sequence[Signal], confluence: Sequence[Setup]) -> list[Setup]:
        """The checked setups of the strategy at ``bar`` (after its close requests were sent)."""
        sym = bar.symbol
        index = self._index.get(sym, -1) + 1
        self._index[sym] = index
        history = _EMPTY
        if self.lookback:
            history = self._history.get(sym) or self._history.setdefault(
                sym, BarHistory(self.lookback)
            )
            history.append(bar)
        ctx = self._ctx
        ctx._reset(bar, index, history, signals, confluence)
        try:
            out = self.strategy.on_bar(bar, ctx)
        except Exception as exc:  # user code: report it, never let it stop the engine
            self._fail(bar, f"on_bar raised {type(exc).__name__}: {exc}", exc)
            out = []
        finally:
            ctx.bar = None
        if ctx._closes:
            self._close(ctx._closes)
        if out.__class__ is list and all(s.__class__ is Setup for s in out):
            setups: list[Setup] = out
        else:
            setups = self._checked(bar, out)
        good: list[Setup] = []
        for s in setups:
            try:
                check_setup_types(s)  # the decision engine would raise on a mistyped setup
            except DataError as exc:
                self._fail(bar, str(exc), exc)
                continue
            good.append(s)
        return good

    @property
    def passes_through(self) -> bool:
        """True when the strategy is the built-in confluence one, unchanged: without bar
        history, it returns the confluence setups and nothing else, so a bar without setups
        makes it do nothing (a replay may then skip calling it: :mod:`tradekit.runtime.quiet`)."""
        return type(self.strategy) is ConfluenceStrategy and self.lookback == 0

    def skip(self, symbol: str, n_bars: int) -> None:
        """Count ``n_bars`` bars of ``symbol`` as seen without calling the strategy (only for a
        strategy that :attr:`passes_through`, on bars without setups)."""
        self._index[symbol] = self._index.get(symbol, -1) + n_bars

    def _checked(self, bar: Bar, out: object) -> list[Setup]:
        if out is None:
            return []
        if not isinstance(out, (list, tuple)):
            self._fail(bar, f"on_bar returned {type(out).__name__}, not a list of Setup", None)
            return []
        good = [s for s in out if isinstance(s, Setup)]
        if len(good) != len(out):
            bad = next(s for s in out if not isinstance(s, Setup))
            self._fail(bar, f"on_bar returned a {type(bad).__name__}, not a Setup", None)
        return good

    def _close(self, requests: list[tuple[str, str]]) -> None:
        eng = self._engine
        now = eng.clock.now_ns()
        for symbol, reason in dict(requests).items():  # one order per symbol and bar
            pos = eng.ledger.position(symbol)
            if pos is None or pos.qty == 0:
                continue
            request = closing_request(
                symbol, pos.qty, pos.contract, pos.underlying,
                client_id=f"strategy:{self.name}:{symbol}:{now}", tag="exit:strategy",
            )  # fmt: skip
            verdict = eng.risk.approve(request)
            if not verdict.approved:
                eng.broker.record_rejection(request, f"risk: {verdict.reason}")
                eng.counts["risk_denied"] += 1
                continue
            order = eng.broker.submit(request)
            eng.counts[f"orders.{order.status.value.lower()}"] += 1
            _log.debug("strategy %s closes %s (%s): %s", self.name, symbol, reason, order.status)

    def _fail(self, bar: Bar, message: str, cause: BaseException | None) -> None:
        self.errors += 1
        self._engine.counts["strategy_errors"] += 1
        err = PluginError(f"strategy {self.name}: {message}")
        if cause is not None:
            err.__cause__ = cause
        if self.errors <= 3 or self.errors % 100 == 0:  # the alerts keep every one
            _log.warning("%s (bar %s %d, failure %d)", err, bar.symbol, bar.ts_ns, self.errors)
        now = self._engine.clock.now_ns()
        alert = Alert(
            make_id("alert", "strategy", self.name, bar.symbol, bar.ts_ns, message),
            now,
            AlertLevel.WARNING,
            "strategy",
            str(err),
            {"symbol": bar.symbol, "bar_ts_ns": bar.ts_ns, "strategy": self.name},
        )
        self._engine.bus.publish("alerts.strategy", alert)
