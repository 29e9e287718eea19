"""Gate 6 sizing: the tightest cap binds and ties keep the earlier rule, in the documented
order (risk, max_order_qty, symbol_notional, exposure, max_order_notional,
position_notional). Checked against a plain list-of-caps statement of that rule."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig, HardLimits, RiskConfig
from tradekit.decision.sizing import size_units
from tradekit.portfolio.base import AccountSummary

RISK = AlgorithmConfig().risk


def _floor(x: float) -> int:
    return 0 if not math.isfinite(x) or x <= 0 else math.floor(x + 1e-9)


def _reference(equity: float, gross: float, sym_notional: float, unit_risk: float,
               unit_notional: float, frac: float, risk: RiskConfig,
               max_units: int) -> tuple[int, str]:  # fmt: skip
    raw = _floor(equity * frac / unit_risk)
    caps = [("risk", raw), ("max_order_qty", max_units)]
    if unit_notional > 0:
        caps += [
            ("symbol_notional",
             _floor((risk.max_symbol_notional_pct * equity - sym_notional) / unit_notional)),
            ("exposure", _floor((risk.max_total_exposure_pct * equity - gross) / unit_notional)),
            ("max_order_notional", _floor(risk.max_order_notional / unit_notional)),
            ("position_notional",
             _floor((HardLimits.MAX_POSITION_NOTIONAL - sym_notional) / unit_notional)),
        ]  # fmt: skip
    binding, qty = "risk", raw
    for name, cap in caps:
        if cap < qty:
            binding, qty = name, cap
    return max(qty, 0), binding


@settings(max_examples=200, deadline=None)
@given(
    equity=st.floats(1e3, 1e7),
    gross=st.floats(0.0, 2e6),
    sym_notional=st.floats(0.0, 1e6),
    unit_risk=st.floats(0.01, 50.0),
    unit_notional=st.floats(0.0, 2_000.0),
    frac=st.floats(0.001, 0.05),
    max_units=st.integers(1, 5_000),
)
def test_binding_cap_matches_the_rule(
    equity: float,
    gross: float,
    sym_notional: float,
    unit_risk: float,
    unit_notional: float,
    frac: float,
    max_units: int,
) -> None:
    acct = AccountSummary(0, equity, equity, equity, gross, gross, 0.0, 0.0, 0.0, equity, 0, 0)
    got = size_units(account=acct, symbol_notional=sym_notional, position_qty=0.0, price=100.0,
                     unit_risk=unit_risk, unit_notional=unit_notional, risk_fraction=frac,
                     risk=RISK, max_units=max_units)  # fmt: skip
    want = _reference(equity, gross, sym_notional, unit_risk, unit_notional, frac, RISK,
                      max_units)  # fmt: skip
    assert (got.quantity, got.binding) == want
    assert f"bound by {got.binding}" in got.reason


def test_tie_keeps_the_earlier_rule() -> None:
    acct = AccountSummary(0, 1e5, 1e5, 1e5, 0.0, 0.0, 0.0, 0.0, 0.0, 1e5, 0, 0)
    # risk budget 1000 / unit risk 10 = 100 shares; max_order_qty also 100: risk binds
    s = size_units(account=acct, symbol_notional=0.0, position_qty=0.0, price=10.0,
                   unit_risk=10.0, unit_notional=0.0, risk_fraction=0.01, risk=RISK,
                   max_units=100)  # fmt: skip
    assert (s.quantity, s.binding) == (100, "risk")
