"""Strike selection (DECISIONS.md "Strike selection"): pick the contract or spread to trade.

Both selectors look at **every** expiry whose DTE lies in the class's range (not one fixed
date) and keep only rows that pass the class filters:

* DTE in ``[params.dte_min, params.dte_max]``;
* ``|delta|`` in ``[params.delta_min, params.delta_max]`` (for spreads: the leg nearer the
  money - the bought leg of a debit spread, the sold leg of a credit spread);
* liquidity ``0.4 * volume + 0.6 * open_interest >= params.min_liquidity``, open interest and
  volume both positive, and ``(ask - bid) / mid <= params.max_spread_pct`` (every leg);
* a positive bid and ask.

The long-option selector also prefers contracts whose ``|theta per day| / ask`` is within
``params.max_theta_ratio`` (gate 2.5's theta tolerance): when any candidate passes, only
those are scored; otherwise all are (the gate then decides, e.g. with an intraday horizon).

Scores (each component in [0, 1]; ties go to the first row in chain order):

* long option: ``0.4 * liquidity + 0.3 * delta closeness + 0.3 * premium``, with liquidity =
  ``log1p(liq) / log1p(max liq)`` over the candidates, delta closeness =
  ``1 - |(|delta| - band middle)| / (half band width)``, premium =
  ``0.5 * (1 - theta ratio / max_theta_ratio) + 0.5 * (1 - spread_pct / max_spread_pct)``
  (both clipped at 0): cheap decay and a tight market.
* vertical: ``0.4 * reward:risk + 0.3 * liquidity + 0.3 * cost``, with reward:risk =
  ``rr / max rr``, liquidity as above on the weaker leg, cost = ``1 - max_loss / max max_loss``
  over the candidates.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from tradekit._typing import BoolArray, FloatArray, IntArray
from tradekit.config import OptionClassParams
from tradekit.options import nb
from tradekit.options.chain import OptionChain
from tradekit.options.structures import Structure, long_option, vertical

__all__ = [
    "eligible_rows",
    "long_option_theta_refused",
    "score_long_options",
    "select_long_option",
    "select_vertical",
]


def _check_direction(direction: int) -> int:
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    return int(direction)


def _rows(
    chain: OptionChain, right: int, params: OptionClassParams, lo: float, hi: float
) -> IntArray:
    return nb.eligible_rows_nb(
        chain.dte, chain.bid, chain.ask, chain.mid, chain.open_interest, chain.volume,
        chain.delta, chain.right, right, params.dte_min, params.dte_max, params.min_liquidity,
        params.max_spread_pct, lo, hi,
    )  # fmt: skip


def eligible_rows(chain: OptionChain, right: int, params: OptionClassParams) -> IntArray:
    """Positions of rows of ``right`` (+1 call / -1 put) passing every filter incl. the delta
    band (see the module docstring; kernel :func:`tradekit.options.nb.eligible_rows_nb`)."""
    return _rows(chain, right, params, params.delta_min, params.delta_max)


def _liq_score(liq: FloatArray) -> FloatArray:
    top = np.log1p(np.max(liq))
    return np.log1p(liq) / top if top > 0 else np.zeros_like(liq)


def score_long_options(chain: OptionChain, rows: IntArray, params: OptionClassParams) -> FloatArray:
    """Scores of candidate long options ``rows`` (formula in the module docstring; kernel
    :func:`tradekit.options.nb.long_option_scores_nb`)."""
    return nb.long_option_scores_nb(
        chain.delta, chain.theta, chain.bid, chain.ask, chain.mid, chain.open_interest,
        chain.volume, np.asarray(rows, np.int64), params.delta_min, params.delta_max,
        params.max_theta_ratio, params.max_spread_pct,
    )  # fmt: skip


def select_long_option(
    chain: OptionChain,
    direction: int,
    params: OptionClassParams,
    *,
    max_ask: float | None = None,
) -> Structure | None:
    """The best long call (``direction`` +1) or long put (-1), or None when nothing passes.

    ``max_ask`` (per share) considers only the contracts whose ask is at most that: the same
    pick as on ``chain.filter(max_ask=max_ask)``, without building that chain.

    Examples
    --------
    >>> from tradekit.config import AlgorithmConfig
    >>> from tradekit.core.enums import TimeframeClass
    >>> from tradekit.options.chain import generate_chain
    >>> ch = generate_chain("SPY", 1_718_721_000_000_000_000, 545.0, 0.14, max_dte=60)
    >>> p = AlgorithmConfig().options.classes[TimeframeClass.SWING]
    >>> s = select_long_option(ch, +1, p)
    >>> s.kind, p.dte_min <= s.dte <= p.dte_max
    ('long_call', True)
    """
    right = _check_direction(direction)
    rows = eligible_rows(chain, right, params)
    if max_ask is not None:
        rows = rows[chain.ask[rows] <= max_ask]
    if rows.size == 0:
        return None
    within_theta = np.abs(chain.theta[rows]) / chain.ask[rows] <= params.max_theta_ratio
    if within_theta.any():  # prefer contracts that pass the theta tolerance (gate 2.5)
        rows = rows[within_theta]
    scores = score_long_options(chain, rows, params)
    best = int(np.argmax(scores))
    s = long_option(chain, int(rows[best]))
    return None if s is None else s.with_score(float(scores[best]))


def long_option_theta_refused(
    chain: OptionChain,
    direction: int,
    params: OptionClassParams,
    held_days: float,
    max_ask: tuple[float, float],
) -> bool:
    """Whether :func:`select_long_option` on ``chain`` narrowed to any ``max_ask`` between
    ``max_ask[0]`` and ``max_ask[1]`` (per share: what a risk budget affords, ``budget /
    multiplier``) picks nothing or a contract whose ``|theta| * held_days / ask`` exceeds
    ``params.max_theta_ratio``: gate 2.5's theta test for a position held ``held_days``
    (kernel :func:`tradekit.options.nb.long_option_theta_refused_nb`)."""
    rows = eligible_rows(chain, _check_direction(direction), params)
    return bool(
        nb.long_option_theta_refused_nb(
            chain.delta, chain.theta, chain.bid, chain.ask, chain.mid, chain.open_interest,
            chain.volume, rows, params.delta_min, params.delta_max, params.max_theta_ratio,
            params.max_spread_pct, float(held_days), float(max_ask[0]), float(max_ask[1]),
        )
    )  # fmt: skip


def _vertical_pairs(
    chain: OptionChain,
    near: IntArray,
    right: int,
    params: OptionClassParams,
    width_min: float,
    width_max: float,
) -> tuple[IntArray, IntArray]:
    """All (near, far) row pairs: same expiry and right, far leg further out of the money,
    width inside ``[width_min, width_max]`` (currency), far leg tradeable."""
    far = _rows(chain, right, params, -np.inf, np.inf)
    if near.size == 0 or far.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    dk = (chain.strike[far][None, :] - chain.strike[near][:, None]) * right  # > 0: further OTM
    ok = (
        (chain.expiry[far][None, :] == chain.expiry[near][:, None])
        & (dk >= width_min - 1e-9)
        & (dk <= width_max + 1e-9)
    )
    a, b = np.nonzero(ok)
    return near[a], far[b]


def _credit_band(params: OptionClassParams) -> tuple[float, float]:
    """Delta band of the sold leg of a credit spread: the class band clipped to out-of-the-
    money strikes (|delta| <= 0.5); (0.30, 0.50) when the class band is entirely in the money
    (LEAPS). Selling an in-the-money option is not what a credit spread is for."""
    lo, hi = params.delta_min, min(params.delta_max, 0.5)
    return (lo, hi) if lo < hi else (0.30, 0.50)


def _pair_metrics(
    chain: OptionChain, near: IntArray, far: IntArray, kind: str
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """Per pair: max loss, reward:risk, weaker-leg liquidity and validity (vectorised twin of
    :func:`tradekit.options.structures.vertical`)."""
    width = np.abs(chain.strike[far] - chain.strike[near])
    if kind == "debit":  # buy near at the ask, sell far at the bid
        net = chain.ask[near] - chain.bid[far]
        valid = (net > 0) & (net < width)
        loss, gain = net, width - net
    else:  # sell near at the bid, buy far at the ask
        credit = chain.bid[near] - chain.ask[far]
        valid = (credit > 0) & (credit < width)
        loss, gain = width - credit, credit
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(valid, gain / loss, 0.0)
    liq = np.minimum(chain.liquidity[near], chain.liquidity[far])
    return loss * chain.multiplier, rr, liq, valid


def select_vertical(
    chain: OptionChain,
    direction: int,
    kind: Literal["debit", "credit"],
    params: OptionClassParams,
    width_min_pct: float = 0.025,
    width_max_pct: float = 0.10,
    *,
    near_delta_band: tuple[float, float] | None = None,
) -> Structure | None:
    """The best vertical spread for ``direction`` and ``kind``, or None.

    * debit, +1: bull call debit (buy the nearer call, sell a higher one);
    * debit, -1: bear put debit (buy the nearer put, sell a lower one);
    * credit, +1: bull put credit (**sell** the nearer, higher put, buy a lower one);
    * credit, -1: bear call credit (**sell** the nearer, lower call, buy a higher one).

    The nearer leg passes the delta band: the class band for debit spreads, the class band
    clipped to out-of-the-money strikes for credit spreads (see :func:`_credit_band`), or
    ``near_delta_band`` when given. The width is ``width_min_pct``-``width_max_pct`` of spot
    (e.g. ``config.options.spread_width_min_pct``/``max_pct``). Pairs are scored vectorised;
    only the winner is built as a :class:`Structure`.

    Raises
    ------
    ValueError
        For a bad direction, kind, width range or delta band.
    """
    d = _check_direction(direction)
    if kind not in ("debit", "credit"):
        raise ValueError(f"kind must be 'debit' or 'credit', got {kind!r}")
    if not (0 < width_min_pct <= width_max_pct):
        raise ValueError("need 0 < width_min_pct <= width_max_pct")
    band = near_delta_band or (
        (params.delta_min, params.delta_max) if kind == "debit" else _credit_band(params)
    )
    if not (0 < band[0] < band[1] <= 1):
        raise ValueError(f"bad delta band {band!r}")
    right = d if kind == "debit" else -d
    near = eligible_rows(
        chain, right, params.model_copy(update={"delta_min": band[0], "delta_max": band[1]})
    )
    wmin, wmax = width_min_pct * chain.spot, width_max_pct * chain.spot
    near_rows, far_rows = _vertical_pairs(chain, near, right, params, wmin, wmax)
    loss, rr, liq, valid = _pair_metrics(chain, near_rows, far_rows, kind)
    if not valid.any():
        return None
    near_rows, far_rows = near_rows[valid], far_rows[valid]
    loss, rr, liq = loss[valid], rr[valid], liq[valid]
    score = 0.4 * rr / rr.max() + 0.3 * _liq_score(liq) + 0.3 * (1.0 - loss / loss.max())
    best = int(np.argmax(score))
    n_i, f_i = int(near_rows[best]), int(far_rows[best])
    s = vertical(chain, n_i, f_i) if kind == "debit" else vertical(chain, f_i, n_i)
    return None if s is None else s.with_score(float(score[best]))
