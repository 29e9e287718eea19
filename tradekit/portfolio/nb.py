"""Numba twin of the ledger's single-symbol accounting (research fast path, STYLE.md §D).

:func:`apply_fills_1d_nb` books a sequence of signed fills of one symbol exactly like
:meth:`tradekit.portfolio.ledger.Ledger.apply_fill` (average price, pro-rata commission
allocation, flips), so a vectorised backtest's cash and realised P&L match the paper broker's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["apply_fills_1d_nb", "equity_curve_1d_nb"]


@njit(cache=True)
def apply_fills_1d_nb(signed_qty, price, commission, multiplier, initial_cash):
    """Book fills of one symbol in order; state after each fill.

    Parameters: ``signed_qty[i]`` (> 0 buy, < 0 sell), ``price[i]``, ``commission[i]``
    (currency), ``multiplier`` and ``initial_cash`` scalars.
    Returns ``(position, avg_price, open_commission, cash, realized)`` arrays (NaN average when
    flat). Reference: ``Ledger.apply_fill`` (test: ``test_portfolio_nb.py``).
    """
    n = signed_qty.shape[0]
    pos_out = np.empty(n)
    avg_out = np.empty(n)
    oc_out = np.empty(n)
    cash_out = np.empty(n)
    real_out = np.empty(n)
    pos = 0.0
    avg = np.nan
    oc = 0.0
    cash = initial_cash
    realized = 0.0
    for i in range(n):
        dq = signed_qty[i]
        q = abs(dq)
        px = price[i]
        c = commission[i]
        cash -= dq * px * multiplier + c
        if q > 0.0:
            if pos == 0.0 or (pos > 0.0) == (dq > 0.0):
                held = abs(pos)
                avg = px if held == 0.0 else (avg * held + px * q) / (held + q)
                pos += dq
                oc += c
            else:
                held = abs(pos)
                sign = 1.0 if pos > 0.0 else -1.0
                close_q = min(q, held)
                close_c = c * close_q / q
                alloc = oc * close_q / held
                realized += (px - avg) * close_q * sign * multiplier - alloc - close_c
                oc -= alloc
                pos -= sign * close_q
                if abs(pos) <= 1e-9:
                    pos = 0.0
                    avg = np.nan
                    oc = 0.0
                rest = q - close_q
                if rest > 1e-9:
                    pos = -sign * rest
                    avg = px
                    oc = c - close_c
        pos_out[i] = pos
        avg_out[i] = avg
        oc_out[i] = oc
        cash_out[i] = cash
        real_out[i] = realized
    return pos_out, avg_out, oc_out, cash_out, real_out


@njit(cache=True)
def equity_curve_1d_nb(position, cash, close, multiplier):
    """Equity per bar ``cash + position × close × multiplier`` (arrays aligned by bar)."""
    n = close.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = cash[i] + position[i] * close[i] * multiplier
    return out
