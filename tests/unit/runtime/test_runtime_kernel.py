"""Engine operator actions and order-routing rules."""

from __future__ import annotations

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.core.enums import DecisionAction, OrderStatus, Side, TradingState
from tradekit.core.events import Bar, Decision, Setup
from tradekit.data.datasets import synthetic_intraday
from tradekit.data.schema import bars_to_events
from tradekit.execution.orders import OrderRequest
from tradekit.runtime.kernel import Engine

CFG = AlgorithmConfig(symbols=("SPY",), timeframe="1min")


def session(n: int | None = None) -> list[Bar]:
    df = synthetic_intraday("SPY", start="2024-03-04", days=1, seed=5)
    return bars_to_events(df if n is None else df.iloc[:n], "SPY", "1min")


def feed(eng: Engine, items: list[Bar]) -> None:
    for bar in items:
        assert isinstance(eng.clock, SimClock)
        eng.clock.set_time(bar.close_ts_ns)
        eng.on_bar(bar)


def test_flatten_closes_positions_even_while_halted() -> None:
    eng = Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)
    items = session(30)
    feed(eng, items[:10])
    eng.broker.submit(OrderRequest("SPY", Side.BUY, 10, client_id="manual-1"))
    feed(eng, items[10:12])
    assert eng.ledger.position_qty("SPY") == 10
    eng.kill("test")
    assert eng.risk.trading_state is TradingState.HALTED
    orders = eng.flatten()
    assert [o.status for o in orders] == [OrderStatus.ACCEPTED]
    feed(eng, items[12:14])
    assert eng.ledger.position_qty("SPY") == 0
    assert eng.risk.trading_state is TradingState.HALTED  # flattening does not un-halt


def test_kill_cancels_working_orders() -> None:
    eng = Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)
    items = session(5)
    feed(eng, items[:3])
    limit = OrderRequest(
        "SPY", Side.BUY, 5, order_type="LIMIT", limit_price=1.0, tif="GTC", client_id="far"
    )  # type: ignore[arg-type]
    assert eng.broker.submit(limit).status is OrderStatus.ACCEPTED
    eng.kill("test")
    assert eng.broker.open_orders() == []


def test_intraday_entry_decided_at_the_close_is_not_carried_over() -> None:
    eng = Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)
    items = session()
    feed(eng, items)  # the clock now stands at the session close
    last = items[-1]
    decision = Decision(
        "dec-close", "setup-close", "SPY", last.ts_ns, DecisionAction.ENTER, (), None, 1, 10.0,
        last.close, last.close * 0.99, (last.close * 1.02,),
    )  # fmt: skip
    eng._send(decision, None)
    (order,) = [o for o in eng.broker.orders() if o.decision_id == "dec-close"]
    assert order.status is OrderStatus.REJECTED and "not carried over" in order.reason


def _setup(i: int, bar: Bar) -> Setup:
    c = bar.close
    return Setup(f"s-{i}", "SPY", "1min", bar.ts_ns, i, 1, c, c - 0.5, c + 1.25, c + 1.5,
                 c + 2.0, 7.5, 8.0, 3, ("FVG", "BOS", "VOLUME_SURGE"))  # fmt: skip


def test_an_entry_refused_by_risk_is_no_trade_for_gate_7() -> None:
    """Gate 7 counts the entries that were sent: a refused one starts no cooldown and does
    not count as a trade today, so the next setup on the symbol may still enter."""
    eng = Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)
    items = session(60)
    feed(eng, items[:40])
    eng.flatten()  # the replay may hold a position; the setups below need the room
    feed(eng, items[40:41])
    items = items[1:]  # keep the indices below: items[39] is now the last bar fed
    eng.risk.set_trading_state(TradingState.REDUCING, "test: refuse new risk")
    before = eng.decider.entries.trades_on_day_of(items[39].ts_ns)  # the replay's own entries
    first = eng._decide(_setup(1, items[39]))
    assert first.action is DecisionAction.ENTER, first.block_reason
    assert eng.counts["risk_denied"] == 1
    assert eng.decider.entries.trades_on_day_of(items[39].ts_ns) == before
    eng.risk.reset("test", "accept again")
    feed(eng, items[40:41])
    second = eng._decide(_setup(2, items[40]))
    assert second.action is DecisionAction.ENTER, second.block_reason  # no symbol cooldown
    assert eng.decider.entries.trades_on_day_of(items[40].ts_ns) == before + 1
    third = eng._decide(_setup(3, items[40]))  # the sent one does start the cooldown
    assert third.block_reason is not None and "cooldown" in third.block_reason


def test_a_decision_taken_while_halted_says_so() -> None:
    """Issue #13, point 11: while HALTED the engine decided ENTER and risk refused every order
    afterwards; now the decision is a SKIP blocked by the halt, with the reason."""
    eng = Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)
    items = session(60)
    feed(eng, items[:40])
    eng.flatten()
    feed(eng, items[40:41])
    eng.kill("operator test")
    d = eng._decide(_setup(1, items[40]))
    assert d.action is DecisionAction.SKIP
    halt = [g for g in d.gates if g.name == "trading_state"]
    assert halt and not halt[0].passed and "HALTED" in halt[0].reason
    assert "operator test" in halt[0].reason
    assert eng.counts["risk_denied"] == 0 and not [
        o for o in eng.broker.orders() if o.decision_id == d.id
    ]
    eng.risk.reset("test", "accept again")
    again = eng._decide(_setup(2, items[40]))
    assert all(g.passed for g in again.gates if g.name == "trading_state")
