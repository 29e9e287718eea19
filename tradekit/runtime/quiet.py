"""Fast-forward of a replay over *quiet* bars, where the engine provably only marks.

A backtest knows its bars in advance, and on most of them nothing happens: no setup fires, no
order is working, the open position's stop and next target are not touched, no time exit is
due, the daily-loss limit is not reached. On such a bar :meth:`Engine.on_bar
<tradekit.runtime.kernel.Engine.on_bar>` only marks the position at the close (equity, the
round trip's best and worst open P&L), remembers the price and counts the bar. A run of those
bars is a *quiet span*: the numba scan :func:`~tradekit.runtime.nb.quiet_span` finds where it
ends and computes the equity of every bar in it, and :meth:`Engine.fast_forward
<tradekit.runtime.kernel.Engine.fast_forward>` leaves the engine as the last of them would
have. The first bar that is not quiet goes through ``on_bar`` as always.

When a span may be taken (:meth:`QuietBars.for_replay` checks once, :meth:`QuietBars.advance`
at every bar):

* one symbol, replayed with the batch pipeline (its setups are known per bar), by the built-in
  confluence strategy unchanged (it does nothing on a bar without setups); a bar whose only
  setup is a certain SKIP (a gate refuses it on the setup alone,
  :mod:`tradekit.decision.prescreen`) counts as a bar without setups in a metrics-only run,
  which keeps no decision records: its setup and SKIP decision are counted, not built;
* nobody listens to the bars or the position snapshots (the feed has no subscriber, the bus
  no ``bars.<symbol>`` / ``positions.snapshot`` handler) and no kill file is watched;
* at the span's start: no working order and no exit plan waiting for its fill, at most one
  open position (a stock position of the symbol) under at most one stock exit plan, and the
  span stays inside the current day and, with a managed position, inside its session.

The signals the quiet bars reveal are still published, bar by bar with the clock at each
bar's close (when the pipeline builds them), so every record and its log time is what the
per-bar loop gives: the parity tests compare the two on stock, options and daily replays.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from tradekit.core.clock import SimClock
from tradekit.core.enums import TradingState
from tradekit.runtime.nb import quiet_span

if TYPE_CHECKING:
    from tradekit._typing import FloatArray, IntArray
    from tradekit.data.feeds import ReplayFeed
    from tradekit.execution.monitor import ManagedPosition
    from tradekit.runtime.kernel import Engine
    from tradekit.runtime.precomputed import PrecomputedPipeline

__all__ = ["QuietBars"]

_NO_TIME = np.iinfo(np.int64).max


def _exit_rules(
    managed: list[ManagedPosition], flatten_minutes: float
) -> tuple[IntArray, FloatArray, FloatArray, IntArray, FloatArray, FloatArray]:
    """The exit levels of the managed stock positions as the scan's arrays: side, stop, next
    target, absolute time stop, minutes-before-close stop, end-of-day flatten (NaN or the
    largest time: none)."""
    k = len(managed)
    side = np.empty(k, dtype=np.int64)
    stop = np.full(k, math.nan)
    target = np.full(k, math.nan)
    time_stop = np.full(k, _NO_TIME, dtype=np.int64)
    before = np.full(k, math.nan)
    flatten = np.full(k, math.nan)
    for n, m in enumerate(managed):
        plan = m.plan
        side[n] = m.side
        if m.stop is not None:
            stop[n] = m.stop
        if m.targets_done < len(plan.targets):
            target[n] = plan.targets[m.targets_done]
        if plan.time_stop_ns is not None:
            time_stop[n] = plan.time_stop_ns
        if plan.time_stop_minutes_before_close is not None:
            before[n] = plan.time_stop_minutes_before_close
        if plan.flatten_eod:
            flatten[n] = flatten_minutes
    return side, stop, target, time_stop, before, flatten


class QuietBars:
    """Finds and applies the quiet spans of one replay (see the module docstring).

    Build it with :meth:`for_replay`, which returns None when the replay cannot skip at all.
    """

    def __init__(self, engine: Engine, feed: ReplayFeed, pipeline: PrecomputedPipeline) -> None:
        self.engine, self.feed, self.pipeline = engine, feed, pipeline
        self.symbol = feed.symbols[0]
        self._ts, self._o, self._h, self._lo, self._c, self._dur = feed.columns()
        self._closes = self._ts + self._dur
        self._busy = pipeline.busy_mask()
        self._publish = pipeline.builds_signals
        clock = engine.clock
        self._clock = clock if isinstance(clock, SimClock) else None
        #: bars fast-forwarded so far, and the spans they came in
        self.skipped = 0
        self.spans = 0

    @classmethod
    def for_replay(
        cls, engine: Engine, feed: ReplayFeed, pipeline: PrecomputedPipeline | None
    ) -> QuietBars | None:
        """A :class:`QuietBars` for this replay, or None when it must go bar by bar."""
        if pipeline is None or len(feed.symbols) != 1 or feed.observed:
            return None
        symbol = feed.symbols[0]
        bus = engine.bus
        if bus.listens(f"bars.{symbol}") or bus.listens("positions.snapshot"):
            return None
        if engine.killswitch.flag_path is not None or not engine.strategy_driver.passes_through:
            return None
        if not isinstance(engine.clock, SimClock):
            return None
        return cls(engine, feed, pipeline)

    def pass_over_certain_skips(self) -> None:
        """Treat the bars whose only setup is a certain SKIP (the engine's
        ``certain_skips``) as bars without setups: only for a replay that keeps no setup or
        decision records (it counts them, :attr:`PrecomputedPipeline.n_setups_passed`)."""
        pipe = self.pipeline
        pipe.pass_over_setups(self.engine.decider.certain_skips(pipe.setup_columns()))
        self._busy = pipe.busy_mask()

    def advance(self, i: int, equity_out: FloatArray) -> int:
        """Fast-forward from bar ``i`` over the quiet bars there; return the next bar to
        process (``i`` when bar ``i`` is not quiet). Writes their equity to ``equity_out``."""
        if i >= self._busy.shape[0] or self._busy[i]:
            return i
        eng = self.engine
        broker, ledger, risk = eng.broker, eng.ledger, eng.risk
        if not broker.idle:
            return i
        day_start, ts_end = broker.day_window
        if self._ts[i] < day_start:
            return i
        opened = ledger.open_positions()
        pos = None
        if opened:
            pos = opened[0]
            if len(opened) > 1 or pos.symbol != self.symbol or pos.contract is not None:
                return i
        managed = broker.managed_positions(self.symbol)
        session_close = 0
        if managed:
            if pos is None or any(m.legs for m in managed):
                return i
            session = eng.calendar.session_bounds(int(self._ts[i]))
            if session is None:
                return i
            session_close = session[1]
            ts_end = min(ts_end, session_close)
        rules = _exit_rules(managed, eng.config.execution.flatten_intraday_minutes_before_close)
        close_end = min(ledger.day_end_ns, risk.day_end_ns(eng.clock.now_ns()))
        trade = pos.trade if pos is not None else None
        j, mae, mfe = quiet_span(
            i, self._ts, self._dur, self._o, self._h, self._lo, self._c, self._busy,
            ts_end, close_end,
            pos.qty if pos is not None else 0.0,
            pos.avg_price if pos is not None else 0.0,
            pos.multiplier if pos is not None else 1.0,
            ledger.cash, ledger.start_of_day_equity, risk.daily_loss_limit,
            risk.trading_state is not TradingState.HALTED, trade is not None,
            rules, session_close,
            trade.mae if trade is not None else 0.0, trade.mfe if trade is not None else 0.0,
            equity_out,
        )  # fmt: skip
        if j > i:
            self._apply(i, j, mae, mfe)
        return j

    def _apply(self, i: int, j: int, mae: float, mfe: float) -> None:
        eng, pipe = self.engine, self.pipeline
        closes = self._closes
        published = 0
        if self._publish:
            bus, clock = eng.bus, self._clock
            for t in pipe.signal_bars(i, j):
                if clock is not None:
                    clock.set_time(int(closes[t]))
                for sig in pipe.signals_at(int(t)):
                    bus.publish(f"signals.{sig.kind.lower()}", sig)
                    published += 1
        before = pipe.n_setups_passed
        pipe.skip_to(j)
        passed = pipe.n_setups_passed - before
        eng.counts["signals"] += published
        last = j - 1
        close_ts = int(closes[last])
        if self._clock is not None:
            self._clock.set_time(close_ts)
        pos = eng.ledger.position(self.symbol)
        if pos is not None and pos.trade is not None:
            pos.trade.mae, pos.trade.mfe = mae, mfe
        eng.fast_forward(self.symbol, j - i, close_ts, float(self._c[last]), certain_skips=passed)
        self.feed.skip_to(j)
        self.skipped += j - i
        self.spans += 1
