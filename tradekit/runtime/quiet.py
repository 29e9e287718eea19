"""Fast-forward of a replay over *quiet* bars, where the engine provably only marks.

A backtest knows its bars in advance, and on most of them nothing happens: no setup fires, no
order is working, the open position's stop and next target are not touched, no premium or
time exit is due, the daily-loss limit is not reached. On such a bar :meth:`Engine.on_bar
<tradekit.runtime.kernel.Engine.on_bar>` only marks the positions (at the close, an option at
its quote mid: equity, each round trip's best and worst open P&L), remembers the price and
counts the bar. A run of those
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
  which keeps no decision records: its setup and SKIP decision are counted, not built; so
  is a setup the scan proves refused, before the horizon of the state gates (the decider's
  ``refused_until``: the day's trade limit reached, a symbol or global cooldown, HALTED) or,
  on the stock path, sized to less than one share on the account as marked at its bar;
* nobody listens to the bars or the position snapshots (the feed has no subscriber, the bus
  no ``bars.<symbol>`` / ``positions.snapshot`` handler) and no kill file is watched;
* at the span's start: no working order and no exit plan waiting for its fill; either at
  most one open position, a stock position of the symbol under any number of stock exit
  plans (or no position under plans that outlived theirs: they still watch their levels),
  or only option positions on the symbol (any number, each under at most single-leg plans
  with premium and time exits, none due to close at its DTE today) when the quote
  source can price a contract over a span at once
  (:meth:`~tradekit.options.chain.SyntheticChainProvider.quote_path`: the same quotes as one
  by one); the span stays inside the current day and, with a managed position, inside its
  session. Option positions are marked at their quote mids, and a bar where one has no
  valid quote, or a premium rule acts, is not quiet.

The signals the quiet bars reveal are still published, bar by bar with the clock at each
bar's close (when the pipeline builds them), so every record and its log time is what the
per-bar loop gives: the parity tests compare the two on stock, options and daily replays.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

import numpy as np

from tradekit.core.clock import SimClock
from tradekit.core.enums import TradingState
from tradekit.decision.engine import DecisionEngine
from tradekit.portfolio._dates import ny_date
from tradekit.runtime.nb import BOOK_COLUMNS, BOOK_MAE, BOOK_MFE, ExitRules, quiet_span

if TYPE_CHECKING:
    from tradekit._typing import FloatArray, IntArray
    from tradekit.core.columns import SetupColumns
    from tradekit.core.events import OptionContract
    from tradekit.data.feeds import ReplayFeed
    from tradekit.execution.monitor import ManagedPosition
    from tradekit.portfolio.position import Position
    from tradekit.runtime.kernel import Engine
    from tradekit.runtime.precomputed import PrecomputedPipeline

__all__ = ["QuietBars"]


class QuotePath(Protocol):
    """``(contract, times, greeks=) -> (bid, ask)`` over a span, the Greeks into ``greeks``
    (:meth:`~tradekit.options.chain.SyntheticChainProvider.quote_path`)."""

    def __call__(
        self, contract: OptionContract, ts_ns: IntArray, *, greeks: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray] | None: ...


class ChainRefusal(Protocol):
    """``(symbol, timeframe, ts_ns, direction, confidence, equity) -> bool``: the decider's
    proof that a setup is refused on the option chain at its bar for any account whose
    equity lies in ``equity`` (low, high)
    (:meth:`~tradekit.decision.options_engine.OptionsDecisionEngine.refused_on_chain`)."""

    def __call__(
        self,
        symbol: str,
        timeframe: str,
        ts_ns: int,
        direction: int,
        confidence: float,
        equity: tuple[float, float],
    ) -> bool: ...


_NO_TIME = np.iinfo(np.int64).max
_NEVER = np.iinfo(np.int64).min  # refused_until when the scan may refuse no setup
_NO_INT, _NO_FLOAT = np.empty(0, dtype=np.int64), np.empty(0)
#: the scan's exit rules without a managed position, premium rules without an option plan
_NO_RULES = (_NO_INT, _NO_FLOAT, _NO_FLOAT, _NO_INT, _NO_FLOAT, _NO_FLOAT)
_NO_PREMIUM = np.empty((0, 6))
_NO_BOOK = np.empty((0, len(BOOK_COLUMNS)))
_NO_ROWS = _NO_INT


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _exit_rules(
    managed: list[ManagedPosition],
    flatten_minutes: float,
    ints: IntArray | None = None,
    floats: FloatArray | None = None,
) -> ExitRules:
    """The exit levels of the managed stock positions as the scan's arrays: side, stop, next
    target, absolute time stop, minutes-before-close stop, end-of-day flatten (NaN or the
    largest time: none), written into the rows of ``ints`` (2 × positions) and ``floats``
    (4 × positions; new arrays when not given), whose rows are returned (each a contiguous
    array, as the scan needs)."""
    if not managed:
        return _NO_RULES
    if ints is None or floats is None:
        ints, floats = np.empty((2, len(managed)), dtype=np.int64), np.empty((4, len(managed)))
    side, time_stop = ints
    stop, target, before, flatten = floats
    nan = math.nan
    for n, m in enumerate(managed):
        plan = m.plan
        targets, done = plan.targets, m.targets_done
        side[n] = m.side
        time_stop[n] = _NO_TIME if plan.time_stop_ns is None else plan.time_stop_ns
        stop[n] = nan if m.stop is None else m.stop
        target[n] = targets[done] if done < len(targets) else nan
        mins = plan.time_stop_minutes_before_close
        before[n] = nan if mins is None else mins
        flatten[n] = flatten_minutes if plan.flatten_eod else nan
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
        # option positions are marked at their quote: priced a span at a time when the quote
        # source can (a synthetic chain with array spot and vol), else not fast-forwarded
        quotes = engine.broker.quote_source
        self._quote_path: QuotePath | None = (
            quotes.quote_path if getattr(quotes, "prices_paths", False) else None  # type: ignore[union-attr]
        )
        # per contract: the bars [lo, hi) priced, their mids and Greeks (5 rows)
        self._mark_cache: dict[OptionContract, tuple[int, int, FloatArray, FloatArray]] = {}
        n = self._c.shape[0]
        self._c_row = np.ascontiguousarray(self._c).reshape(1, -1)  # a stock position: closes
        self._no_marks = np.empty((0, n))
        # the setups the scan may find refused on the account state or, on the stock path,
        # by the sizer (pass_over_certain_skips)
        self._passes_setups = False
        self._setup_cols: SetupColumns | None = None
        self._setup_bars = _NO_INT
        self._chain_refusal: ChainRefusal | None = None
        self._refusable = np.zeros(n, dtype=np.bool_)
        self._sizing = np.empty((3, 0))
        self._limits = np.zeros(6)
        self._refusal_key: tuple[int, TradingState, int] | None = None
        self._refusal = _NEVER
        self._rules_key: tuple[tuple[str, float | None, int], ...] | None = None
        self._rules_cached: ExitRules = _NO_RULES
        self._rule_rows = (np.empty((2, 0), dtype=np.int64), np.empty((4, 0)))
        clock = engine.clock
        self._clock = clock if isinstance(clock, SimClock) else None
        self._ends_at = -1  # where the last span ended (not quiet), -1 when not known
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
        ``certain_skips``) as bars without setups, and, on the stock path, let the scan pass
        a setup the sizer gives no unit on the account as it stands at its bar; and let the
        pipeline pass a setup refused on the account state on a bar that is processed
        (:meth:`PrecomputedPipeline.pass_over_refused`): only for a replay that keeps no
        setup or decision records (it counts them,
        :attr:`PrecomputedPipeline.n_setups_passed`)."""
        pipe, decider = self.pipeline, self.engine.decider
        cols = pipe.setup_columns()
        pipe.pass_over_setups(decider.certain_skips(cols))
        pipe.pass_over_refused(self._horizon)
        self._busy = pipe.busy_mask()
        bars, n = pipe.setup_bars(), self._c.shape[0]
        self._refusable = np.zeros(n, dtype=np.bool_)
        self._refusable[bars] = True
        self._passes_setups = True
        self._setup_cols, self._setup_bars = cols, bars
        self._chain_refusal = getattr(decider, "refused_on_chain", None)
        if isinstance(decider, DecisionEngine):  # stock: the scan also sizes the others
            self._sizing = np.full((3, n), math.nan)
            self._sizing[:, bars] = decider.sizing_columns(cols)
            self._limits = np.array(decider.sizing_limits)

    def advance(self, i: int, equity_out: FloatArray) -> int:
        """Fast-forward from bar ``i`` over the quiet bars there; return the next bar to
        process (``i`` when bar ``i`` is not quiet). Writes their equity to ``equity_out``."""
        if i == self._ends_at:  # the span before ended here: bar i is not quiet
            self._ends_at = -1
            return i
        if i >= self._busy.shape[0] or (self._busy[i] and not self._refusable[i]):
            return i
        eng = self.engine
        broker, ledger, risk = eng.broker, eng.ledger, eng.risk
        if not broker.idle:
            return i
        bar_ts = int(self._ts[i])
        day_start, ts_end = broker.day_window
        if not day_start <= bar_ts < ts_end:
            return i  # a new day: the broker and the ledger roll it on this bar
        close_end = min(ledger.day_end_ns, risk.day_end_ns(eng.clock.now_ns()))
        if self._closes[i] >= close_end:
            return i
        refused_until = _NEVER
        opened = ledger.open_positions()
        if self._passes_setups:
            refused_until = self._refused_until(bar_ts, day_start)
            if (
                self._busy[i]
                and bar_ts >= refused_until
                and not self._sizing.shape[1]
                and (opened or not self._refused_on_chain(i))
            ):
                return i  # a setup to decide here (nothing to size it in the scan)
        contracts = [p.contract for p in opened if p.contract is not None]
        if contracts:
            if len(contracts) < len(opened) or self._quote_path is None:
                return i  # stock beside options, or options without span quotes
            if any(c.underlying != self.symbol for c in contracts):
                return i
        elif len(opened) > 1 or (opened and opened[0].symbol != self.symbol):
            return i
        managed = broker.managed_positions(self.symbol)
        session_close = 0
        premium, premium_row = _NO_PREMIUM, _NO_ROWS
        if managed:  # (plans outliving their flat stock position still watch their levels)
            if contracts:
                found = self._premium_rules(managed, contracts, bar_ts)
                if found is None:
                    return i
                premium, premium_row = found
            elif any(m.legs for m in managed):
                return i
            session = eng.calendar.session_bounds(bar_ts)
            if session is None:
                return i
            session_close = session[1]
            ts_end = min(ts_end, session_close)
        if contracts:
            marks, base = self._option_marks(contracts, i, ts_end), i
        else:
            marks, base = (self._c_row if opened else self._no_marks), 0
        rules = self._rules(managed)
        stock_row = -1
        trades = [p.trade for p in opened]
        if opened:
            book = np.array(
                [(p.qty, p.avg_price, p.multiplier, 0.0 if t is None else 1.0,
                  0.0 if t is None else t.mae, 0.0 if t is None else t.mfe)
                 for p, t in zip(opened, trades, strict=True)],
                dtype=np.float64,
            )  # fmt: skip
            for n, p in enumerate(opened):
                if p.contract is None and p.symbol == self.symbol:
                    stock_row = n
        else:
            book = _NO_BOOK
        j = quiet_span(
            i, self._ts, self._dur, self._o, self._h, self._lo, self._c, self._busy,
            ts_end, close_end, book, marks, base,
            ledger.cash, ledger.start_of_day_equity, risk.daily_loss_limit,
            risk.trading_state is not TradingState.HALTED,
            rules, session_close, premium, premium_row,
            self._refusable, self._sizing, self._limits, stock_row, refused_until, equity_out,
        )  # fmt: skip
        if j > i:
            for n, trade in enumerate(trades):
                if trade is not None:
                    trade.mae, trade.mfe = float(book[n, BOOK_MAE]), float(book[n, BOOK_MFE])
            last = self._last_option_marks(opened, j - 1) if contracts else None
            self._apply(i, j, last)
            # the scan stopped at bar j on the state the span leaves (it only marks): asked
            # again there it would stop at once, unless a setup there may still be refused
            # on the option chain (asked before the scan)
            if self._chain_refusal is None or j >= self._busy.shape[0] or not self._busy[j]:
                self._ends_at = j
        return j

    def _refused_on_chain(self, i: int) -> bool:
        """Whether the setup of bar ``i``, on a flat account with no order working, is
        refused on the option chain at its bar (the decider's ``refused_on_chain`` at the
        cash, which is then the equity at the decision); it is then passed over like a
        certain SKIP (counted, not built)."""
        if self._chain_refusal is None:
            return False
        cols = self._setup_cols
        assert cols is not None  # set with the refusal pass
        cash = self.engine.ledger.cash
        equity = (cash, cash)
        k = int(self._setup_bars.searchsorted(i))
        refused = bool(
            self._chain_refusal(cols.symbol, cols.timeframe, int(cols.ts_ns[k]),
                                int(cols.direction[k]), float(cols.confidence[k]), equity)
        )  # fmt: skip
        if refused:
            self.pipeline.pass_over_setup_at(i)
            self._busy = self.pipeline.busy_mask()
        return refused

    def _horizon(self, bar_ts: int) -> int:
        """:meth:`_refused_until` at a bar being processed (the broker has rolled its day):
        the pipeline passes a setup there that opens before it."""
        return self._refused_until(bar_ts, self.engine.broker.day_window[0])

    def _refused_until(self, bar_ts: int, day_start: int) -> int:
        """The decider's ``refused_until`` at ``bar_ts``, kept while what its state gates read
        stands: the entry log, the trading state and the day (a horizon found at an earlier
        bar of the same state is as true now: the scan compares the bar times with it)."""
        eng = self.engine
        entries = eng.decider.entries
        key = (entries.version, eng.risk.trading_state, day_start)
        if key != self._refusal_key:
            self._refusal_key = key
            self._refusal = eng.decider.refused_until(self.symbol, self.pipeline.timeframe,
                                                      bar_ts)  # fmt: skip
        return self._refusal

    def _rules(self, managed: list[ManagedPosition]) -> ExitRules:
        """:func:`_exit_rules` of ``managed``, kept while their stops and targets stand (the
        monitor moves a stop or a target only on a bar that is not quiet)."""
        key = tuple((m.key, m.stop, m.targets_done) for m in managed)
        if key != self._rules_key:
            flatten = self.engine.config.execution.flatten_intraday_minutes_before_close
            k = len(managed)
            if self._rule_rows[0].shape[1] != k:  # (the cached rules are rewritten in place)
                self._rule_rows = (np.empty((2, k), dtype=np.int64), np.empty((4, k)))
            self._rules_key = key
            self._rules_cached = _exit_rules(managed, flatten, *self._rule_rows)
        return self._rules_cached

    def _premium_rules(
        self, managed: list[ManagedPosition], contracts: list[OptionContract], ts_ns: int
    ) -> tuple[FloatArray, IntArray] | None:
        """The scan's premium rules of the plans managing single-leg positions in
        ``contracts`` (the open positions, in order), with the position each one reads; None
        when the bars cannot be fast-forwarded (a structure, price exits on an option, a plan
        on a contract not held, or a DTE close due today)."""
        rows = np.empty((len(managed), 6))
        which = np.empty(len(managed), np.int64)
        today = ny_date(ts_ns)
        for r, m in enumerate(managed):
            plan = m.plan
            if len(m.legs) != 1 or plan.has_price_exits:
                return None
            leg = m.legs[0]
            if leg.contract not in contracts:
                return None
            if plan.close_at_dte is not None and (
                (leg.contract.expiry - today).days <= plan.close_at_dte
            ):
                return None  # the monitor closes it on this bar
            half = plan.take_half_pct if not m.half_taken else None
            rows[r] = (m.entry_price, float(m.side), float(leg.ratio),
                       _nan(plan.premium_stop_pct), _nan(plan.take_all_pct), _nan(half))  # fmt: skip
            which[r] = contracts.index(leg.contract)
        return rows, which

    def _option_marks(self, contracts: list[OptionContract], i: int, ts_end: int) -> FloatArray:
        """Marks (quote mids; NaN where no valid quote) of each of ``contracts`` at the
        closes of bars ``i`` up to the first opening at ``ts_end`` (a day at most), one row
        per contract; a contract's quotes (and Greeks) are priced once per span of the day."""
        stop = int(self._ts.searchsorted(ts_end, side="left"))
        out = np.empty((len(contracts), max(stop - i, 0)))
        cache = self._mark_cache
        if len(cache) > 32:
            for c in [c for c, (_, hi, _, _) in cache.items() if hi <= i]:
                del cache[c]
        for r, contract in enumerate(contracts):
            hit = cache.get(contract)
            if hit is None or not (hit[0] <= i and stop <= hit[1]):
                assert self._quote_path is not None
                greeks = np.empty((5, stop - i))
                found = self._quote_path(contract, self._closes[i:stop], greeks=greeks)
                mids = np.full(stop - i, math.nan)
                if found is not None:
                    bid, ask = found
                    ok = (bid >= 0.0) & (ask > 0.0) & (ask >= bid) & np.isfinite(bid + ask)
                    mids[ok] = 0.5 * (bid[ok] + ask[ok])
                hit = (i, stop, mids, greeks)
                cache[contract] = hit
            out[r] = hit[2][i - hit[0] : stop - hit[0]]
        return out

    def _last_option_marks(
        self, opened: list[Position], last: int
    ) -> dict[str, tuple[float, tuple[float, ...]]]:
        """Each open option position's mark and Greeks at bar ``last`` of the span, as
        :meth:`_option_marks` priced them, for :meth:`Engine.fast_forward`."""
        out: dict[str, tuple[float, tuple[float, ...]]] = {}
        for p in opened:
            assert p.contract is not None
            lo, _, mids, greeks = self._mark_cache[p.contract]
            out[p.symbol] = (float(mids[last - lo]),
                             tuple(float(x) for x in greeks[:, last - lo]))  # fmt: skip
        return out

    def _apply(
        self, i: int, j: int, option_marks: dict[str, tuple[float, tuple[float, ...]]] | None
    ) -> None:
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
        # with the refusal pass on, the scan proved the setups it passed refused
        pipe.skip_to(j, refused=self._passes_setups)
        passed = pipe.n_setups_passed - before
        eng.counts["signals"] += published
        last = j - 1
        close_ts = int(closes[last])
        if self._clock is not None:
            self._clock.set_time(close_ts)
        eng.fast_forward(self.symbol, j - i, close_ts, float(self._c[last]),
                         certain_skips=passed, option_marks=option_marks)  # fmt: skip
        self.feed.skip_to(j)
        self.skipped += j - i
        self.spans += 1
