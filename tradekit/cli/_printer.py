"""What ``tradekit run`` prints: one summary per session, decisions on request, a closing line.

Three levels (``--quiet``, default, ``--verbose``):

* ``quiet``: nothing but the closing summary;
* ``summary`` (default): one line when each session ends (its last bar), then the closing
  summary once;
* ``verbose``: also one line per decision (ENTER, SKIP with its block reason, SHADOW).

The counts are named so that they relate (README, "What the counts mean"):
``bars → signals (detector events) → setups (confluences of signals) → decisions (one per
setup: enter / skip / shadow) → entries sent (ENTER decisions that reached the broker; the rest
were refused by risk or the market calendar) → orders (entries + exits + flattens) → fills
(one per leg) → closed trades (flat to flat)``. The ``auto_signals`` table holds the signals
*and* the setups (``is_setup``), so its row count is their sum.

Library messages (risk-state changes, restored HALTED...) go through :mod:`logging`;
:func:`configure_logging` shows them on stderr at the chosen level.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, Literal, TextIO

from tradekit.cli._common import fmt_ts
from tradekit.core.events import Bar, Decision
from tradekit.portfolio._dates import ny_date

__all__ = ["RunPrinter", "Verbosity", "configure_logging", "count_lines", "named_counts"]

Verbosity = Literal["quiet", "summary", "verbose"]


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (a redirected or
    captured stderr included), not the stream that was current when it was installed."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(verbosity: Verbosity) -> None:
    """Show tradekit's log records on stderr: warnings by default, info with ``verbose``,
    errors only with ``quiet`` (installs one handler, once)."""
    level = {"quiet": logging.ERROR, "summary": logging.WARNING, "verbose": logging.INFO}
    logger = logging.getLogger("tradekit")
    logger.setLevel(level[verbosity])
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def named_counts(engine: Any) -> dict[str, int]:
    """The engine's counts under names that add up (see the module docstring).

    ``entries_sent + entries_refused == decisions_enter``; ``orders`` counts every order the
    broker saw (entries, exits, flattens, rejections); ``open_trades`` are round trips still
    open at the end.
    """
    c: Mapping[str, int] = engine.counts
    enter = c.get("decisions.enter", 0)
    refused = c.get("risk_denied", 0) + c.get("orders.rejected", 0)
    n_open = sum(1 for p in engine.ledger.positions.values() if p.qty)
    return {
        "bars": c.get("bars", 0),
        "signals": c.get("signals", 0),
        "setups": c.get("setups", 0),
        "decisions": enter + c.get("decisions.skip", 0) + c.get("decisions.shadow", 0),
        "decisions_enter": enter,
        "decisions_skip": c.get("decisions.skip", 0),
        "decisions_shadow": c.get("decisions.shadow", 0),
        "entries_sent": enter - refused,
        "entries_refused": refused,
        "orders": len(engine.broker.orders()),
        "fills": c.get("fills", 0),
        "closed_trades": len(engine.ledger.closed_trades),
        "open_trades": n_open,
    }


def count_lines(n: Mapping[str, int]) -> list[str]:
    """The named counts as the two lines the closing summary prints."""
    return [
        f"  {n['bars']:,} bars -> {n['signals']:,} signals (detector events) -> "
        f"{n['setups']:,} setups -> {n['decisions']:,} decisions "
        f"({n['decisions_enter']:,} enter, {n['decisions_skip']:,} skip, "
        f"{n['decisions_shadow']:,} shadow)",
        f"  {n['entries_sent']:,} entries sent ({n['entries_refused']:,} refused by risk or "
        f"the calendar) -> {n['orders']:,} orders (entries + exits) -> {n['fills']:,} fills "
        f"(one per option leg) -> {n['closed_trades']:,} closed trades "
        f"({n['open_trades']:,} still open)",
    ]


def _decision_line(bar: Bar, d: Decision) -> str:
    legs = " ".join(f"{leg.ratio:+d}x{leg.contract.symbol.replace(' ', '')}" for leg in d.legs)
    what = (
        f"{d.strategy} {legs}" if legs else f"{'BUY' if d.direction > 0 else 'SELL'} {d.quantity:g}"
    )
    why = "" if d.action.value != "SKIP" else f" ({d.block_reason})"
    return f"  {fmt_ts(bar.close_ts_ns)}  decision {d.action.value:<6} {d.symbol} {what}{why}"


class RunPrinter:
    """The ``on_outcome`` callback of ``tradekit run`` and its closing summary.

    Parameters
    ----------
    engine:
        The engine being driven (its counts, ledger and risk state are read).
    verbosity:
        ``"quiet"``, ``"summary"`` or ``"verbose"``.
    out:
        Where to print (default stdout).
    every:
        Also print the progress line every this many bars (None: once per session).
    """

    def __init__(
        self,
        engine: Any,
        verbosity: Verbosity = "summary",
        out: TextIO | None = None,
        every: int | None = None,
    ):
        self.engine = engine
        self.every = every
        self.verbosity: Verbosity = verbosity
        self.out = out if out is not None else sys.stdout
        self.n = 0
        self.t0 = time.perf_counter()
        self._last: Bar | None = None
        self._reported_day: object = None
        self._prev_line: str | None = None
        self._closed = False

    def _print(self, text: str) -> None:
        print(text, file=self.out)

    def __call__(self, outcome: Any) -> None:
        bar: Bar = outcome.bar
        prev = self._last
        if prev is not None and ny_date(bar.close_ts_ns) != ny_date(prev.close_ts_ns):
            # the previous session has ended; by now the engine has rolled the day (day P&L
            # back to 0, today's first entries counted), so print it as its last bar left it
            self.session_line(prev, self._prev_line)
        self.n += 1
        self._last = bar
        if self.verbosity != "quiet":
            line = self._prev_line = self._line(bar)
            if self.every and self.n % self.every == 0:
                self._print(line)
        if self.verbosity == "verbose":
            for d in outcome.decisions:
                self._print(_decision_line(bar, d))

    def session_line(self, bar: Bar, line: str | None = None) -> None:
        """One line for the session that ``bar`` closed (once per session); ``line`` is that
        bar's progress line as it was taken right after the bar (default: now)."""
        day = ny_date(bar.close_ts_ns)
        if self.verbosity == "quiet" or day == self._reported_day:
            return
        self._reported_day = day
        self._print(line if line is not None else self._line(bar))

    def _line(self, bar: Bar) -> str:
        e, s = self.engine, self.engine.ledger.summary()
        c = e.counts
        rate = self.n / max(time.perf_counter() - self.t0, 1e-9)
        return (f"{fmt_ts(bar.close_ts_ns)} | {bar.symbol} {bar.close:,.2f} | "
                f"setups {c['setups']:,} entries {c['decisions.enter']:,} "
                f"trades {len(e.ledger.closed_trades):,} | equity {s.equity:,.2f} "
                f"day P&L {s.day_pnl:+,.2f} | positions {s.open_positions} | "
                f"{e.risk.trading_state.value} | {rate:,.0f} bars/s")  # fmt: skip

    def close(self, *, initial_cash: float, where: str) -> None:
        """The last session's line and the closing summary (printed once, idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._last is not None:
            self.session_line(self._last)
        e, s = self.engine, self.engine.ledger.summary()
        self._print(f"done: equity {s.equity:,.2f} ({s.equity / initial_cash - 1:+.2%}); "
                    f"state {e.risk.trading_state.value}; written to {where}")  # fmt: skip
        for line in count_lines(named_counts(e)):
            self._print(line)
