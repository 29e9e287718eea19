"""Pieces of the options-aware engine: timeframe class, strategy choice, the chosen contracts'
facts, Greek caps, and the two extra gates (2.5 option quality, 8 event calendar).

Units follow :class:`tradekit.options.chain.OptionChain`: Greeks per share, ``theta`` per
calendar day, ``vega`` per vol point; a structure's unit Greeks here are multiplied by the
contract multiplier (100), i.e. delta in share-equivalents (currency per $1 move), theta in
currency per day, vega in currency per vol point — the units of
:class:`~tradekit.portfolio.base.GreekTotals`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tradekit._typing import BoolArray, FloatArray
from tradekit.config import OptionClassParams, OptionsConfig, RiskConfig
from tradekit.core.enums import TimeframeClass
from tradekit.core.events import GateResult, Leg
from tradekit.decision.base import finite_float
from tradekit.decision.event_calendar import EventAssessment
from tradekit.decision.gates import GateContext
from tradekit.portfolio.base import AccountSummary, GreekTotals

if TYPE_CHECKING:
    from tradekit.decision.prescreen import SetupBatch

__all__ = [
    "EventCalendarGate",
    "LegFacts",
    "OptionQualityGate",
    "choose_strategy",
    "classify_timeframe",
    "clean_iv_rank",
    "clean_iv_ranks",
    "greek_cap",
    "leg_facts",
    "unit_greeks",
]


@lru_cache(maxsize=64)
def _tf_minutes(timeframe: str) -> float:
    try:
        return pd.Timedelta(pd.tseries.frequencies.to_offset(timeframe)).total_seconds() / 60.0
    except (ValueError, TypeError):
        return pd.Timedelta(timeframe).total_seconds() / 60.0


def classify_timeframe(timeframe: str, target_dte: int | None = None) -> TimeframeClass:
    """Timeframe class from a target DTE (when given) or the bar timeframe.

    DTE: ≤ 7 INTRADAY, ≤ 45 SWING, ≤ 60 MONTHLY, else LEAPS. Bars: < 1 h INTRADAY,
    < 1 week SWING (hourly to daily bars), < 1 month MONTHLY (weekly bars), else LEAPS.

    Examples
    --------
    >>> classify_timeframe("5min").value, classify_timeframe("1D").value
    ('INTRADAY', 'SWING')
    >>> classify_timeframe("1min", target_dte=90).value
    'LEAPS'
    """
    if target_dte is not None:
        if target_dte <= 7:
            return TimeframeClass.INTRADAY
        if target_dte <= 45:
            return TimeframeClass.SWING
        if target_dte <= 60:
            return TimeframeClass.MONTHLY
        return TimeframeClass.LEAPS
    try:
        minutes = _tf_minutes(timeframe)
    except (ValueError, TypeError):
        return TimeframeClass.INTRADAY if timeframe.endswith(("min", "s")) else TimeframeClass.SWING
    if minutes < 60:
        return TimeframeClass.INTRADAY
    if minutes < 7 * 1440:
        return TimeframeClass.SWING
    if minutes < 28 * 1440:
        return TimeframeClass.MONTHLY
    return TimeframeClass.LEAPS


def clean_iv_rank(value: object) -> float | None:
    """IV rank as a finite number in [0, 100], else ``None`` (missing)."""
    x = finite_float(value)
    return x if x is not None and 0.0 <= x <= 100.0 else None


def clean_iv_ranks(values: FloatArray) -> FloatArray:
    """:func:`clean_iv_rank` over an array: the values in [0, 100], NaN for the rest."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where((x >= 0.0) & (x <= 100.0), x, np.nan)


def choose_strategy(
    params: OptionClassParams, iv_rank: float | None, confidence: float, opts: OptionsConfig
) -> tuple[str, str]:
    """``(strategy, why)`` from the class's ``strategies`` table.

    IV rank > ``ivr_high`` → ``high_iv``; otherwise conviction ≥ ``conviction_high`` →
    ``low_iv_high_conviction``; otherwise ``default``. A missing IV rank counts as low IV
    (gate 2.5 then fails on the missing rank anyway).
    """
    conviction = (
        "high"
        if confidence >= opts.conviction_high
        else "medium"
        if confidence >= opts.conviction_medium
        else "low"
    )
    if iv_rank is not None and iv_rank > opts.ivr_high:
        key = "high_iv"
    elif conviction == "high":
        key = "low_iv_high_conviction"
    else:
        key = "default"
    return params.strategies[key], f"{key} (IV rank {iv_rank}, conviction {conviction})"


@dataclass(frozen=True, slots=True)
class LegFacts:
    """One leg of the chosen structure with its chain row (per share values)."""

    leg: Leg
    bid: float
    ask: float
    mid: float
    delta: float
    gamma: float
    theta: float
    vega: float
    volume: float
    open_interest: float
    dte: int

    @property
    def liquidity(self) -> float:
        """``0.4 × volume + 0.6 × open interest``."""
        return 0.4 * self.volume + 0.6 * self.open_interest

    @property
    def spread_pct(self) -> float:
        """``(ask − bid) / mid`` (inf when the mid is not positive)."""
        return (self.ask - self.bid) / self.mid if self.mid > 0 else math.inf


def leg_facts(chain: Any, legs: Sequence[Leg]) -> list[LegFacts] | str:
    """Look every leg up in ``chain`` (an ``OptionChain``); a string says what is missing."""
    out: list[LegFacts] = []
    for leg in legs:
        i = chain.index_of(leg.contract)
        if i is None:
            return f"leg {leg.contract.symbol} not in the chain"
        out.append(
            LegFacts(
                leg,
                float(chain.bid[i]),
                float(chain.ask[i]),
                float(chain.mid[i]),
                float(chain.delta[i]),
                float(chain.gamma[i]),
                float(chain.theta[i]),
                float(chain.vega[i]),
                float(chain.volume[i]),
                float(chain.open_interest[i]),
                int(chain.dte[i]),
            )
        )
    return out


def unit_greeks(facts: Sequence[LegFacts]) -> GreekTotals:
    """Greeks of one unit of the structure (ratios × per-share Greeks × multiplier)."""
    d = g = t = v = 0.0
    for f in facts:
        k = f.leg.ratio * f.leg.contract.multiplier
        d += k * f.delta
        g += k * f.gamma
        t += k * f.theta
        v += k * f.vega
    return GreekTotals(delta=d, gamma=g, theta=t, vega=v)


def _cap_one(current: float, unit: float, limit: float) -> float:
    """Largest n ≥ 0 with ``|current + n·unit| ≤ limit`` (inf when ``unit`` is 0)."""
    if unit == 0 or not math.isfinite(unit):
        return math.inf
    return max(0.0, (limit - current * math.copysign(1.0, unit)) / abs(unit))


def greek_cap(account: AccountSummary, unit: GreekTotals, risk: RiskConfig) -> tuple[int, str]:
    """Most units the portfolio Greek limits allow, and which limit binds.

    Limits are fractions of equity: ``|Δ| ≤ max_portfolio_delta_pct × equity`` (currency per
    $1 move), θ per day and vega per vol point likewise.
    """
    eq, now = account.equity, account.greeks
    caps = (
        ("delta", _cap_one(now.delta, unit.delta, risk.max_portfolio_delta_pct * eq)),
        ("theta", _cap_one(now.theta, unit.theta, risk.max_portfolio_theta_pct * eq)),
        ("vega", _cap_one(now.vega, unit.vega, risk.max_portfolio_vega_pct * eq)),
    )
    which, n = min(caps, key=lambda c: c[1])
    return (10**9 if math.isinf(n) else math.floor(n + 1e-9)), which


def _anchor(facts: Sequence[LegFacts], strategy: str) -> LegFacts:
    if strategy == "credit_spread":
        return next((f for f in facts if f.leg.ratio < 0), facts[0])
    return next((f for f in facts if f.leg.ratio > 0), facts[0])


@dataclass(frozen=True, slots=True)
class OptionQualityGate:
    """Gate 2.5: the chosen contract(s) pass liquidity, spread, IV-rank band, theta tolerance
    (every long-premium position, calls and puts alike), |delta| band and DTE range.

    Reads ``ctx.extra``: ``structure`` (or None), ``legs`` (``list[LegFacts]`` or a reason
    string), ``iv_rank``, ``strategy``, ``net_premium`` (per share, > 0 debit) and
    ``theta_days``: the theta cost is ``|θ per day| × theta_days / premium``. ``theta_days`` is
    1 (the table's "per day") except for positions flattened the same day (INTRADAY), where it
    is the part of a day left until the class window ends: a 0–7 DTE option pays 10–50 % of
    its premium per *calendar day*, so a literal per-day test would refuse every intraday
    contract although the position is held for hours.
    """

    params: OptionClassParams
    name: str = "option_quality"

    def _problem(self, ctx: GateContext) -> tuple[str | None, str]:
        p, x = self.params, ctx.extra
        facts = x.get("legs")
        if x.get("structure") is None or not isinstance(facts, list) or not facts:
            return str(x.get("selection_error", "no contract inside the bands")), "none"
        ivr = x.get("iv_rank")
        for f in facts:
            if f.liquidity < p.min_liquidity:
                return (
                    f"{f.leg.contract.symbol} liquidity {f.liquidity:.0f} < {p.min_liquidity:g}",
                    "liquidity",
                )
            if f.spread_pct > p.max_spread_pct:
                return (
                    f"{f.leg.contract.symbol} spread {f.spread_pct:.1%} > {p.max_spread_pct:.0%}",
                    "spread",
                )
            if not p.dte_min <= f.dte <= p.dte_max:
                return f"{f.leg.contract.symbol} DTE {f.dte} outside {p.dte_min}-{p.dte_max}", "dte"
        if not isinstance(ivr, float):
            return "IV rank missing", "iv_rank"
        if not p.ivr_min <= ivr <= p.ivr_max:
            return f"IV rank {ivr:.1f} outside {p.ivr_min:g}-{p.ivr_max:g}", "iv_rank"
        anchor = _anchor(facts, str(x.get("strategy")))
        if not p.delta_min <= abs(anchor.delta) <= p.delta_max:
            return (
                f"|delta| {abs(anchor.delta):.2f} outside {p.delta_min:g}-{p.delta_max:g}",
                "delta",
            )
        premium = float(x.get("net_premium", math.nan))  # type: ignore[arg-type]
        if premium > 0:  # long premium: theta is paid, whatever the right
            days = float(x.get("theta_days", 1.0))  # type: ignore[arg-type]
            theta = abs(sum(f.leg.ratio * f.theta for f in facts))
            ratio = theta * days / premium
            if ratio > p.max_theta_ratio:
                basis = "/day" if days == 1.0 else f" over {days * 24:.1f}h held"
                return f"|theta|/premium {ratio:.3f}{basis} > {p.max_theta_ratio:g}", "theta"
        return None, "ok"

    def fails_batch(self, b: SetupBatch) -> BoolArray:
        """Per setup of ``b``: whether :meth:`evaluate` fails it whatever contract is chosen:
        every passing path needs an IV rank inside the band, so a missing one or one outside
        fails (the contract checks need the chain: they are left to the per-setup engine)."""
        if b.iv_rank is None:
            return np.zeros(len(b.cols), dtype=np.bool_)
        ivr, p = b.iv_rank, self.params
        with np.errstate(invalid="ignore"):
            fail = np.isnan(ivr) | ~((ivr >= p.ivr_min) & (ivr <= p.ivr_max))
        if b.iv_rank_error is not None:
            fail &= ~b.iv_rank_error
        return fail

    def evaluate(self, ctx: GateContext) -> GateResult:
        problem, check = self._problem(ctx)
        if problem is not None:
            return GateResult(self.name, False, check, None, problem)
        s = ctx.extra["structure"]
        kind = getattr(s, "kind", "structure")
        legs = ", ".join(f"{f.leg.ratio:+d} {f.leg.contract.symbol}" for f in ctx.extra["legs"])  # type: ignore[attr-defined]
        return GateResult(self.name, True, "ok", None, f"{kind}: {legs}")


@dataclass(frozen=True, slots=True)
class EventCalendarGate:
    """Gate 8: events inside the holding period; ≥ ``max_event_warnings`` warnings (or an
    event to avoid) block. Reads ``ctx.extra["events"]`` (an :class:`EventAssessment`)."""

    max_warnings: int
    name: str = "event_calendar"

    def evaluate(self, ctx: GateContext) -> GateResult:
        ev = ctx.extra.get("events")
        if not isinstance(ev, EventAssessment):
            return GateResult(self.name, True, 0.0, float(self.max_warnings), "no event calendar")
        return GateResult(
            self.name, not ev.blocked, float(len(ev.warnings)), float(self.max_warnings), ev.reason
        )
