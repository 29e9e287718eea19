"""Decision + pre-trade risk latency for one setup (median µs).

Target: decision + risk checks + paper fill ≤ 50 µs per setup. Rows:

* ``decision`` — :meth:`DecisionEngine.decide` on an ENTER setup (all seven gates);
* ``risk`` — :meth:`RiskEngine.approve` of the resulting order;
* ``decision+risk`` — both, as the kernel calls them;
* ``decision+risk+paper fill`` — plus ``PaperBroker.submit`` and the fill on the next bar, in a
  running account (one ledger and broker for the run, the position closed between setups
  outside the timed region); the row below it builds a fresh ledger and broker per setup
  (the cold case, for reference);
* ``options decision`` — :class:`OptionsDecisionEngine` on a synthetic chain (when the options
  module is importable).

Run: ``python benchmarks/bench_decision.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.core.enums import DecisionAction, OrderType, Side
from tradekit.core.events import Bar, Setup
from tradekit.data.calendar import get_calendar
from tradekit.decision import DecisionEngine
from tradekit.execution.orders import OrderRequest, order_request_from_decision
from tradekit.portfolio.base import AccountSummary
from tradekit.risk import RiskEngine
from tradekit.testing import StaticAccount

N = 20_000
TARGET_US = 50.0
T0 = int(pd.Timestamp("2024-01-08 10:00", tz="America/New_York").value)


def _config() -> AlgorithmConfig:
    return AlgorithmConfig().with_overrides(
        {
            "decision.max_trades_per_day": 10**9,
            "decision.cooldown_symbol_minutes": 0,
            "decision.cooldown_kind_minutes": 0,
            "decision.cooldown_global_minutes": 0,
        }
    )


_OPENS = get_calendar("XNYS").sessions("2010-01-04", "2030-12-31")["open_ns"].to_numpy()


def _bar_ts(i: int) -> int:
    """The i-th minute of a session sequence, 10:00-14:59 New York: time only moves forward,
    so every decision is a fresh ENTER (no cooldown or trade-count block)."""
    return int(_OPENS[i // 300]) + (30 + i % 300) * 60_000_000_000


def _setup(i: int) -> Setup:
    return Setup(
        f"s{i}",
        "SPY",
        "1min",
        _bar_ts(i),
        i,
        1,
        470.0,
        469.0,
        472.5,
        473.0,
        474.0,
        7.5,
        8.0,
        3,
        ("FVG", "BOS", "VOLUME_SURGE"),
    )


def _median_us(fn: Callable[[int], object], n: int = N) -> float:
    for i in range(200):  # warm-up (JIT, caches)
        fn(i)
    samples = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1000.0


def _row(name: str, us: float, target: float | None = TARGET_US) -> dict[str, object]:
    return {
        "name": name,
        "figure": round(us, 2),
        "unit": "µs median",
        "target": target,
        "ratio": None if target is None else round(us / target, 3),
    }


def main() -> list[dict[str, object]]:
    cfg = _config()
    cal = get_calendar("XNYS")
    clock = SimClock(T0)
    acct = StaticAccount()
    eng = DecisionEngine(cfg, account=acct, market=lambda ts: 15.0, calendar=cal)
    risk = RiskEngine(cfg, clock, acct)
    risk.update_price("SPY", 470.0)
    assert eng.decide(_setup(0)).action is DecisionAction.ENTER

    n_calls = [0]

    def decide(i: int) -> object:
        n_calls[0] += 1
        d = eng.decide(_setup(n_calls[0]))
        if d.action is not DecisionAction.ENTER:
            raise RuntimeError(f"benchmark setup was not entered: {d.block_reason}")
        return d

    def approve(i: int) -> object:
        clock.advance(1_010_000_000)  # stay under the 60 orders/minute throttle
        req = OrderRequest("SPY", Side.BUY, 10, OrderType.MARKET, client_id=f"r{i}")
        return risk.approve(req)

    def both(i: int) -> object:
        n_calls[0] += 1
        d = eng.decide(_setup(n_calls[0]))
        clock.advance(1_010_000_000)
        req = OrderRequest(
            "SPY", Side.BUY, d.quantity, OrderType.MARKET, decision_id=d.id, tag=f"e{i}"
        )
        return risk.approve(req)

    rows = [
        _row("decision (7 gates)", _median_us(decide), None),
        _row("risk approve", _median_us(approve), None),
        _row("decision+risk", _median_us(both)),
    ]
    rows += _extra_rows(cfg, cal)
    return rows


class _SwapAccount:
    """Delegates to the current ledger (swapped between timed iterations)."""

    def __init__(self, target: object) -> None:
        self.target = target

    def summary(self) -> AccountSummary:
        return self.target.summary()  # type: ignore[attr-defined, no-any-return]

    def position_qty(self, symbol: str) -> float:
        return self.target.position_qty(symbol)  # type: ignore[attr-defined, no-any-return]

    def symbol_notional(self, underlying: str) -> float:
        return self.target.symbol_notional(underlying)  # type: ignore[attr-defined, no-any-return]


def _decide_to_fill(
    eng: DecisionEngine,
    risk: RiskEngine,
    broker: Any,
    clock: SimClock,
    setup: Setup,
    bar: Bar,
    fill_clock_ns: int,
    tag: str,
) -> tuple[int, list[Any]]:
    """The timed chain of both paper rows: decide ``setup``, check the entry with risk,
    submit it, then the broker sees ``bar`` (clock at ``fill_clock_ns``) and fills it at the
    open. Returns the elapsed ns and the fills."""
    t0 = time.perf_counter_ns()
    d = eng.decide(setup)
    if d.action is not DecisionAction.ENTER:
        raise RuntimeError(f"benchmark setup was not entered: {d.block_reason}")
    req = order_request_from_decision(d, tag=tag)
    risk.check(req)
    broker.submit(req)
    clock.set_time(fill_clock_ns)
    fills = broker.on_bar(bar)
    elapsed = time.perf_counter_ns() - t0
    if len(fills) != 1:
        raise RuntimeError("paper fill missing in the benchmark")
    return elapsed, fills


def _paper_row(cfg: AlgorithmConfig, cal: object) -> dict[str, object]:
    """decision + risk + PaperBroker submit + the fill on the next bar, in a running account.

    One ledger, broker, decision and risk engine for the whole run, as in the engine: every
    iteration is a fresh ENTER setup on its own bar (3 minutes apart), timed from the setup to
    the fill booked at the next bar's open (that bar's mark included); the position is then
    closed on the bar after, outside the timed region, so every setup meets the same account.
    """
    from tradekit.execution.broker import PaperBroker
    from tradekit.portfolio.ledger import Ledger

    clock = SimClock(_bar_ts(0))
    ledger = Ledger(cfg.execution.initial_cash)
    broker = PaperBroker(cfg.execution, clock=clock, ledger=ledger)
    eng = DecisionEngine(cfg, account=ledger, market=lambda ts: 15.0, calendar=cal)  # type: ignore[arg-type]
    risk = RiskEngine(cfg, clock, ledger)
    risk.update_price("SPY", 470.0)
    minute = 60_000_000_000
    samples: list[int] = []
    for i in range(N // 4 + 200):
        s = _setup(3 * i)
        bars = [
            Bar("SPY", "1min", s.ts_ns + k * minute, 470.1, 470.6, 469.8, 470.3, 1e7)
            for k in range(3)
        ]
        clock.set_time(bars[0].close_ts_ns)
        broker.on_bar(bars[0])  # the setup's bar: known, marked, nothing to fill
        elapsed, fills = _decide_to_fill(
            eng, risk, broker, clock, s, bars[1], bars[1].close_ts_ns, "entry"
        )
        broker.submit(
            OrderRequest("SPY", Side.SELL, fills[0].quantity, client_id=f"flat{i}")
        )  # closed on the next bar, outside the timed region
        clock.set_time(bars[2].close_ts_ns)
        broker.on_bar(bars[2])
        if ledger.position_qty("SPY") != 0:
            raise RuntimeError("benchmark position not closed")
        if i >= 200:
            samples.append(elapsed)
    return _row("decision+risk+paper fill", statistics.median(samples) / 1000.0)


def _paper_row_fresh(cfg: AlgorithmConfig, cal: object) -> dict[str, object]:
    """The same chain on a brand-new ledger and broker for every setup (their first bar of
    the day, first summary, first order): the cold case, for reference."""
    from tradekit.execution.broker import PaperBroker
    from tradekit.portfolio.ledger import Ledger

    acct = _SwapAccount(Ledger(cfg.execution.initial_cash))
    eng = DecisionEngine(cfg, account=acct, market=lambda ts: 15.0, calendar=cal)  # type: ignore[arg-type]
    risk = RiskEngine(cfg, SimClock(T0), acct)
    risk.update_price("SPY", 470.0)
    samples: list[int] = []
    for i in range(N // 8 + 200):
        clock = SimClock(T0 + i * 1_010_000_000)
        ledger = Ledger(cfg.execution.initial_cash)
        broker = PaperBroker(cfg.execution, clock=clock, ledger=ledger)
        acct.target, risk.clock = ledger, clock
        nxt = Bar("SPY", "1min", clock.now_ns() + 60_000_000_000, 470.1, 470.6, 469.8, 470.3, 1e7)
        elapsed, _ = _decide_to_fill(eng, risk, broker, clock, _setup(i), nxt, nxt.ts_ns, f"e{i}")
        if i >= 200:
            samples.append(elapsed)
    return _row("  same, fresh account each setup", statistics.median(samples) / 1000.0, None)


def _options_row(cfg: AlgorithmConfig, cal: object) -> dict[str, object]:
    """OptionsDecisionEngine with the synthetic chain cached (selection + 9 gates)."""
    from tradekit.decision import OptionsDecisionEngine
    from tradekit.options.chain import SyntheticChainProvider

    prov = SyntheticChainProvider(lambda sym, ts: 470.0, 0.15, max_dte=60)

    class _Market:
        def vix(self, ts_ns: int) -> float:
            return 15.0

        def iv_rank(self, symbol: str, ts_ns: int) -> float:
            return 30.0

        def option_chain(self, symbol: str, ts_ns: int) -> object:
            return prov.chain(symbol, ts_ns)

    eng = OptionsDecisionEngine(cfg, account=StaticAccount(), market=_Market(), calendar=cal)  # type: ignore[arg-type]

    def decide(i: int) -> object:
        s = _setup(i)
        return eng.decide(Setup(s.id, s.symbol, "1h", T0, *_tail(s)))  # same bar: chain cached

    return _row("options decision (chain cached)", _median_us(decide, 2_000), None)


def _tail(s: Setup) -> tuple[object, ...]:
    return (
        s.index,
        s.direction,
        s.entry,
        s.entry - 2,
        s.entry + 6,
        s.entry + 8,
        s.entry + 10,
        s.confidence,
        s.score,
        s.confluence_count,
        s.active_signals,
    )


def _extra_rows(cfg: AlgorithmConfig, cal: object) -> list[dict[str, object]]:
    """Rows that need the paper broker and the options module."""
    return [_paper_row(cfg, cal), _paper_row_fresh(cfg, cal), _options_row(cfg, cal)]


def _print(rows: list[dict[str, object]]) -> None:
    print(f"{'name':<32} {'figure':>10} {'unit':<11} {'target':>8} {'ratio':>7}")
    for r in rows:
        tgt = "" if r["target"] is None else f"{r['target']:g}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
        print(f"{r['name']:<32} {r['figure']:>10} {r['unit']:<11} {tgt:>8} {ratio:>7}")


if __name__ == "__main__":
    _print(main())
