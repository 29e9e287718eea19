"""The engine's strategy seam: the default is the confluence algorithm, user strategies are
sandboxed (an error is an alert, never a dead loop) and their close requests are orders."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.events import Alert, Bar, Setup
from tradekit.data.datasets import load
from tradekit.data.schema import bars_to_events
from tradekit.runtime.backtest import run_backtest
from tradekit.runtime.kernel import Engine
from tradekit.strategy import ConfluenceStrategy, StrategyContext, make_setup, strategy_config

CFG = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")
BARS = load("aapl").iloc[:400]


def vix(ts: int) -> float:
    return 18.0


def test_default_engine_is_the_confluence_strategy() -> None:
    a = run_backtest(BARS, CFG, market=vix)
    b = run_backtest(BARS, CFG, market=vix, strategy=ConfluenceStrategy())
    assert a.summary["setups"] > 0 and a.strategy == b.strategy == "confluence"
    for name in ("signals", "setups", "decisions", "orders", "fills", "trades"):
        fa, fb = getattr(a, name), getattr(b, name)
        timed = [c for c in fa.columns if c == "processing_time_us"]  # measured, not decided
        assert fa.drop(columns=timed).equals(fb.drop(columns=timed)), name
    assert a.equity.equals(b.equity) and a.summary == b.summary


class Every:
    """Enters long on every ``n``-th bar; counts the calls; optional failure modes."""

    name = "every"
    lookback = 3

    def __init__(self, n: int, mode: str = "ok") -> None:
        self.n, self.mode, self.calls = n, mode, 0
        self.seen: list[tuple[int, int, float]] = []

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Any:
        self.calls += 1
        self.seen.append((ctx.index, len(ctx.history), ctx.position()))
        assert ctx.history.close[-1] == bar.close and ctx.bar is bar
        if self.mode == "raise" and self.calls % 2 == 0:
            raise RuntimeError("boom")
        if ctx.index % self.n:
            return []
        s = make_setup(bar, 1, stop=bar.close * 0.97, targets=[bar.close * 1.1],
                       kind="EVERY", strategy=self.name, index=ctx.index)  # fmt: skip
        if self.mode == "junk":
            return [s, "not a setup"]
        if self.mode == "mistyped":
            return [dataclasses.replace(s, entry="10")]  # type: ignore[arg-type]
        if self.mode == "tuple":
            return (s,)
        return [s]


def config_for(n: int) -> AlgorithmConfig:
    return CFG.with_overrides({
        "decision.kind_families": {"EVERY": "structure"},
        "decision.min_confluence": 1, "decision.min_roles": 1, "decision.min_factor_score": 2.5,
    })  # fmt: skip


def replay(strategy: Any, n_bars: int = 60) -> tuple[Engine, list[Alert]]:
    bus = EventBus()
    alerts: list[Alert] = []
    bus.subscribe("alerts.*", lambda t, e: alerts.append(e))
    eng = Engine(config_for(5), clock=SimClock(), bus=bus, market=vix, strategy=strategy)
    for b in bars_to_events(BARS.iloc[:n_bars], "AAPL", "1D"):
        assert isinstance(eng.clock, SimClock)
        eng.clock.set_time(b.close_ts_ns)
        eng.on_bar(b)
    return eng, alerts


def test_user_setups_go_through_gates_risk_and_broker() -> None:
    strat = Every(5)
    eng, alerts = replay(strat)
    assert alerts == [] and strat.calls == 60
    assert [i for i, _, _ in strat.seen] == list(range(60))
    assert [n for _, n, _ in strat.seen][:4] == [1, 2, 3, 3]  # lookback bars, causal
    assert eng.counts["setups"] == 12
    assert eng.counts["decisions.enter"] >= 1 and eng.counts["orders.accepted"] >= 1
    assert eng.ledger.closed_trades or eng.ledger.position_qty("AAPL") > 0


@pytest.mark.parametrize("mode", ["raise", "junk", "mistyped"])
def test_a_failing_strategy_is_an_alert_not_a_dead_loop(mode: str) -> None:
    strat = Every(5, mode)
    eng, alerts = replay(strat)
    assert strat.calls == 60 and eng.counts["bars"] == 60  # every bar still processed
    assert alerts and all(a.source == "strategy" for a in alerts)
    assert eng.counts["strategy_errors"] == len(alerts)
    assert all("strategy every:" in a.message for a in alerts)
    if mode == "raise":
        assert len(alerts) == 30 and "RuntimeError: boom" in alerts[0].message
    elif mode == "junk":  # the good setup is kept, the junk reported
        assert len(alerts) == 12 and eng.counts["setups"] == 12
    else:
        assert eng.counts["setups"] == 0 and "entry" in alerts[0].message


def test_a_tuple_of_setups_is_accepted() -> None:
    eng, alerts = replay(Every(5, "tuple"))
    assert alerts == [] and eng.counts["setups"] == 12


def test_not_a_strategy_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="on_bar"):
        Engine(CFG, strategy=object())  # type: ignore[arg-type]

    class BadLookback:
        lookback = -1

        def on_bar(self, bar: Bar, ctx: StrategyContext) -> list[Setup]:
            return []

    with pytest.raises(TypeError, match="lookback"):
        Engine(CFG, strategy=BadLookback())


class HoldThenClose:
    """Buys on bar 3 and asks to close on bar 10 (twice: one order per symbol and bar)."""

    name = "hold"
    lookback = 0

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> list[Setup]:
        if ctx.index == 3:
            return [make_setup(bar, 1, stop=bar.close * 0.5, targets=[bar.close * 3],
                               kind="EVERY", strategy="hold", index=3)]  # fmt: skip
        if ctx.index == 10:
            assert ctx.position() > 0 and "AAPL" in ctx.positions
            assert ctx.account.equity > 0
            ctx.close()
            ctx.close("AAPL", "again")
        if ctx.index == 12:
            ctx.close()  # flat by now: ignored
        return []


def test_close_requests_become_market_orders_filled_next_open() -> None:
    eng, alerts = replay(HoldThenClose(), n_bars=15)
    assert alerts == []
    (trade,) = eng.ledger.closed_trades
    ts = [b.ts_ns for b in bars_to_events(BARS.iloc[:15], "AAPL", "1D")]
    assert trade.entry_ts_ns == ts[4] and trade.exit_ts_ns == ts[11]
    exits = [o for o in eng.broker.orders() if o.tag == "exit:strategy"]
    assert len(exits) == 1 and exits[0].status.value == "FILLED"
    assert trade.exit_price == pytest.approx(BARS["open"].iloc[11], rel=1e-3)  # + slippage


def test_strategy_config_makes_the_same_setups_pass() -> None:
    blocked, _ = replay_with(CFG)
    passed, _ = replay_with(strategy_config(Every(5), config_for(5)))
    assert blocked.counts["decisions.enter"] == 0 and blocked.counts["setups"] == 12
    assert passed.counts["decisions.enter"] >= 1


def replay_with(cfg: AlgorithmConfig) -> tuple[Engine, None]:
    eng = Engine(cfg, clock=SimClock(), market=vix, strategy=Every(5))
    for b in bars_to_events(BARS.iloc[:60], "AAPL", "1D"):
        assert isinstance(eng.clock, SimClock)
        eng.clock.set_time(b.close_ts_ns)
        eng.on_bar(b)
    return eng, None
