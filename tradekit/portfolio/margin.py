"""Margin requirements that reduce buying power (a simple, documented cash-account model).

* **Long stock / long options:** paid in full from cash; no further requirement.
* **Short stock:** ``short_stock_margin × |market value|`` (1.5 = Reg-T: the sale proceeds,
  already in cash, plus 50 %). Buying power therefore drops by half the short's value.
* **Options, grouped by (underlying, expiry):** the worst loss of the group's payoff at
  expiry, ``max(0, -min_S payoff(S))``, evaluated at ``S = 0`` and every strike (the payoff is
  piecewise linear, so its minimum on ``[0, ∞)`` is at one of those points or unbounded beyond
  the highest strike). A vertical credit spread thus needs exactly its width × 100 per unit
  (the credit is already in cash, so buying power drops by the max loss), a debit spread
  nothing. Net short calls beyond the highest strike are unbounded: they add
  ``naked_call_pct × underlying price × multiplier`` per net short call.
  Different expiries are not netted (a calendar's short leg counts as naked): conservative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from tradekit.core.enums import Right
from tradekit.core.events import OptionContract

__all__ = ["option_group_requirement", "options_requirement"]

OptionHolding = tuple[OptionContract, float]  # (contract, signed quantity)


def _payoff(holdings: list[OptionHolding], s: float) -> float:
    total = 0.0
    for c, q in holdings:
        intrinsic = max(0.0, s - c.strike) if c.right is Right.CALL else max(0.0, c.strike - s)
        total += q * c.multiplier * intrinsic
    return total


def option_group_requirement(
    holdings: list[OptionHolding], underlying_price: float, naked_call_pct: float = 0.2
) -> float:
    """Requirement (currency ≥ 0) of option holdings on one underlying and one expiry.

    Examples
    --------
    >>> import datetime as dt
    >>> from tradekit.core.events import OptionContract
    >>> e = dt.date(2025, 1, 17)
    >>> short = OptionContract("SPY", e, 100.0, Right.PUT)
    >>> long_ = OptionContract("SPY", e, 95.0, Right.PUT)
    >>> option_group_requirement([(short, -2.0), (long_, 2.0)], 101.0)  # 2 × 5 × 100
    1000.0
    """
    if not holdings:
        return 0.0
    points = [0.0, *sorted({c.strike for c, _ in holdings})]
    worst = min(_payoff(holdings, s) for s in points)
    req = max(0.0, -worst)
    call_slope = sum(q * c.multiplier for c, q in holdings if c.right is Right.CALL)
    if call_slope < 0:
        px = underlying_price if underlying_price == underlying_price else max(points)
        req += naked_call_pct * px * -call_slope
    return req


def options_requirement(
    holdings: Iterable[OptionHolding],
    underlying_prices: dict[str, float],
    naked_call_pct: float = 0.2,
) -> float:
    """Sum of :func:`option_group_requirement` over (underlying, expiry) groups."""
    groups: dict[tuple[str, dt.date], list[OptionHolding]] = {}
    for c, q in holdings:
        if q:
            groups.setdefault((c.underlying, c.expiry), []).append((c, q))
    return sum(
        option_group_requirement(h, underlying_prices.get(u, float("nan")), naked_call_pct)
        for (u, _), h in groups.items()
    )
