"""Strike selection and option structures (DECISIONS.md "Strike selection")."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig, OptionClassParams
from tradekit.core.enums import Right, TimeframeClass
from tradekit.options.chain import OptionChain, generate_chain
from tradekit.options.selection import (
    eligible_rows,
    score_long_options,
    select_long_option,
    select_vertical,
)
from tradekit.options.structures import long_option, vertical

TS = int(pd.Timestamp("2024-06-18 10:30", tz="America/New_York").tz_convert("UTC").value)
OPTS = AlgorithmConfig().options
CLASSES = OPTS.classes


def hand_chain(rows: list[tuple[str, float, int, float, float, float]]) -> OptionChain:
    """rows: (expiry, strike, right, bid, ask, delta); other columns plausible constants."""
    n = len(rows)
    col = list(zip(*rows, strict=True))
    exp = np.array(col[0], dtype="datetime64[D]")
    bid, ask = np.array(col[3], float), np.array(col[4], float)
    dte = (exp - np.datetime64("2024-06-18")).astype(np.int64)
    return OptionChain(
        underlying="XYZ",
        spot=100.0,
        ts_ns=TS,
        expiry=exp,
        dte=dte,
        t=dte / 365.0,
        strike=np.array(col[1], float),
        right=np.array(col[2], np.int8),
        bid=bid,
        ask=ask,
        mid=(bid + ask) / 2,
        theo=(bid + ask) / 2,
        iv=np.full(n, 0.2),
        delta=np.array(col[5], float),
        gamma=np.full(n, 0.01),
        theta=np.full(n, -0.01),
        vega=np.full(n, 0.1),
        volume=np.full(n, 2000.0),
        open_interest=np.full(n, 5000.0),
    )


SPREADS = hand_chain([
    ("2024-07-19", 95.0, 1, 7.00, 7.10, 0.70),
    ("2024-07-19", 100.0, 1, 3.90, 4.00, 0.50),
    ("2024-07-19", 105.0, 1, 1.60, 1.65, 0.30),
    ("2024-07-19", 95.0, -1, 1.90, 1.95, -0.30),
    ("2024-07-19", 100.0, -1, 3.95, 4.05, -0.50),
    ("2024-07-19", 105.0, -1, 7.00, 7.15, -0.70),
])  # fmt: skip


class TestStructuresHandChecked:
    def test_long_call(self) -> None:
        s = long_option(SPREADS, 1)
        assert s is not None and s.kind == "long_call"
        assert s.net_premium == 4.00 and s.max_loss == 400.0 and s.max_gain is None
        assert s.breakevens == (104.0,)
        assert s.legs[0].ratio == 1 and s.legs[0].price == 4.00  # bought at the ask
        assert s.delta == pytest.approx(50.0) and s.reward_risk == float("inf")

    def test_long_put(self) -> None:
        s = long_option(SPREADS, 4)
        assert s is not None and s.kind == "long_put"
        assert s.max_loss == 405.0 and s.max_gain == pytest.approx((100 - 4.05) * 100)
        assert s.breakevens == (95.95,)

    def test_bull_call_debit(self) -> None:
        s = vertical(SPREADS, 1, 2)  # buy 100C at 4.00, sell 105C at 1.60
        assert s is not None and s.kind == "bull_call_debit"
        assert s.net_premium == pytest.approx(2.40)
        assert s.max_loss == pytest.approx(240.0) and s.max_gain == pytest.approx(260.0)
        assert s.breakevens == (pytest.approx(102.40),)

    def test_bear_put_debit(self) -> None:
        s = vertical(SPREADS, 4, 3)  # buy 100P at 4.05, sell 95P at 1.90
        assert s is not None and s.kind == "bear_put_debit"
        assert s.max_loss == pytest.approx(215.0) and s.max_gain == pytest.approx(285.0)
        assert s.breakevens == (pytest.approx(97.85),)

    def test_bull_put_credit_sells_the_nearer_strike(self) -> None:
        s = vertical(SPREADS, 3, 4)  # buy 95P at 1.95, sell 100P at 3.95
        assert s is not None and s.kind == "bull_put_credit" and s.is_credit
        short = next(leg for leg in s.legs if leg.ratio == -1)
        assert short.contract.strike == 100.0 and short.price == 3.95  # sold at the bid
        assert s.net_premium == pytest.approx(-2.00)
        assert s.max_gain == pytest.approx(200.0) and s.max_loss == pytest.approx(300.0)
        assert s.breakevens == (pytest.approx(98.0),)

    def test_bear_call_credit(self) -> None:
        s = vertical(SPREADS, 2, 1)  # buy 105C at 1.65, sell 100C at 3.90
        assert s is not None and s.kind == "bear_call_credit"
        assert s.net_premium == pytest.approx(-2.25)
        assert s.max_gain == pytest.approx(225.0) and s.max_loss == pytest.approx(275.0)
        assert s.breakevens == (pytest.approx(102.25),)

    @pytest.mark.parametrize("pair", [(1, 2), (4, 3), (3, 4), (2, 1)])
    def test_payoff_matches_max_loss_gain_and_breakeven(self, pair: tuple[int, int]) -> None:
        s = vertical(SPREADS, *pair)
        assert s is not None and s.max_gain is not None
        grid = np.linspace(50, 150, 100_001)
        pnl = s.payoff(grid)
        assert pnl.min() == pytest.approx(-s.max_loss)
        assert pnl.max() == pytest.approx(s.max_gain)
        assert s.payoff(s.breakevens[0]) == pytest.approx(0.0, abs=1e-9)

    def test_greeks_per_unit_times_multiplier(self) -> None:
        s = vertical(SPREADS, 1, 2)
        assert s is not None
        assert s.delta == pytest.approx((0.50 - 0.30) * 100)
        assert s.theta_per_day == pytest.approx(0.0) and s.vega_per_point == pytest.approx(0.0)

    def test_invalid_pairs(self) -> None:
        with pytest.raises(ValueError):
            vertical(SPREADS, 1, 4)  # call vs put
        with pytest.raises(ValueError):
            vertical(SPREADS, 1, 1)
        crossed = hand_chain(
            [("2024-07-19", 100.0, 1, 3.9, 4.0, 0.5), ("2024-07-19", 101.0, 1, 5.5, 5.6, 0.45)]
        )
        assert vertical(crossed, 1, 0) is None  # "credit" above the width: quote artefact


class TestSelectLongOption:
    CH = generate_chain("SPY", TS, 545.0, 0.14)

    @pytest.mark.parametrize("tc", list(TimeframeClass))
    @pytest.mark.parametrize("direction", [1, -1])
    def test_respects_every_filter(self, tc: TimeframeClass, direction: int) -> None:
        p = CLASSES[tc]
        s = select_long_option(self.CH, direction, p)
        assert s is not None
        assert s.kind == ("long_call" if direction == 1 else "long_put")
        leg = s.legs[0]
        assert leg.contract.right is (Right.CALL if direction == 1 else Right.PUT)
        assert p.delta_min <= abs(leg.delta) <= p.delta_max
        assert p.dte_min <= s.dte <= p.dte_max
        assert s.spread_pct <= p.max_spread_pct and s.liquidity >= p.min_liquidity
        assert leg.price == self.CH.quote(leg.contract).ask  # type: ignore[union-attr]
        assert 0.0 <= s.score <= 1.0
        if tc is not TimeframeClass.INTRADAY:  # a theta-tolerant contract exists: preferred
            assert s.theta_ratio <= p.max_theta_ratio

    def test_all_expiries_in_range_are_considered(self) -> None:
        p = CLASSES[TimeframeClass.SWING]
        rows = eligible_rows(self.CH, 1, p)
        dtes = set(self.CH.dte[rows].tolist())
        assert len(dtes) >= 4 and min(dtes) >= 14 and max(dtes) <= 45
        best = select_long_option(self.CH, 1, p)
        assert best is not None
        # the winner is the best score over every expiry, not over the nearest one
        ok = np.abs(self.CH.theta[rows]) / self.CH.ask[rows] <= p.max_theta_ratio
        scores = score_long_options(self.CH, rows[ok], p)
        assert best.score == pytest.approx(scores.max())
        per_expiry = {
            d: scores[self.CH.dte[rows[ok]] == d].max() for d in set(self.CH.dte[rows[ok]].tolist())
        }
        assert best.dte == max(per_expiry, key=lambda d: per_expiry[d])
        # hiding the winning expiry makes the selector move to another one
        rest = self.CH.take(self.CH.dte != best.dte)
        alt = select_long_option(rest, 1, p)
        assert alt is not None and alt.dte != best.dte and alt.dte in dtes

    def test_none_when_nothing_passes(self) -> None:
        p = OptionClassParams(
            **{**CLASSES[TimeframeClass.SWING].model_dump(), "dte_min": 900, "dte_max": 1000}
        )
        assert select_long_option(self.CH, 1, p) is None

    def test_bad_direction(self) -> None:
        with pytest.raises(ValueError):
            select_long_option(self.CH, 0, CLASSES[TimeframeClass.SWING])


class TestSelectVertical:
    CH = generate_chain("SPY", TS, 545.0, 0.14)

    @pytest.mark.parametrize(
        "direction, kind, expected",
        [(1, "debit", "bull_call_debit"), (-1, "debit", "bear_put_debit"),
         (1, "credit", "bull_put_credit"), (-1, "credit", "bear_call_credit")],
    )  # fmt: skip
    def test_kinds_widths_and_pricing(self, direction: int, kind: str, expected: str) -> None:
        p = CLASSES[TimeframeClass.SWING]
        s = select_vertical(
            self.CH,
            direction,
            kind,
            p,  # type: ignore[arg-type]
            OPTS.spread_width_min_pct,
            OPTS.spread_width_max_pct,
        )
        assert s is not None and s.kind == expected
        long_leg = next(x for x in s.legs if x.ratio == 1)
        short_leg = next(x for x in s.legs if x.ratio == -1)
        width = abs(long_leg.contract.strike - short_leg.contract.strike)
        assert 0.025 * 545 - 1e-9 <= width <= 0.10 * 545 + 1e-9
        assert long_leg.contract.expiry == short_leg.contract.expiry
        assert p.dte_min <= s.dte <= p.dte_max
        q_long = self.CH.quote(long_leg.contract)
        q_short = self.CH.quote(short_leg.contract)
        assert q_long is not None and q_short is not None
        assert long_leg.price == q_long.ask and short_leg.price == q_short.bid
        assert s.net_premium == pytest.approx(long_leg.price - short_leg.price)
        nearer = short_leg if kind == "credit" else long_leg
        farther = long_leg if kind == "credit" else short_leg
        assert abs(nearer.contract.strike - 545) < abs(farther.contract.strike - 545)
        if kind == "credit":
            assert s.net_premium < 0 and abs(short_leg.delta) > abs(long_leg.delta)
            assert abs(short_leg.delta) <= 0.5
        else:
            assert s.net_premium > 0
            assert p.delta_min <= abs(long_leg.delta) <= p.delta_max
        assert s.max_loss + s.max_gain == pytest.approx(width * 100)  # type: ignore[operator]

    def test_bad_arguments(self) -> None:
        p = CLASSES[TimeframeClass.SWING]
        with pytest.raises(ValueError):
            select_vertical(self.CH, 1, "straddle", p)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            select_vertical(self.CH, 1, "debit", p, 0.1, 0.05)

    def test_structure_fields_for_the_decision_engine(self) -> None:
        s = select_vertical(self.CH, 1, "credit", CLASSES[TimeframeClass.MONTHLY])
        assert s is not None
        assert isinstance(s.expiry, dt.date) and s.multiplier == 100.0
        assert s.theta_ratio >= 0 and s.reward_risk > 0


# -- the pick at every risk budget (the replay scan's refusal on the chain) ---------------------
def _intraday_chains() -> list[tuple[OptionChain, int]]:
    from tradekit.decision.options_engine import selection_reach

    p = CLASSES[TimeframeClass.INTRADAY]
    out = []
    rng = np.random.default_rng(11)
    for k in range(24):
        ts = TS + int(rng.integers(0, 5 * 3600)) * 10**9 + k * 86_400 * 10**9
        d = 1 if k % 2 else -1
        reach = selection_reach(d, "long_option", p)
        chain = generate_chain("SPY", ts, float(rng.uniform(400, 600)),
                               float(rng.uniform(0.1, 0.45)), reach=reach)  # fmt: skip
        out.append((chain, d))
    return out


def _pick_fails_theta(
    chain: OptionChain, d: int, p: OptionClassParams, days: float, max_ask: float
) -> bool:
    """What gate 2.5 decides about the pick on the chain narrowed to ``max_ask``."""
    s = select_long_option(chain.filter(max_ask=max_ask), d, p)
    if s is None:
        return True
    i = chain.index_of(s.legs[0].contract)
    assert i is not None
    return bool(abs(float(chain.theta[i])) * days / s.net_premium > p.max_theta_ratio)


def test_the_pick_under_a_budget_bound_is_the_pick_on_the_narrowed_chain() -> None:
    p = CLASSES[TimeframeClass.INTRADAY]
    for chain, d in _intraday_chains():
        for max_ask in (0.5, 2.0, 5.0, 9.0, 25.0, 1e9):
            want = select_long_option(chain.filter(max_ask=max_ask), d, p)
            got = select_long_option(chain, d, p, max_ask=max_ask)
            assert (want is None) == (got is None)
            if want is not None:
                assert got == want


def test_refused_at_every_budget_is_the_verdict_on_each_distinct_bound() -> None:
    """``long_option_theta_refused`` over ``[lo, hi]`` is True exactly when the pick fails the
    theta test (or none is left) at ``lo`` and at every ask inside: the bounds where the
    affordable set changes. Both outcomes occur, and a bound sampled inside a refused
    interval is refused too."""
    from tradekit.options.selection import long_option_theta_refused

    p = CLASSES[TimeframeClass.INTRADAY]
    rng = np.random.default_rng(3)
    outcomes = set()
    for chain, d in _intraday_chains():
        asks = np.unique(chain.ask[eligible_rows(chain, d, p)])
        for days in (0.02, 0.1, 0.25):
            for _ in range(6):
                lo = float(rng.uniform(0.0, 12.0))
                hi = lo + float(rng.choice([0.0, 0.5, 3.0, 20.0]))
                bounds = [lo, *[a for a in asks if lo < a <= hi]]
                want = all(_pick_fails_theta(chain, d, p, days, b) for b in bounds)
                got = long_option_theta_refused(chain, d, p, days, (lo, hi))
                assert got == want, (lo, hi, days)
                outcomes.add(got)
                if got:
                    for m in rng.uniform(lo, hi, 4):
                        assert _pick_fails_theta(chain, d, p, days, float(m))
    assert outcomes == {True, False}
