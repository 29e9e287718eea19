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

__all__ = ["Sizer", "Sizing", "size_units"]

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


_new_tuple = tuple.__new__
_INF = math.inf


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
    return Sizer(risk, max_units)(
        account, symbol_notional, position_qty, price, unit_risk, unit_notional, risk_fraction
    )


class Sizer:
    """:func:`size_units` with the limits of one ``RiskConfig`` read once (engine hot path).

    Called positionally with the per-trade values; the explanation's middle part (budget,
    unit risk, raw quantity) is memoised per ``(budget, unit risk)``, which repeats from
    setup to setup while the equity is unchanged.

    Examples
    --------
    >>> from tradekit.config import RiskConfig
    >>> acct = AccountSummary(0, 1e5, 1e5, 1e5, 0, 0, 0, 0, 0, 1e5, 0, 0)
    >>> Sizer(RiskConfig(), 10_000)(acct, 0.0, 0.0, 470.0, 1.0, 470.0, 0.01).quantity
    42
    """

    __slots__ = ("_exposure_pct", "_max_open", "_max_units", "_order_notional", "_symbol_pct",
                 "_text")  # fmt: skip

    def __init__(self, risk: RiskConfig, max_units: int) -> None:
        self._max_units = max_units
        self._max_open = risk.max_open_positions
        self._symbol_pct = risk.max_symbol_notional_pct
        self._exposure_pct = risk.max_total_exposure_pct
        self._order_notional = risk.max_order_notional
        self._text: dict[tuple[float, float, str], str] = {}

    @property
    def limits(self) -> tuple[float, float, float, float, float, float]:
        """``(max units, max open positions, symbol notional share, exposure share, order
        notional, hard position notional)``: the caps, for the replay scan's twin of this
        sizer (:func:`tradekit.runtime.nb.sized_quantity`)."""
        return (float(self._max_units), float(self._max_open), float(self._symbol_pct),
                float(self._exposure_pct), float(self._order_notional),
                float(HardLimits.MAX_POSITION_NOTIONAL))  # fmt: skip

    def __call__(
        self,
        account: AccountSummary,
        symbol_notional: float,
        position_qty: float,
        price: float,
        unit_risk: float,
        unit_notional: float,
        risk_fraction: float,
    ) -> Sizing:
        """Size one trade (parameters as in :func:`size_units`)."""
        equity = account.equity
        if not (math.isfinite(equity) and equity > 0):
            return _invalid(0.0, f"equity {equity} is not positive")
        budget = equity * risk_fraction
        if not (math.isfinite(unit_risk) and unit_risk > 0):
            return _invalid(budget, f"risk per unit {unit_risk} is not positive")
        if position_qty == 0 and account.open_positions >= self._max_open:
            reason = f"{account.open_positions} open positions >= max {self._max_open}"
            return _invalid(budget, reason, "open_positions")
        raw = _floor(budget / unit_risk)
        # the tightest cap binds; ties keep the earlier one (risk first), in this order
        binding, qty = "risk", raw
        if self._max_units < qty:
            binding, qty = "max_order_qty", self._max_units
        if unit_notional > 0:
            # cap = _floor(room / unit_notional) binds when cap < qty; a finite x >= qty (an
            # int) floors to >= qty, so only other rooms are floored (NaN and inf give cap 0)
            x = (self._symbol_pct * equity - symbol_notional) / unit_notional
            if not qty <= x < _INF and (cap := _floor(x)) < qty:
                binding, qty = "symbol_notional", cap
            x = (self._exposure_pct * equity - account.gross_exposure) / unit_notional
            if not qty <= x < _INF and (cap := _floor(x)) < qty:
                binding, qty = "exposure", cap
            x = self._order_notional / unit_notional
            if not qty <= x < _INF and (cap := _floor(x)) < qty:
                binding, qty = "max_order_notional", cap
            x = (HardLimits.MAX_POSITION_NOTIONAL - symbol_notional) / unit_notional
            if not qty <= x < _INF and (cap := _floor(x)) < qty:
                binding, qty = "position_notional", cap
        qty = max(qty, 0)
        # the explanation; its middle part depends on (budget, unit risk, binding) only.
        # unit_risk is finite and > 0 here, so equal keys format alike (an int and a float of
        # equal value give the same .2f / .4g text and raw quantity); 0.0 == -0.0 budgets
        # print apart, so a budget that is not > 0 is formatted every time
        key = (budget, unit_risk, binding)
        tail = self._text.get(key) if budget > 0 else None
        if tail is None:
            tail = f" (budget {budget:.2f} / unit risk {unit_risk:.4g} = {raw}; bound by {binding})"
            if budget > 0:
                if len(self._text) >= 1024:
                    self._text.clear()
                self._text[key] = tail
        reason = f"qty {qty} @ {price:.4g}{tail}"
        return _new_tuple(Sizing, (qty, budget, qty * unit_risk, raw, binding, reason))
