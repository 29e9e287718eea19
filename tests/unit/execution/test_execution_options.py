"""Option packages through the PaperBroker: ×100 multiplier, bid/ask, credits, premium exits."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from tradekit.config import ExecutionConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import OrderStatus, OrderType, Right, Side
from tradekit.core.events import Bar, Leg, OptionContract
from tradekit.execution import ExitPlan, OrderRequest, PaperBroker, Quote, QuoteSource
from tradekit.portfolio import Ledger

BASE = 1_709_564_400_000_000_000  # Monday 2024-03-04 10:00 New York
MIN = 60_000_000_000
EXP = dt.date(2024, 3, 15)
CALL = OptionContract("SPY", EXP, 500.0, Right.CALL)
P500 = OptionContract("SPY", EXP, 500.0, Right.PUT)
P495 = OptionContract("SPY", EXP, 495.0, Right.PUT)


class StubQuotes:
    """A hand-made QuoteSource: quotes per contract, each valid from a time on."""

    def __init__(self) -> None:
        self._q: dict[str, list[tuple[int, Quote]]] = {}

    def set(self, contract: OptionContract, ts_ns: int, bid: float, ask: float) -> None:
        self._q.setdefault(contract.symbol, []).append((ts_ns, Quote(bid, ask, 500.0)))

    def quote(self, contract: OptionContract, ts_ns: int) -> Quote | None:
        best = None
        for t, q in self._q.get(contract.symbol, []):
            if t <= ts_ns:
                best = q
        return best


def make(**cfg: Any) -> SimpleNamespace:
    config = ExecutionConfig(
        **{"slippage": {"kind": "none"}, "option_commission": {"kind": "per_contract"}, **cfg}
    )
    clock = SimClock(BASE)
    quotes = StubQuotes()
    assert isinstance(quotes, QuoteSource)
    bus = EventBus()
    events: list[tuple[str, Any]] = []
    bus.subscribe("*", lambda t, e: events.append((t, e)))
    ledger = Ledger.from_config(config)
    broker = PaperBroker(config, clock=clock, ledger=ledger, bus=bus, quotes=quotes)
    return SimpleNamespace(clock=clock, quotes=quotes, ledger=ledger, broker=broker, events=events)


def ubar(i: int, px: float = 500.0) -> Bar:
    return Bar("SPY", "1min", BASE + i * MIN, px, px, px, px, 1e6)


def step(w: SimpleNamespace, b: Bar) -> list:
    w.clock.set_time(b.close_ts_ns)
    return w.broker.on_bar(b)


def t(i: int) -> int:
    return BASE + i * MIN


class TestLongCall:
    def test_open_and_close_with_multiplier(self) -> None:
        w = make()
        w.quotes.set(CALL, t(0), 2.00, 2.10)
        step(w, ubar(0))
        o = w.broker.submit(OrderRequest("SPY", Side.BUY, 3, legs=(Leg(CALL, 1),), client_id="c"))
        assert o.status is OrderStatus.ACCEPTED and o.multiplier == 100.0
        (f,) = step(w, ubar(1))
        assert (f.price, f.quantity, f.multiplier, f.symbol) == (2.10, 3, 100.0, CALL.symbol)
        assert f.commission == pytest.approx(1.95)
        assert f.slippage == pytest.approx(0.05 * 300)  # half-spread paid, in currency
        assert w.ledger.cash == pytest.approx(100_000 - 630 - 1.95)
        assert w.ledger.position_qty(CALL.symbol) == 3
        w.quotes.set(CALL, t(2), 3.00, 3.10)
        w.broker.submit(OrderRequest("SPY", Side.SELL, 3, legs=(Leg(CALL, 1),), client_id="x"))
        (g,) = step(w, ubar(2))
        assert g.price == 3.00 and g.side is Side.SELL and g.commission == pytest.approx(1.95)
        assert w.ledger.realized_pnl == pytest.approx(270 - 3.90)
        assert w.ledger.cash == pytest.approx(100_266.10)
        assert w.ledger.closed_trades[0].multiplier == 100.0

    def test_symbol_notional_counts_options_on_underlying(self) -> None:
        w = make()
        w.quotes.set(CALL, t(0), 2.00, 2.10)
        step(w, ubar(0))
        w.broker.submit(OrderRequest("SPY", Side.BUY, 3, legs=(Leg(CALL, 1),), client_id="c"))
        step(w, ubar(1))
        assert w.ledger.symbol_notional("SPY") == pytest.approx(2.05 * 300)  # marked at mid

    def test_missing_quote_rejects(self) -> None:
        w = make()
        o = w.broker.submit(OrderRequest("SPY", Side.BUY, 1, legs=(Leg(CALL, 1),), client_id="c"))
        assert o.status is OrderStatus.REJECTED and "quote" in o.reason


class TestPutCreditSpread:
    legs = (Leg(P500, -1), Leg(P495, 1))  # sell the nearer strike: a real credit spread

    def open_spread(self) -> SimpleNamespace:
        w = make()
        w.quotes.set(P500, t(0), 3.00, 3.10)
        w.quotes.set(P495, t(0), 1.40, 1.50)
        step(w, ubar(0))
        w.broker.submit(OrderRequest("SPY", Side.BUY, 2, legs=self.legs, decision_id="d"))
        return w

    def test_priced_as_a_credit(self) -> None:
        w = self.open_spread()
        fills = step(w, ubar(1))
        assert [(f.side, f.price) for f in fills] == [(Side.SELL, 3.00), (Side.BUY, 1.50)]
        order = w.broker.orders()[0]
        assert order.avg_fill_price == pytest.approx(-1.50)  # negative = credit received
        assert w.ledger.cash == pytest.approx(100_000 + 300 - 2.60)
        assert w.ledger.position_qty(P500.symbol) == -2  # short leg stored negative
        assert w.ledger.position_qty(P495.symbol) == 2
        assert w.ledger.margin_requirement() == pytest.approx(1000.0)
        assert w.ledger.buying_power == pytest.approx(100_297.40 - 1000.0)

    def test_closed_leg_by_leg(self) -> None:
        w = self.open_spread()
        step(w, ubar(1))
        w.quotes.set(P500, t(2), 1.00, 1.10)
        w.quotes.set(P495, t(2), 0.40, 0.50)
        o = w.broker.submit(OrderRequest("SPY", Side.SELL, 2, legs=self.legs, decision_id="d2"))
        fills = step(w, ubar(2))
        assert [(f.side, f.price) for f in fills] == [(Side.BUY, 1.10), (Side.SELL, 0.40)]
        assert w.broker.get_order(o.id).avg_fill_price == pytest.approx(-0.70)
        assert w.ledger.cash == pytest.approx(100_154.80)
        assert w.ledger.realized_pnl == pytest.approx(154.80)
        assert w.ledger.position_qty(P500.symbol) == 0 == w.ledger.position_qty(P495.symbol)
        assert sum(tr.pnl for tr in w.ledger.closed_trades) == pytest.approx(154.80)

    def test_limit_credit_waits_for_enough_credit(self) -> None:
        w = make()
        w.quotes.set(P500, t(0), 3.00, 3.10)
        w.quotes.set(P495, t(0), 1.40, 1.50)
        step(w, ubar(0))
        o = w.broker.submit(
            OrderRequest(
                "SPY",
                Side.BUY,
                1,
                OrderType.LIMIT,
                limit_price=-1.60,
                legs=self.legs,
                client_id="lim",
            )
        )
        assert step(w, ubar(1)) == []  # only 1.50 of credit on offer
        w.quotes.set(P500, t(2), 3.20, 3.30)
        assert len(step(w, ubar(2))) == 2
        assert w.broker.get_order(o.id).avg_fill_price == pytest.approx(-1.70)

    def test_insufficient_buying_power_for_max_loss(self) -> None:
        w = make(initial_cash=500.0)
        w.quotes.set(P500, t(0), 3.00, 3.10)
        w.quotes.set(P495, t(0), 1.40, 1.50)
        o = w.broker.submit(OrderRequest("SPY", Side.BUY, 2, legs=self.legs, client_id="big"))
        assert o.status is OrderStatus.REJECTED and "buying power" in o.reason
        ok = w.broker.submit(OrderRequest("SPY", Side.BUY, 1, legs=self.legs, client_id="one"))
        assert ok.status is OrderStatus.ACCEPTED  # max loss 350 + fees <= 500


class TestPremiumExits:
    def enter(self, plan: ExitPlan, qty: int = 4) -> SimpleNamespace:
        w = make(option_commission={"kind": "none"})
        w.quotes.set(CALL, t(0), 2.00, 2.10)
        step(w, ubar(0))
        w.broker.submit(
            OrderRequest("SPY", Side.BUY, qty, legs=(Leg(CALL, 1),), client_id="e"), exit_plan=plan
        )
        step(w, ubar(1))
        return w

    def test_take_half_then_all(self) -> None:
        w = self.enter(ExitPlan(premium_stop_pct=0.3, take_half_pct=0.5, take_all_pct=1.0))
        w.quotes.set(CALL, t(3) - 1, 3.15, 3.25)  # mid 3.20: +52 % on 2.10
        (half,) = step(w, ubar(2))
        assert (half.quantity, half.price, half.side) == (2, 3.15, Side.SELL)
        w.quotes.set(CALL, t(4) - 1, 4.20, 4.30)  # mid 4.25: +102 %
        (rest,) = step(w, ubar(3))
        assert rest.quantity == 2 and w.ledger.position_qty(CALL.symbol) == 0

    def test_premium_stop(self) -> None:
        w = self.enter(ExitPlan(premium_stop_pct=0.3, take_all_pct=1.0))
        w.quotes.set(CALL, t(3) - 1, 1.35, 1.45)  # mid 1.40: -33 %
        (f,) = step(w, ubar(2))
        assert f.quantity == 4 and f.price == 1.35
        (trade,) = w.ledger.closed_trades
        assert trade.r_multiple == pytest.approx(trade.pnl / (2.10 * 0.3 * 4 * 100))

    def test_close_at_dte(self) -> None:
        w = self.enter(ExitPlan(close_at_dte=11))  # expiry 2024-03-15 is 11 days after 03-04
        assert w.ledger.position_qty(CALL.symbol) == 0

    def test_credit_spread_premium_stop_on_rising_cost(self) -> None:
        w = make(option_commission={"kind": "none"})
        for c, b, a in ((P500, 3.00, 3.10), (P495, 1.40, 1.50)):
            w.quotes.set(c, t(0), b, a)
        step(w, ubar(0))
        legs = (Leg(P500, -1), Leg(P495, 1))
        w.broker.submit(
            OrderRequest("SPY", Side.BUY, 1, legs=legs, client_id="cs"),
            exit_plan=ExitPlan(premium_stop_pct=0.5),
        )
        step(w, ubar(1))  # credit 1.50; mark -1.55 (-3 %)
        assert w.ledger.position_qty(P500.symbol) == -1
        w.quotes.set(P500, t(3) - 1, 4.00, 4.10)  # mark -(4.05) + 1.45 = -2.60: -73 %
        fills = step(w, ubar(2))
        assert [f.side for f in fills] == [Side.BUY, Side.SELL]
        assert w.ledger.position_qty(P500.symbol) == 0 == w.ledger.position_qty(P495.symbol)
        assert w.ledger.realized_pnl == pytest.approx((1.50 - (4.10 - 1.40)) * 100)
        # issue #13, point 1: the legs share the package's premium risk (1.50 x 0.5 x 100)
        legs_out = w.ledger.closed_trades
        assert len(legs_out) == 2 and all(tr.initial_stop is None for tr in legs_out)
        assert sum(tr.initial_risk for tr in legs_out) == pytest.approx(1.50 * 0.5 * 100)
        assert sum(tr.pnl for tr in legs_out) / sum(tr.initial_risk for tr in legs_out) == (
            pytest.approx(w.ledger.realized_pnl / 75.0)
        )
        assert {tr.exit_reason for tr in legs_out} == {"premium_stop"}


class TestWithSyntheticChain:
    """The real synthetic chain as QuoteSource and Greeks source (options package)."""

    def test_long_call_on_synthetic_chain(self) -> None:
        chain_mod = pytest.importorskip("tradekit.options.chain")
        from tradekit.portfolio.ledger import greeks_from_rows

        prov = chain_mod.SyntheticChainProvider(lambda sym, ts: 500.0, 0.15)
        ts0 = BASE
        ch = prov.chain("SPY", ts0)
        calls = [
            ch.contract(i) for i in range(len(ch))
            if ch.contract(i).right is Right.CALL and abs(ch.contract(i).strike - 500) < 3
            and ch.contract(i).expiry > dt.date(2024, 3, 8)
        ]  # fmt: skip
        contract = calls[0]
        cfg = ExecutionConfig(slippage={"kind": "none"})
        clock = SimClock(ts0)
        led = Ledger.from_config(cfg, greeks=greeks_from_rows(prov))
        broker = PaperBroker(cfg, clock=clock, ledger=led, quotes=prov)
        b0 = ubar(0)
        clock.set_time(b0.close_ts_ns)
        broker.on_bar(b0)
        o = broker.submit(OrderRequest("SPY", Side.BUY, 2, legs=(Leg(contract, 1),), client_id="s"))
        assert o.status is OrderStatus.ACCEPTED, o.reason
        b1 = ubar(1)
        clock.set_time(b1.close_ts_ns)
        (f,) = broker.on_bar(b1)
        q = prov.quote(contract, b1.ts_ns)
        assert f.price == q.ask and f.multiplier == 100.0
        g = led.summary().greeks
        assert 0 < g.delta < 200 and g.theta < 0 < g.vega  # 2 near-ATM calls × 100
