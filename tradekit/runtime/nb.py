"""Numba kernel of the replay loop: how far a backtest can fast-forward over quiet bars.

The readable side is :mod:`tradekit.runtime.quiet`, which says what a quiet bar is and applies
a span of them to the engine. Here is only the scan, over plain arrays, with the same float
arithmetic as the Python objects it stands in for (the ledger's ``qty × price × multiplier``,
the monitor's stop and target touches, the daily-loss test), so a fast-forwarded bar and a
processed one agree to the last bit (tested against the per-bar path).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["BOOK_COLUMNS", "BOOK_MAE", "BOOK_MFE", "BOOK_TRACK", "ExitRules", "quiet_span"]

#: The columns of :func:`quiet_span`'s ``book``, one row per open position.
BOOK_COLUMNS = ("qty", "avg", "mult", "track", "mae", "mfe")
BOOK_TRACK, BOOK_MAE, BOOK_MFE = (BOOK_COLUMNS.index(c) for c in ("track", "mae", "mfe"))

#: Exit levels of the managed positions, one entry per position and array: side (+1 / -1),
#: stop, next target, absolute time stop (ns), minutes-before-close stop, flatten minutes.
ExitRules = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

_NS_PER_MINUTE = 60_000_000_000


@njit(cache=True)
def _exit_due(bo: float, bh: float, bl: float, close_ts: int, rules: ExitRules,
              session_close_ns: int) -> bool:  # fmt: skip
    """Whether some managed position has an exit on this bar (the monitor's rules)."""
    side, stop_px, target_px, time_stop_ns, minutes_before_close, flatten_minutes = rules
    for k in range(side.shape[0]):
        stop, target = stop_px[k], target_px[k]
        if side[k] > 0:
            if stop == stop and (bo <= stop or bl <= stop):
                return True
            if target == target and (bo >= target or bh >= target):
                return True
        else:
            if stop == stop and (bo >= stop or bh >= stop):
                return True
            if target == target and (bo <= target or bl <= target):
                return True
        if close_ts >= time_stop_ns[k]:
            return True
        left_min = (session_close_ns - close_ts) / _NS_PER_MINUTE
        if left_min <= minutes_before_close[k] or left_min <= flatten_minutes[k]:
            return True
    return False


@njit(cache=True)
def _premium_exit_due(mark: float, premium: np.ndarray) -> bool:
    """Whether the premium rules of an option position (``premium``: entry net premium per
    unit, side, leg ratio, premium stop, take-all, take-half fractions; NaN for none, the
    take-half NaN once taken) close something at the mid ``mark`` (the monitor's rules)."""
    entry = premium[0]
    if entry != entry or entry == 0.0:
        return False
    ret = (0.0 + premium[2] * mark - entry) / abs(entry) * premium[1]
    return ret <= -premium[3] or ret >= premium[4] or ret >= premium[5]


_EPS = 1e-9  # the sizer's floor forgiveness (tradekit.decision.sizing)


@njit(cache=True)
def _floor(x: float) -> float:
    if not math.isfinite(x) or x <= 0.0:
        return 0.0
    return np.floor(x + _EPS)  # a float: math.floor would give an int64 (overflows)


@njit(cache=True)
def sized_quantity(
    equity: float,
    gross: float,
    n_open: int,
    symbol_notional: float,
    position_qty: float,
    unit_risk: float,
    unit_notional: float,
    fraction: float,
    limits: np.ndarray,
) -> float:
    """The quantity :class:`~tradekit.decision.sizing.Sizer` gives (its ``quantity``), by the
    same operations: ``limits`` are its caps (:attr:`Sizer.limits
    <tradekit.decision.sizing.Sizer.limits>`), the rest its arguments (account equity, gross
    exposure and open positions; the symbol's notional and position; the setup's unit risk,
    unit notional and risk fraction)."""
    if not (math.isfinite(equity) and equity > 0.0):
        return 0.0
    budget = equity * fraction
    if not (math.isfinite(unit_risk) and unit_risk > 0.0):
        return 0.0
    if position_qty == 0.0 and n_open >= limits[1]:
        return 0.0
    qty = _floor(budget / unit_risk)
    if limits[0] < qty:
        qty = limits[0]
    if unit_notional > 0.0:
        inf = np.inf
        for x in (
            (limits[2] * equity - symbol_notional) / unit_notional,
            (limits[3] * equity - gross) / unit_notional,
            limits[4] / unit_notional,
            (limits[5] - symbol_notional) / unit_notional,
        ):
            if not qty <= x < inf:
                cap = _floor(x)
                if cap < qty:
                    qty = cap
    return max(qty, 0.0)


@njit(cache=True)
def quiet_span(
    start: int,
    ts: np.ndarray,
    dur: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    busy: np.ndarray,
    ts_end: int,
    close_end: int,
    book: np.ndarray,
    marks: np.ndarray,
    marks_base: int,
    cash: float,
    sod: float,
    loss_limit: float,
    check_loss: bool,
    rules: ExitRules,
    session_close_ns: int,
    premium: np.ndarray,
    premium_row: np.ndarray,
    refusable: np.ndarray,
    sizing: np.ndarray,
    limits: np.ndarray,
    stock_row: int,
    refused_until: int,
    equity_out: np.ndarray,
) -> int:
    """Scan bars ``start, start + 1, ...`` while each one is quiet; return the first that is
    not (bars ``start .. end - 1`` are quiet; ``end`` may be the end of the bars).

    A bar is quiet when it fires no setup (``busy``), opens before ``ts_end`` and closes before
    ``close_end`` (the current day and session), has valid prices, touches neither the stop
    nor the next target of any managed stock position ``k`` (``rules``, one entry per array:
    ``side[k]`` +1 long / -1 short, stop, next target — NaN for none), triggers none of the
    managed positions' time exits (absolute time stop ns, ``int64`` max for none;
    minutes-before-close stop and end-of-day flatten minutes before ``session_close_ns``, NaN
    for none), gives every open position ``p`` (row ``p`` of ``book``: quantity ``qty``, average
    price ``avg``, multiplier ``mult``, ``track`` 1.0 when its round trip's excursion is kept,
    0.0 if not, and that excursion so far, ``mae`` and ``mfe``; see ``BOOK_COLUMNS``) a
    valid mark ``marks[p, t - marks_base]`` (the close for stock, the quote mid
    for an option; > 0 and finite; the marks end where the span must), at which no option
    plan's premium rules (``premium[r]`` on the marks of position ``premium_row[r]``, see
    :func:`_premium_exit_due`) close anything, and, with ``check_loss``, leaves the day P&L
    above ``-loss_limit × start-of-day equity``.

    A bar that fires a setup (``busy``) is quiet only when ``refusable[t]`` and its setups
    are refused: it opens before ``refused_until`` (a gate on the account state refuses
    every setup until then), or the sizer gives its setup less than one unit on the account
    as marked at the bar (:func:`sized_quantity` with the setup's unit risk, unit notional
    and risk fraction ``sizing[:, t]``, caps ``limits``; no sizing when ``sizing`` has no
    columns; the symbol's position is ``stock_row``, -1 for none; every open position
    counts toward the symbol's notional, as all are on the replayed symbol where the caller
    enables this): then its decision is a SKIP that changes nothing (the caller counts it).

    For each quiet bar the equity after its marks (``cash`` + the positions' market values,
    summed in the ledger's order) goes to ``equity_out``, and for each position with
    ``track`` the open P&L ``qty × (mark - avg) × mult`` updates its ``mae`` / ``mfe`` in
    ``book`` as the ledger's marks would.
    """
    n = ts.shape[0]
    k_pos = book.shape[0]
    qty, avg, mult = book[:, 0], book[:, 1], book[:, 2]  # BOOK_COLUMNS' first three
    inf = np.inf
    t = start
    while t < n:
        setup = busy[t]
        if setup and not refusable[t]:
            break
        bar_ts = ts[t]
        close_ts = bar_ts + dur[t]
        if bar_ts >= ts_end or close_ts >= close_end:
            break
        bo, bh, bl, bc = o[t], h[t], lo[t], c[t]
        if not (bl > 0.0 and -inf < bh < inf and -inf < bo + bc < inf):
            break
        if _exit_due(bo, bh, bl, close_ts, rules, session_close_ns):
            break
        col = t - marks_base
        if col >= marks.shape[1]:
            break
        value = 0.0
        valid = True
        for p in range(k_pos):
            px = marks[p, col]
            if not 0.0 < px < inf:
                valid = False
                break
            value += qty[p] * px * mult[p]
        if not valid:
            break
        for r in range(premium.shape[0]):
            if _premium_exit_due(marks[premium_row[r], col], premium[r]):
                valid = False
                break
        if not valid:
            break
        equity = cash + value
        if check_loss:
            base = sod if sod > 0.0 else equity
            day_pnl = equity - sod
            if not (math.isfinite(day_pnl) and day_pnl > -loss_limit * base):
                break
        if setup and bar_ts >= refused_until:
            if sizing.shape[1] == 0:
                break
            gross = 0.0
            for p in range(k_pos):
                gross += abs(qty[p] * marks[p, col] * mult[p])
            held = qty[stock_row] if stock_row >= 0 else 0.0
            units = sized_quantity(equity, gross, k_pos, gross, held, sizing[0, t],
                                   sizing[1, t], sizing[2, t], limits)  # fmt: skip
            if units >= 1.0:
                break
        for p in range(k_pos):
            if book[p, BOOK_TRACK] != 0.0:
                pnl = qty[p] * (marks[p, col] - avg[p]) * mult[p]
                if pnl < book[p, BOOK_MAE]:
                    book[p, BOOK_MAE] = pnl
                elif pnl > book[p, BOOK_MFE]:
                    book[p, BOOK_MFE] = pnl
        equity_out[t] = equity
        t += 1
    return t
