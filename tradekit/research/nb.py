"""Numba kernels of the vectorised research fast path (STYLE.md §D).

:func:`simulate_signals_1d_nb` is a one-symbol portfolio simulation over entry/exit boolean
arrays with the paper broker's conventions: a decision taken at a bar's close fills at the next
bar's open (or, on request, at the same close), slippage moves the fill price against the trader
(:func:`tradekit.execution.nb.slippage_price_nb`) and commission is charged on both sides
(:func:`tradekit.execution.nb.commission_nb`). Cash, position and realised P&L follow
:func:`tradekit.portfolio.nb.apply_fills_1d_nb` for one position at a time (open, then close
whole), so a trade's P&L includes its entry and exit commissions.

Signal conventions (the same as ``vectorbt.Portfolio.from_signals`` with conflicts ignored, and
as a backtesting.py strategy that buys on an entry only when flat and closes on an exit only
when in a position):

* an entry while a position is open and an exit while flat are ignored;
* an entry and an exit on the same bar cancel out (nothing is ordered);
* with next-open fills, a decision on the last bar is never filled.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradekit.execution.nb import (
    COMM_FIXED_PLUS_PERCENT,
    COMM_NONE,
    COMM_PER_CONTRACT,
    COMM_PER_SHARE,
    COMM_PERCENT,
    commission_nb,
    slippage_price_nb,
)

__all__ = [
    "affordable_qty_nb",
    "crossover_1d_nb",
    "rolling_mean_1d_nb",
    "simulate_signals_1d_nb",
]


@njit(cache=True)
def rolling_mean_1d_nb(x, window):
    """Trailing mean over ``window`` values; NaN for the first ``window - 1``.

    Bit-for-bit the result of ``pd.Series(x).rolling(window).mean()`` on finite input, because a
    crossover of two averages is decided by their last bits whenever the two are equal in exact
    (decimal) arithmetic: SMA(10) equals SMA(50) to the cent on ~1 bar in 4,000 of a 1-minute
    series, and a different rounding there books a different trade. The steps are pandas':
    a running sum that first removes the value leaving the window and then adds the new one,
    each with its own Kahan compensation; a window of identical values returns that value
    exactly; an all-positive window never averages below zero (and an all-negative one never
    above). A NaN in the input poisons the running sum from there on: give finite prices (the
    bar contract guarantees them).
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    if window < 1:
        return out
    total = 0.0
    comp_add = 0.0
    comp_remove = 0.0
    n_neg = 0
    same_run = 0  # how many of the latest values equal the latest one
    prev = np.nan
    for i in range(n):
        if i >= window:
            gone = x[i - window]
            y = -gone - comp_remove
            t = total + y
            comp_remove = t - total - y
            total = t
            if gone < 0.0:
                n_neg -= 1
        v = x[i]
        y = v - comp_add
        t = total + y
        comp_add = t - total - y
        total = t
        if v < 0.0:
            n_neg += 1
        same_run = same_run + 1 if v == prev else 1
        prev = v
        if i >= window - 1:
            mean = total / window
            if same_run >= window:
                mean = v
            elif (n_neg == 0 and mean < 0.0) or (n_neg == window and mean > 0.0):
                mean = 0.0
            out[i] = mean
    return out


@njit(cache=True)
def crossover_1d_nb(a, b):
    """True at ``i`` when ``a`` crossed above ``b``: ``a[i-1] < b[i-1]`` and ``a[i] > b[i]``.

    Reference: ``backtesting.lib.crossover`` evaluated at every bar (NaN compares False).
    """
    n = a.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        out[i] = a[i - 1] < b[i - 1] and a[i] > b[i]
    return out


@njit(cache=True)
def affordable_qty_nb(budget, price, whole, comm_kind, rate, percent, fixed, minimum):
    """The largest quantity whose cost ``qty × price + commission(qty)`` fits in ``budget``.

    ``whole``: whole units (floor), else fractional. The first guess divides by the price plus
    the per-unit commission, ``price + price × percent`` (+ ``rate`` per share), exactly as
    backtesting.py sizes an all-equity order; fixed fees and minimums are then honoured by
    stepping down. Returns 0.0 when not even one unit (or a positive fraction) is affordable.
    """
    if not (budget > 0.0) or not (price > 0.0):
        return 0.0
    per_unit = price
    avail = budget
    if comm_kind in (COMM_PERCENT, COMM_FIXED_PLUS_PERCENT):
        per_unit = price + price * percent
    elif comm_kind in (COMM_PER_SHARE, COMM_PER_CONTRACT):
        per_unit = price + rate
    if comm_kind == COMM_FIXED_PLUS_PERCENT:
        avail = budget - fixed
    if not (avail > 0.0):
        return 0.0
    q = avail // per_unit if whole else avail / per_unit
    if comm_kind == COMM_NONE:
        return q
    if whole:
        while (
            q > 0.0
            and q * price + commission_nb(comm_kind, q, price, 1.0, rate, percent, fixed, minimum)
            > budget
        ):
            q -= 1.0
        return q
    if q * price + commission_nb(comm_kind, q, price, 1.0, rate, percent, fixed, minimum) > budget:
        q = (budget - minimum) / price  # only a minimum fee can still bind here
    return q if q > 0.0 else 0.0


@njit(cache=True)
def _enter_nb(trades, k, i, ref, volume, cash, direction, size_frac, whole, cm, sl):
    """Open a position at reference price ``ref`` on bar ``i``; returns ``(cash, position)``."""
    budget = cash * size_frac
    sk, ck = int(sl[0]), int(cm[0])
    price = slippage_price_nb(sk, direction, ref, budget / ref, volume, sl[1], sl[2], sl[3])
    q = affordable_qty_nb(budget, price, whole, ck, cm[1], cm[2], cm[3], cm[4])
    if not q > 0.0:
        return cash, 0.0
    c = commission_nb(ck, q, price, 1.0, cm[1], cm[2], cm[3], cm[4])
    pos = direction * q
    trades[k, 0] = i
    trades[k, 2] = pos
    trades[k, 3] = price
    trades[k, 5] = c
    return cash - (pos * price + c), pos


@njit(cache=True)
def _exit_nb(trades, k, i, ref, volume, cash, pos, cm, sl):
    """Close the whole position at ``ref`` on bar ``i``; fills trade row ``k``; returns cash."""
    side = 1 if pos < 0.0 else -1
    q = abs(pos)
    price = slippage_price_nb(int(sl[0]), side, ref, q, volume, sl[1], sl[2], sl[3])
    c = commission_nb(int(cm[0]), q, price, 1.0, cm[1], cm[2], cm[3], cm[4])
    trades[k, 1] = i
    trades[k, 4] = price
    trades[k, 6] = c
    trades[k, 7] = pos * (price - trades[k, 3]) - trades[k, 5] - c
    return cash + pos * price - c


@njit(cache=True)
def simulate_signals_1d_nb(
    open_, close, volume, entries, exits, at_close, direction, size_frac, whole,
    initial_cash, close_at_end, comm, slip,
):  # fmt: skip
    """Simulate one position at a time driven by ``entries``/``exits`` (see the module notes).

    Parameters
    ----------
    open_, close, volume:
        Bar arrays (float64, finite, prices > 0).
    entries, exits:
        Boolean arrays; ``entries[i]`` opens when flat, ``exits[i]`` closes when in a position.
    at_close:
        False: fill at the next bar's open (the paper broker); True: at this bar's close.
    direction:
        +1 long, -1 short.
    size_frac, whole:
        Fraction of cash put into each entry (1.0 = all equity); whole units or fractional.
    initial_cash:
        Starting cash (currency).
    close_at_end:
        Close a position still open at the last close (else it stays open, unrealised).
    comm, slip:
        ``(kind, rate, percent, fixed, minimum)`` and ``(kind, bps, impact, max_bps)`` float
        arrays: the ``nb_args()`` of the commission and slippage models.

    Returns
    -------
    tuple
        ``(equity, cash, position, trades, n_closed)``: per-bar equity (``cash + position ×
        close``), cash and signed position; ``trades`` is a float64 ``(k, 8)`` array of
        ``entry_bar, exit_bar, qty (signed), entry_price, exit_price, entry_commission,
        exit_commission, pnl`` whose first ``n_closed`` rows are closed trades, followed by one
        row with ``exit_bar`` NaN while a position is still open.
    """
    n = close.shape[0]
    equity = np.empty(n)
    cash_out = np.empty(n)
    pos_out = np.empty(n)
    trades = np.full((n // 2 + 2, 8), np.nan)
    k = 0
    cash = initial_cash
    pos = 0.0
    pending = 0  # +1: open at the next open; -1: close there
    for i in range(n):
        # 1. the order decided at the previous close fills at this open
        if pending == 1:
            cash, pos = _enter_nb(
                trades, k, i, open_[i], volume[i], cash, direction, size_frac, whole, comm, slip
            )
        elif pending == -1:
            cash = _exit_nb(trades, k, i, open_[i], volume[i], cash, pos, comm, slip)
            k += 1
            pos = 0.0
        pending = 0
        # 2. the decision at this close
        order = 0
        if pos == 0.0 and entries[i] and not exits[i]:
            order = 1
        elif pos != 0.0 and exits[i] and not entries[i]:
            order = -1
        if order != 0 and not at_close:
            pending = order
        elif order == 1:
            cash, pos = _enter_nb(
                trades, k, i, close[i], volume[i], cash, direction, size_frac, whole, comm, slip
            )
        elif order == -1:
            cash = _exit_nb(trades, k, i, close[i], volume[i], cash, pos, comm, slip)
            k += 1
            pos = 0.0
        # 3. optionally settle what is still open on the last bar
        if i == n - 1 and close_at_end and pos != 0.0:
            cash = _exit_nb(trades, k, i, close[i], volume[i], cash, pos, comm, slip)
            k += 1
            pos = 0.0
        equity[i] = cash + pos * close[i]
        cash_out[i] = cash
        pos_out[i] = pos
    rows = k + 1 if pos != 0.0 else k
    return equity, cash_out, pos_out, trades[:rows].copy(), k
