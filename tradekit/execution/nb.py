"""Numba twins of the execution models (STYLE.md §C.6 / §D).

Each kernel has exactly the semantics of its Python model object (tests check they agree on
random inputs), so the vectorised research path prices fills like the paper broker does.
Models are selected by small integer codes (below); the objects expose them as ``nb_args()``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "COMM_FIXED_PLUS_PERCENT",
    "COMM_NONE",
    "COMM_PERCENT",
    "COMM_PER_CONTRACT",
    "COMM_PER_SHARE",
    "ORDER_LIMIT",
    "ORDER_MARKET",
    "ORDER_STOP",
    "ORDER_STOP_LIMIT",
    "SLIP_FIXED_BPS",
    "SLIP_HALF_SPREAD",
    "SLIP_NONE",
    "SLIP_VOLUME",
    "commission_nb",
    "match_price_nb",
    "next_open_fills_1d_nb",
    "slippage_price_nb",
]

ORDER_MARKET = 0
ORDER_LIMIT = 1
ORDER_STOP = 2
ORDER_STOP_LIMIT = 3

SLIP_NONE = 0
SLIP_FIXED_BPS = 1
SLIP_VOLUME = 2
SLIP_HALF_SPREAD = 3

COMM_NONE = 0
COMM_PER_SHARE = 1
COMM_PER_CONTRACT = 2
COMM_PERCENT = 3
COMM_FIXED_PLUS_PERCENT = 4


@njit(cache=True)
def _limit_price_nb(side, limit, o, h, lo):
    # a resting limit: fills at the open when the open is already better, else at the limit
    if side > 0:
        if o <= limit:
            return o
        if lo <= limit:
            return limit
        return np.nan
    if o >= limit:
        return o
    if h >= limit:
        return limit
    return np.nan


@njit(cache=True)
def _stop_limit_nb(side, stop, limit, o, h, lo, c):
    # walk the O→H→L→C path: find the trigger, then the first point the limit is marketable
    if side > 0:
        if o >= stop:
            x = o
        elif h >= stop:
            x = stop
        else:
            return np.nan, False
        if x <= limit:
            return x, True
        # after the trigger the path still visits the low (H→L segment)
        if lo <= limit:
            return limit, True
        return np.nan, True
    if o <= stop:
        if o >= limit:
            return o, True
        if h >= limit:  # the O→H segment follows the open
            return limit, True
        return np.nan, True
    if lo <= stop:  # triggered on the H→L segment; only L→C is left
        if stop >= limit:
            return stop, True
        if c >= limit:
            return limit, True
        return np.nan, True
    return np.nan, False


@njit(cache=True)
def match_price_nb(order_type, side, stop, limit, triggered, o, h, lo, c):
    """Fill price of one order on one bar by the O→H→L→C path, and the new trigger flag.

    Returns ``(price, triggered)``; ``price`` is NaN when the order does not fill. Market → open;
    stops gapped through fill at the open, else at the stop; limits gapped through fill at the
    open (better), else at the limit; a stop-limit triggered on an earlier bar acts as a limit.
    Reference: :meth:`tradekit.execution.models.fill.BarPathFillModel.match`.
    """
    if order_type == ORDER_MARKET:
        return o, triggered
    if order_type == ORDER_LIMIT:
        return _limit_price_nb(side, limit, o, h, lo), triggered
    if order_type == ORDER_STOP:
        if side > 0:
            if o >= stop:
                return o, True
            if h >= stop:
                return stop, True
            return np.nan, False
        if o <= stop:
            return o, True
        if lo <= stop:
            return stop, True
        return np.nan, False
    if triggered:
        return _limit_price_nb(side, limit, o, h, lo), True
    return _stop_limit_nb(side, stop, limit, o, h, lo, c)


@njit(cache=True)
def slippage_price_nb(kind, side, ref_price, qty, volume, bps, impact, max_bps):
    """Price after slippage, always against the trader (buy higher, sell lower).

    ``kind``: SLIP_NONE; SLIP_FIXED_BPS (``bps``); SLIP_VOLUME (``impact`` bps per 1 % of the
    bar volume taken, capped at ``max_bps``; unknown volume ≤ 0 → ``max_bps``); SLIP_HALF_SPREAD
    (``bps`` is the quoted spread, half of it is paid). Reference: the ``price`` method of the
    slippage models in :mod:`tradekit.execution.models.slippage`.
    """
    if kind == SLIP_NONE:
        b = 0.0
    elif kind == SLIP_FIXED_BPS:
        b = bps
    elif kind == SLIP_VOLUME:
        b = min(impact * (qty / volume * 100.0), max_bps) if volume > 0.0 else max_bps
    else:
        b = 0.5 * bps
    return ref_price * (1.0 + side * b * 1e-4)


@njit(cache=True)
def commission_nb(kind, qty, price, multiplier, rate, percent, fixed, minimum):
    """Commission in currency of one fill of ``qty`` units at ``price`` (buys and sells alike).

    per share / per contract: ``rate × qty``; percent: ``percent × qty × price × multiplier``;
    fixed + percent: ``fixed + percent × value``; every kind except none is raised to ``minimum``.
    Reference: the ``cost`` method of :mod:`tradekit.execution.models.commission`.
    """
    if kind == COMM_NONE or qty <= 0.0:
        return 0.0
    value = qty * abs(price) * multiplier
    if kind in (COMM_PER_SHARE, COMM_PER_CONTRACT):
        cost = rate * qty
    elif kind == COMM_PERCENT:
        cost = percent * value
    else:
        cost = fixed + percent * value
    return max(cost, minimum)


@njit(cache=True)
def next_open_fills_1d_nb(
    order_side,
    order_qty,
    open_,
    volume,
    slip_kind,
    bps,
    impact,
    max_bps,
    comm_kind,
    rate,
    percent,
    fixed,
    minimum,
    multiplier,
):
    """Market orders decided at bar ``i`` filled at bar ``i + 1``'s open (the research fast path).

    ``order_side[i]`` is +1/-1/0 (no order) and ``order_qty[i]`` its size. Returns
    ``(price, commission)`` arrays indexed by the *decision* bar; NaN/0 where there is no fill
    (no order, or no next bar). Equivalent to submitting each order to the paper broker after
    bar ``i`` with participation disabled.
    """
    n = open_.shape[0]
    price = np.full(n, np.nan)
    comm = np.zeros(n)
    for i in range(n - 1):
        s = order_side[i]
        if s == 0 or not (order_qty[i] > 0.0):
            continue
        p = slippage_price_nb(
            slip_kind, s, open_[i + 1], order_qty[i], volume[i + 1], bps, impact, max_bps
        )
        price[i] = p
        comm[i] = commission_nb(
            comm_kind, order_qty[i], p, multiplier, rate, percent, fixed, minimum
        )
    return price, comm
