"""Ledger accounting: hypothesis properties and hand-checked scenarios."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import Right, Side
from tradekit.core.events import Fill, OptionContract
from tradekit.errors import DataError
from tradekit.portfolio import AccountView, Ledger
from tradekit.portfolio.margin import option_group_requirement

MON = 1_709_564_400_000_000_000  # 2024-03-04 10:00 New York
DAY = 86_400 * 10**9
CALL = OptionContract("SPY", dt.date(2024, 3, 15), 500.0, Right.CALL)
SYMBOLS = ["AAA", "BBB", CALL.symbol]

fill_st = st.tuples(
    st.integers(0, 2),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 60),
    st.floats(1.0, 200.0),
    st.floats(0.0, 5.0),
    st.one_of(st.none(), st.floats(1.0, 200.0)),  # a mark after the fill
)


def book(steps: list) -> tuple[Ledger, list[Fill]]:
    led = Ledger(50_000.0)
    fills = []
    for i, (k, side, qty, px, comm, mark) in enumerate(steps):
        sym = SYMBOLS[k]
        contract = CALL if k == 2 else None
        f = Fill(
            f"f{i}",
            f"o{i}",
            sym,
            side,
            float(qty),
            px,
            MON + i * 10**9,
            commission=comm,
            multiplier=100.0 if contract else 1.0,
        )
        before = led.position_qty(sym)
        assert led.apply_fill(f, contract=contract)
        after = led.position_qty(sym)
        if before and after and (before > 0) != (after > 0):
            assert qty > abs(before)  # a flip only when the fill exceeds the position
        if mark is not None:
            led.mark(sym, mark, f.ts_ns)
        fills.append(f)
    return led, fills


class TestProperties:
    @settings(max_examples=150, deadline=None)
    @given(st.lists(fill_st, min_size=1, max_size=40))
    def test_identities(self, steps: list) -> None:
        led, fills = book(steps)
        snaps = led.snapshot()
        value = sum(s.quantity * s.market_price * s.multiplier for s in snaps)
        assert led.equity == pytest.approx(led.cash + value, abs=1e-6)
        assert led.equity == pytest.approx(
            led.initial_cash + led.realized_pnl + led.unrealized_pnl, abs=1e-6
        )
        open_part = sum(p.trade.pnl for p in led.positions.values() if p.trade is not None)
        closed = sum(t.pnl for t in led.closed_trades)
        assert led.realized_pnl == pytest.approx(closed + open_part, abs=1e-6)
        for sym in SYMBOLS:
            signed = sum(int(f.side) * f.quantity for f in fills if f.symbol == sym)
            assert led.position_qty(sym) == pytest.approx(signed)
        assert led.commissions == pytest.approx(sum(f.commission for f in fills))

    @settings(max_examples=100, deadline=None)
    @given(st.lists(fill_st, min_size=1, max_size=30))
    def test_replay_changes_nothing(self, steps: list) -> None:
        led, fills = book(steps)
        state = (
            led.cash,
            led.realized_pnl,
            [led.position_qty(s) for s in SYMBOLS],
            len(led.closed_trades),
            led.equity,
        )
        for f in fills:
            assert not led.apply_fill(f, contract=CALL if f.multiplier == 100 else None)
        assert state == (
            led.cash,
            led.realized_pnl,
            [led.position_qty(s) for s in SYMBOLS],
            len(led.closed_trades),
            led.equity,
        )

    @settings(max_examples=100, deadline=None)
    @given(st.lists(fill_st, min_size=1, max_size=30))
    def test_flat_account_realized_equals_cash_change(self, steps: list) -> None:
        led, _ = book(steps)
        i = len(steps)
        for sym in SYMBOLS:  # close everything
            q = led.position_qty(sym)
            if q:
                side = Side.SELL if q > 0 else Side.BUY
                mult = 100.0 if sym == CALL.symbol else 1.0
                led.apply_fill(
                    Fill(
                        f"z{sym}",
                        "oz",
                        sym,
                        side,
                        abs(q),
                        10.0,
                        MON + i * 10**9,
                        commission=1.0,
                        multiplier=mult,
                    )
                )
        assert led.unrealized_pnl == 0.0 and led.snapshot() == []
        assert led.cash - led.initial_cash == pytest.approx(led.realized_pnl, abs=1e-6)
        assert led.realized_pnl == pytest.approx(sum(t.pnl for t in led.closed_trades), abs=1e-6)


class TestScenarios:
    def test_flip_splits_commission(self) -> None:
        led = Ledger(10_000.0)
        led.apply_fill(Fill("a", "o1", "X", Side.BUY, 10, 100.0, MON, commission=1.0))
        led.apply_fill(Fill("b", "o2", "X", Side.SELL, 15, 110.0, MON + 1, commission=1.5))
        assert led.position_qty("X") == -5
        (t,) = led.closed_trades
        assert t.pnl == pytest.approx(100.0 - 1.0 - 1.0)  # 10 × 10 - entry - 2/3 of 1.5
        pos = led.position("X")
        assert pos is not None and pos.avg_price == 110.0
        assert pos.open_commission == pytest.approx(0.5)

    def test_closing_does_not_open_another(self) -> None:
        led = Ledger(10_000.0)
        led.apply_fill(Fill("a", "o1", "X", Side.SELL, 10, 100.0, MON))
        led.apply_fill(Fill("b", "o2", "X", Side.BUY, 10, 90.0, MON + 1))
        assert led.position_qty("X") == 0 and led.position("X") is None
        assert led.realized_pnl == pytest.approx(100.0)

    def test_day_roll_on_new_york_date(self) -> None:
        led = Ledger(10_000.0)
        led.apply_fill(Fill("a", "o1", "X", Side.BUY, 10, 100.0, MON))
        led.apply_fill(Fill("b", "o2", "X", Side.BUY, 10, 100.0, MON + 1))
        led.mark("X", 105.0, MON + 2)
        s = led.summary()
        assert (s.trades_today, s.day_pnl, s.start_of_day_equity) == (2, 100.0, 10_000.0)
        led.mark("X", 103.0, MON + DAY)
        s = led.summary()
        assert s.start_of_day_equity == pytest.approx(10_100.0)
        assert s.day_pnl == pytest.approx(-40.0) and s.trades_today == 0

    def test_greeks_from_callback(self) -> None:
        led = Ledger(10_000.0, greeks=lambda c, ts: (0.5, 0.01, -0.2, 0.1))
        led.apply_fill(
            Fill("a", "o", CALL.symbol, Side.BUY, 2, 3.0, MON, multiplier=100.0), contract=CALL
        )
        led.apply_fill(Fill("b", "o", "SPY", Side.SELL, 50, 500.0, MON))
        g = led.summary().greeks
        assert (g.delta, g.gamma, g.theta, g.vega) == pytest.approx((100 - 50, 2, -40, 20))
        assert led.symbol_notional("SPY") == pytest.approx(600 + 25_000)

    def test_invalid_fill(self) -> None:
        led = Ledger()
        for bad in (
            Fill("a", "o", "X", Side.BUY, 0, 1.0, MON),
            Fill("b", "o", "X", Side.BUY, 1, math.nan, MON),
            Fill("c", "o", "X", Side.BUY, 1, 1.0, MON, commission=-1),
            Fill("d", "o", "X", "BUY", 1, 1.0, MON),  # type: ignore[arg-type]
            Fill("e", "o", "X", Side.BUY, "1", 1.0, MON),  # type: ignore[arg-type]
            Fill("f", "o", "X", None, 1, None, MON),  # type: ignore[arg-type]
        ):
            with pytest.raises(DataError):
                led.apply_fill(bad)
        assert led.cash == led.initial_cash

    def test_account_view_and_margin(self) -> None:
        led = Ledger(10_000.0)
        assert isinstance(led, AccountView)
        led.apply_fill(Fill("a", "o", "X", Side.SELL, 10, 100.0, MON))
        assert led.margin_requirement() == pytest.approx(1500.0)
        assert led.buying_power == pytest.approx(11_000.0 - 1500.0)
        assert led.is_reducing("X", 5) and not led.is_reducing("X", 11)

    def test_option_fill_without_contract_is_parsed(self) -> None:
        led = Ledger(10_000.0)
        led.apply_fill(Fill("a", "o", CALL.symbol, Side.SELL, 1, 3.0, MON, multiplier=100.0))
        pos = led.position(CALL.symbol)
        assert pos is not None and pos.contract == CALL and pos.underlying == "SPY"
        assert led.symbol_notional("SPY") == pytest.approx(300.0)

    def test_naked_call_requirement(self) -> None:
        req = option_group_requirement([(CALL, -1.0)], 500.0)
        assert req == pytest.approx(0.2 * 500 * 100)
        long_ = OptionContract("SPY", CALL.expiry, 510.0, Right.CALL)
        assert option_group_requirement([(CALL, -1.0), (long_, 1.0)], 500.0) == pytest.approx(1000)
        assert option_group_requirement([(CALL, 1.0)], 500.0) == 0.0


# -- the per-bar reads walk the open positions only ---------------------------------------------
CONTRACTS = [
    OptionContract("SPY", dt.date(2024, 3, 15), 490.0 + 5 * k, Right.CALL) for k in range(4)
]
MANY = ["AAA", "BBB", *(c.symbol for c in CONTRACTS)]


def _reference(led: Ledger, changes: dict) -> tuple[list, float, float]:
    """Open positions, realised P&L and margin requirement from a pass over every position
    ever held (what the ledger computed before it kept an index of the open ones)."""
    from tradekit.portfolio.margin import options_requirement

    positions = led.positions
    realized = 0.0
    stock, holdings = 0.0, []
    for sym, pos in positions.items():
        realized += pos.realized_pnl
        q = pos.qty + (changes[sym][0] if sym in changes else 0.0)
        if pos.contract is not None:
            holdings.append((pos.contract, q))
        elif q < 0:
            px = pos.price
            if px != px and sym in changes:
                px = changes[sym][1]
            stock += -q * px * pos.multiplier
    for sym, (dq, cpx, mult, contract) in changes.items():
        if sym not in positions:
            if contract is not None:
                holdings.append((contract, dq))
            elif dq < 0:
                stock += -dq * cpx * mult
    opts = options_requirement(holdings, led._last_px, 0.2) if holdings else 0.0
    return [p for p in positions.values() if p.qty], realized, 1.5 * stock + opts


many_st = st.lists(
    st.tuples(st.integers(0, len(MANY) - 1), st.sampled_from([Side.BUY, Side.SELL]),
              st.integers(1, 5), st.floats(1.0, 50.0), st.integers(0, len(MANY) - 1)),
    min_size=1, max_size=40,
)  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(steps=many_st)
def test_open_position_index_equals_a_pass_over_every_position(steps: list) -> None:
    """Positions open, close and reopen in any order (an older symbol reopened after newer
    ones); the open positions (in first-opened order), the realised P&L and the margin
    requirement with a hypothetical change are exactly those of a pass over all positions."""
    led = Ledger(50_000.0)
    for i, (k, side, qty, px, j) in enumerate(steps):
        sym = MANY[k]
        contract = CONTRACTS[k - 2] if k >= 2 else None
        mult = 100.0 if contract else 1.0
        f = Fill(f"f{i}", f"o{i}", sym, side, float(qty), px, MON + i * 10**9, multiplier=mult)
        led.apply_fill(f, contract=contract)
        led.mark("SPY", 500.0, f.ts_ns)
        other = CONTRACTS[j - 2] if j >= 2 else None
        changes = {MANY[j]: (-float(qty), px, 100.0 if other else 1.0, other)}
        live, realized, req = _reference(led, changes)
        assert led.open_positions() == live
        assert led.summary().realized_pnl == realized == led.realized_pnl
        assert led._requirement(changes) == req
        assert led.margin_requirement() == _reference(led, {})[2]


def test_flat_positions_leave_the_per_bar_reads() -> None:
    """A replay trades one new contract after another: the flat ones stay in ``positions``
    (their realised P&L counts) but the reads made on every bar no longer visit them."""
    led = Ledger(1_000_000.0)
    for k in range(300):
        c = OptionContract("SPY", dt.date(2024, 3, 15), 400.0 + k, Right.CALL)
        ts = MON + 2 * k * 10**9
        led.apply_fill(Fill(f"b{k}", f"ob{k}", c.symbol, Side.BUY, 1, 2.0, ts, multiplier=100.0),
                       contract=c)  # fmt: skip
        led.apply_fill(Fill(f"s{k}", f"os{k}", c.symbol, Side.SELL, 1, 2.5, ts + 10**9,
                            multiplier=100.0), contract=c)  # fmt: skip
    assert len(led.positions) == 300 and led.open_positions() == []
    assert led._live == {} and len(led._realized_sums) == 1  # nothing summed yet
    assert led.summary().realized_pnl == pytest.approx(300 * 50.0)
    assert len(led._realized_sums) == 301  # summed once; the next summaries add nothing
    led.apply_fill(Fill("x", "ox", "AAA", Side.BUY, 1, 10.0, MON + 10**12))
    assert list(led._live) == ["AAA"] and len(led._realized_sums) == 301


def test_restored_positions_rebuild_the_index() -> None:
    """A checkpoint restore replaces the ledger's attributes (``vars(ledger).update``), maybe
    from a ledger without the index: the index follows the restored positions."""
    old = Ledger(10_000.0)
    old.apply_fill(Fill("a", "o", "AAA", Side.BUY, 10, 10.0, MON))
    old.apply_fill(Fill("b", "o2", "BBB", Side.BUY, 5, 20.0, MON + 1))
    old.apply_fill(Fill("c", "o3", "AAA", Side.SELL, 10, 11.0, MON + 2))
    state = {
        k: v
        for k, v in vars(old).items()
        if k not in ("_live", "_order", "_slot", "_realized_sums", "_indexed")
    }
    new = Ledger(10_000.0)
    vars(new).update(state)
    assert [p.symbol for p in new.open_positions()] == ["BBB"]
    assert new.summary().realized_pnl == old.realized_pnl
    new.apply_fill(Fill("d", "o4", "AAA", Side.BUY, 1, 12.0, MON + 3))
    assert [p.symbol for p in new.open_positions()] == ["AAA", "BBB"]  # first-opened order
