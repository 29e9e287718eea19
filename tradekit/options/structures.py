"""Option structures: single long options and vertical spreads, priced from a chain.

A :class:`Structure` is what the options engine trades: its legs (``core.events.Leg`` with the
contract, ``ratio`` +1 bought / -1 sold per unit, the executable price and the delta), its net
premium and its risk profile. Prices are **executable**: a bought leg at the ask, a sold leg at
the bid, so an entry is never assumed at the mid.

Sign and unit conventions
-------------------------
* ``net_premium``: per unit, in currency **per share** (multiply by ``multiplier`` for one
  unit): ``> 0`` a debit paid, ``< 0`` a credit received.
* ``max_loss`` / ``max_gain``: per unit, currency, multiplier applied (x100), both ``>= 0``;
  ``max_gain`` is None when unlimited (long call).
* ``breakevens``: underlying prices at expiry where the unit's P&L is zero.
* Greeks per unit, multiplier applied: ``delta`` (currency per $1 move of the underlying,
  i.e. share equivalents), ``gamma`` (change of that delta per $1), ``theta_per_day``
  (currency per calendar day), ``vega_per_point`` (currency per vol point).

Kinds: ``long_call``, ``long_put``, ``bull_call_debit`` (buy lower call, sell higher call),
``bear_put_debit`` (buy higher put, sell lower put), ``bull_put_credit`` (sell the higher,
nearer-the-money put, buy the lower put), ``bear_call_credit`` (sell the lower, nearer-the-money
call, buy the higher call).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradekit._typing import FloatArray
from tradekit.core.events import Leg
from tradekit.options.chain import OptionChain

__all__ = ["STRUCTURE_KINDS", "Structure", "long_option", "vertical"]

STRUCTURE_KINDS = (
    "long_call",
    "long_put",
    "bull_call_debit",
    "bear_put_debit",
    "bull_put_credit",
    "bear_call_credit",
)


@dataclass(frozen=True, slots=True)
class Structure:
    """A priced option position of one unit (see the module docstring for conventions)."""

    kind: str
    underlying: str
    legs: tuple[Leg, ...]
    net_premium: float
    max_loss: float
    max_gain: float | None
    breakevens: tuple[float, ...]
    delta: float
    gamma: float
    theta_per_day: float
    vega_per_point: float
    expiry: dt.date
    dte: int
    t: float
    spot: float
    iv: float
    liquidity: float
    spread_pct: float
    multiplier: float = 100.0
    score: float = float("nan")

    @property
    def is_credit(self) -> bool:
        """True for credit structures (premium received)."""
        return self.net_premium < 0

    @property
    def direction(self) -> int:
        """+1 bullish, -1 bearish (sign of the position delta)."""
        return 1 if self.delta > 0 else -1

    @property
    def reward_risk(self) -> float:
        """``max_gain / max_loss`` (inf when the gain is unlimited)."""
        return math.inf if self.max_gain is None else self.max_gain / self.max_loss

    @property
    def premium(self) -> float:
        """Absolute premium of one unit in currency (``|net_premium| * multiplier``)."""
        return abs(self.net_premium) * self.multiplier

    @property
    def theta_ratio(self) -> float:
        """``|theta per day| / premium`` (DECISIONS.md theta tolerance), per unit."""
        return abs(self.theta_per_day) / self.premium if self.premium > 0 else math.inf

    def payoff(self, spot_at_expiry: Any) -> Any:
        """P&L of one unit at expiry (currency, multiplier applied, entry prices included)."""
        s = np.asarray(spot_at_expiry, dtype=np.float64)
        total = np.zeros_like(s)
        for leg in self.legs:
            sign = 1.0 if leg.contract.right.value == "C" else -1.0
            intrinsic = np.maximum(sign * (s - leg.contract.strike), 0.0)
            total = total + leg.ratio * (intrinsic - leg.price) * self.multiplier
        return float(total) if total.ndim == 0 else total

    def with_score(self, score: float) -> Structure:
        """A copy carrying ``score``."""
        return _replace(self, score=score)


def _replace(s: Structure, **kw: Any) -> Structure:
    data = {f: getattr(s, f) for f in Structure.__dataclass_fields__}
    data.update(kw)
    return Structure(**data)


def _leg(chain: OptionChain, i: int, ratio: int) -> Leg:
    price = float(chain.ask[i] if ratio > 0 else chain.bid[i])
    return Leg(contract=chain.contract(i), ratio=ratio, price=price, delta=float(chain.delta[i]))


def _greeks(chain: OptionChain, rows: list[tuple[int, int]]) -> tuple[float, ...]:
    m = chain.multiplier
    out: list[float] = []
    for arr in (chain.delta, chain.gamma, chain.theta, chain.vega):
        out.append(float(sum(ratio * arr[i] for i, ratio in rows)) * m)
    return tuple(out)


def _common(chain: OptionChain, rows: list[tuple[int, int]]) -> dict[str, Any]:
    idx = [i for i, _ in rows]
    d, g, th, v = _greeks(chain, rows)
    spread: FloatArray = chain.spread_pct[idx]
    return dict(
        underlying=chain.underlying,
        legs=tuple(_leg(chain, i, ratio) for i, ratio in rows),
        delta=d,
        gamma=g,
        theta_per_day=th,
        vega_per_point=v,
        expiry=chain.expiry[idx[0]].astype(dt.date),
        dte=int(chain.dte[idx[0]]),
        t=float(chain.t[idx[0]]),
        spot=chain.spot,
        iv=float(chain.iv[idx[0]]),
        liquidity=float(np.min(chain.liquidity[idx])),
        spread_pct=float(np.max(spread)),
        multiplier=chain.multiplier,
    )


def long_option(chain: OptionChain, i: int) -> Structure | None:
    """Buy one contract of row ``i`` at the ask (None when the ask is not positive)."""
    ask = float(chain.ask[i])
    if not ask > 0:
        return None
    k, m = float(chain.strike[i]), chain.multiplier
    if chain.right[i] > 0:
        kind, gain, be = "long_call", None, k + ask
    else:
        kind, gain, be = "long_put", (k - ask) * m, k - ask
    return Structure(
        kind=kind,
        net_premium=ask,
        max_loss=round(ask * m, 9),
        max_gain=None if gain is None else round(gain, 9),
        breakevens=(round(be, 9),),
        **_common(chain, [(i, 1)]),
    )


def vertical(chain: OptionChain, long_row: int, short_row: int) -> Structure | None:
    """A vertical spread: buy ``long_row`` at the ask, sell ``short_row`` at the bid.

    Both rows must share expiry and right and differ in strike. The kind follows from the
    strikes (see the module docstring). Returns None when the quotes leave no sensible
    structure: a debit not below the width, a credit that is not positive or not below the
    width (the would-be free lunch is a quote artefact, never a trade).

    Raises
    ------
    ValueError
        If the legs do not form a vertical (different expiry or right, same strike).
    """
    if chain.expiry[long_row] != chain.expiry[short_row] or (
        chain.right[long_row] != chain.right[short_row]
    ):
        raise ValueError("vertical: legs must share expiry and right")
    kl, ks = float(chain.strike[long_row]), float(chain.strike[short_row])
    if kl == ks:
        raise ValueError("vertical: legs must have different strikes")
    net = float(chain.ask[long_row] - chain.bid[short_row])
    width, m, call = abs(ks - kl), chain.multiplier, chain.right[long_row] > 0
    if net > 0:  # debit: bull call (long lower call) or bear put (long higher put)
        if net >= width:
            return None
        loss, gain = net * m, (width - net) * m
        kind = "bull_call_debit" if call else "bear_put_debit"
        be = kl + net if call else kl - net
    else:  # credit: sell the nearer-the-money strike
        credit = -net
        if not (0 < credit < width):
            return None
        loss, gain = (width - credit) * m, credit * m
        kind = "bear_call_credit" if call else "bull_put_credit"
        be = ks + credit if call else ks - credit
    expected = {
        "bull_call_debit": kl < ks,
        "bear_put_debit": kl > ks,
        "bear_call_credit": kl > ks,
        "bull_put_credit": kl < ks,
    }
    if not expected[kind]:
        return None  # e.g. a "debit" paid for the short side: a mispriced quote pair
    return Structure(
        kind=kind,
        net_premium=round(net, 9),
        max_loss=round(loss, 9),
        max_gain=round(gain, 9),
        breakevens=(round(be, 9),),
        **_common(chain, [(long_row, 1), (short_row, -1)]),
    )
