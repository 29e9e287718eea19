"""Position sizing for gate 6: a risk budget turned into a whole quantity, then capped.

``quantity = floor(risk_budget / (|entry - stop| × multiplier))`` (DECISIONS.md gate 6), then
capped so that the order stays inside every position limit: per-symbol notional (a share of
equity), total gross exposure, the configured per-order quantity and notional, and the hard
limits in :class:`~tradekit.config.HardLimits`. The limits are *enforced* (the origin system
stored them and never looked at them): the gate passes only if the capped quantity is ≥ 1.
Capping rather than refusing outright is deliberate: the risk budget is a ceiling, and a
smaller position that fits every limit is still the rule-conform trade.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from tradekit.config import HardLimits, RiskConfig
from tradekit.portfolio.base import AccountSummary

__all__ = ["Sizing", "size_units"]

_EPS = 1e-9


class Sizing(NamedTuple):
    """Result of sizing one trade.

    Attributes
    ----------
    quantity:
        Whole units (shares or contracts) after every cap; 0 when the trade cannot be sized.
    risk_budget:
        Currency the rules allow to lose on this trade.
    risk_amount:
        Currency actually at risk at ``quantity`` (``quantity × unit_risk``).
    raw_quantity:
        Quantity from the risk budget alone, before caps.
    binding:
        Which rule set the final quantity (``"risk"``, ``"symbol_notional"``, ``"exposure"``,
        ``"max_order_qty"``, ``"max_order_notional"``, ``"position_notional"``, ``"invalid"``,
        ``"open_positions"``, ...).
    reason:
        Human-readable explanation for the decision record.
    """

    quantity: int
    risk_budget: float
    risk_amount: float
    raw_quantity: int
    binding: str
    reason: str


def _floor(x: float) -> int:
    """``floor`` that forgives representation error (``999.9999999 → 1000``)."""
    if not math.isfinite(x) or x <= 0:
        return 0
    return math.floor(x + _EPS)


def _invalid(budget: float, reason: str, binding: str = "invalid") -> Sizing:
    return Sizing(0, budget, 0.0, 0, binding, reason)


def size_units(
    *,
    account: AccountSummary,
    symbol_notional: float,
    position_qty: float,
    price: float,
    unit_risk: float,
    unit_notional: float,
    risk_fraction: float,
    risk: RiskConfig,
    max_units: int,
) -> Sizing:
    """Size a trade in whole units.

    Parameters
    ----------
    account:
        Account summary (equity, gross exposure, open positions).
    symbol_notional, position_qty:
        Current absolute notional on the underlying and signed quantity in the instrument.
    price:
        Entry price per share (used only for the message).
    unit_risk:
        Currency lost per unit if the stop is hit (``|entry - stop| × multiplier`` for stock,
        the structure's max loss for options).
    unit_notional:
        Currency notional of one unit (``entry × multiplier``; premium × 100 for options).
    risk_fraction:
        Fraction of equity to risk (already halved for REVERSAL, scaled by class multipliers).
    risk:
        Configured limits.
    max_units:
        Per-order unit cap (shares or contracts, configured and hard limit already combined).
    """
    equity = account.equity
    if not (math.isfinite(equity) and equity > 0):
        return _invalid(0.0, f"equity {equity} is not positive")
    budget = equity * risk_fraction
    if not (math.isfinite(unit_risk) and unit_risk > 0):
        return _invalid(budget, f"risk per unit {unit_risk} is not positive")
    if position_qty == 0 and account.open_positions >= risk.max_open_positions:
        reason = f"{account.open_positions} open positions >= max {risk.max_open_positions}"
        return _invalid(budget, reason, "open_positions")
    raw = _floor(budget / unit_risk)
    # the tightest cap binds; ties keep the earlier one (risk first), in this order
    binding, qty = "risk", raw
    if max_units < qty:
        binding, qty = "max_order_qty", max_units
    if unit_notional > 0:
        for name, room in (
            ("symbol_notional", risk.max_symbol_notional_pct * equity - symbol_notional),
            ("exposure", risk.max_total_exposure_pct * equity - account.gross_exposure),
            ("max_order_notional", risk.max_order_notional),
            ("position_notional", HardLimits.MAX_POSITION_NOTIONAL - symbol_notional),
        ):
            cap = _floor(room / unit_notional)
            if cap < qty:
                binding, qty = name, cap
    qty = max(qty, 0)
    reason = (
        f"qty {qty} @ {price:.4g} (budget {budget:.2f} / unit risk {unit_risk:.4g} = {raw}; "
        f"bound by {binding})"
    )
    return Sizing(qty, budget, qty * unit_risk, raw, binding, reason)
