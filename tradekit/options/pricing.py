"""Black-Scholes-Merton prices, Greeks and implied volatility (vectorised, NumPy-broadcasting).

Units (ARCHITECTURE.md): ``t`` in years (ACT/365), ``r``/``q``/``vol`` as decimals (continuous
compounding, continuous dividend yield). ``vega`` is per 1.00 of vol, ``theta`` per year
(calendar time, ``-dV/dT``), ``rho`` per 1.00 of ``r``, ``rho_q`` per 1.00 of ``q``. Use
:func:`theta_per_day` and :func:`vega_per_point` for the trader's units.

Input policy
------------
* Inputs broadcast like NumPy; scalars in give floats out, arrays give arrays of the broadcast
  shape. Shapes that do not broadcast raise ``ValueError`` (the only exception raised).
* Invalid values (spot or strike <= 0, t < 0, vol < 0, NaN/inf, an unknown right) give NaN in
  that position only - never an exception deep in a batch.
* ``t == 0`` (expiry): price = intrinsic, delta = the step (0 or +-1; +-0.5 exactly at the
  money), every other Greek 0. ``vol == 0`` with ``t > 0``: the deterministic limit
  (discounted forward intrinsic) with its exact delta/theta/rho.

Examples
--------
>>> g = price_greeks(42.0, 40.0, 0.5, 0.10, 0.0, 0.20, True)
>>> round(g.price, 4)
4.7594
>>> round(float(implied_vol(g.price, 42.0, 40.0, 0.5, 0.10, 0.0, True)), 10)
0.2
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tradekit._typing import FloatArray
from tradekit.options import nb

__all__ = [
    "IV_PARALLEL_THRESHOLD",
    "PARALLEL_THRESHOLD",
    "Greeks",
    "bsm_price",
    "implied_vol",
    "price_greeks",
    "rights_to_sign",
    "theta_per_day",
    "vega_per_point",
]

#: Batches at least this large use the ``prange`` kernels (see benchmarks/bench_options.py);
#: implied vol costs ~10x more per option, so it goes parallel much earlier.
PARALLEL_THRESHOLD = 200_000
IV_PARALLEL_THRESHOLD = 20_000
_DAYS_PER_YEAR = 365.0


class Greeks(NamedTuple):
    """Price and Greeks; floats for scalar input, arrays of the broadcast shape otherwise.

    ``vega`` per 1.00 vol, ``theta`` per year, ``rho`` per 1.00 rate, ``rho_q`` per 1.00 yield.
    """

    price: Any
    delta: Any
    gamma: Any
    vega: Any
    theta: Any
    rho: Any
    rho_q: Any


def rights_to_sign(is_call: Any) -> FloatArray:
    """Map rights to +1.0 (call) / -1.0 (put); unknown values map to NaN.

    Accepts booleans (True = call), numbers (+1/-1; other numbers are invalid) and the strings
    ``"C"``/``"P"`` (also ``"call"``/``"put"``, any case), scalar or array.
    """
    arr = np.asarray(is_call)
    if arr.dtype == np.bool_:
        return np.where(arr, 1.0, -1.0)
    if arr.dtype.kind in "iuf":
        a = arr.astype(np.float64)
        return np.where((a == 1.0) | (a == -1.0), a, np.nan)
    flat = [_right_str(v) for v in arr.ravel().tolist()]
    return np.asarray(flat, dtype=np.float64).reshape(arr.shape)


def _right_str(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else -1.0
    text = str(v).strip().upper()
    if text in ("C", "CALL"):
        return 1.0
    if text in ("P", "PUT"):
        return -1.0
    return float("nan")


def _prepare(*args: Any) -> tuple[tuple[int, ...], int, list[FloatArray]]:
    """Broadcast-check the inputs; return (shape, n, 1-D float64 arrays of length n or 1)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError as exc:
        raise ValueError(f"option inputs do not broadcast: {exc}") from None
    n = int(np.prod(shape)) if shape else 1
    flat: list[FloatArray] = []
    for a in arrays:
        if a.size == 1:
            flat.append(a.reshape(1))
        elif a.shape == shape:
            flat.append(np.ascontiguousarray(a).reshape(-1))
        else:
            flat.append(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1))
    return shape, n, flat


def _finish(arr: FloatArray, shape: tuple[int, ...]) -> Any:
    return float(arr[0]) if shape == () else arr.reshape(shape)


def _use_parallel(parallel: bool | None, n: int, threshold: int = PARALLEL_THRESHOLD) -> bool:
    return n >= threshold if parallel is None else parallel


def price_greeks(
    spot: Any,
    strike: Any,
    t: Any,
    r: Any,
    q: Any,
    vol: Any,
    is_call: Any,
    *,
    parallel: bool | None = None,
) -> Greeks:
    """BSM price, delta, gamma, vega, theta, rho and dividend rho.

    Parameters
    ----------
    spot, strike:
        Underlying price and strike (currency, > 0).
    t:
        Time to expiry in years (ACT/365, >= 0).
    r, q:
        Risk-free rate and continuous dividend yield (decimals).
    vol:
        Volatility (decimal, >= 0).
    is_call:
        Right: bool (True = call), +1/-1, or ``"C"``/``"P"``.
    parallel:
        Force (True) or forbid (False) the multi-threaded kernel; None picks by batch size.

    Returns
    -------
    Greeks
        Floats for all-scalar input, else arrays of the broadcast shape (NaN where invalid).

    Raises
    ------
    ValueError
        If the input shapes do not broadcast.
    """
    cp = rights_to_sign(is_call)
    shape, n, (s, k, tt, rr, qq, v, c) = _prepare(spot, strike, t, r, q, vol, cp)
    outs = np.empty((7, n))  # one allocation; rows are contiguous
    kernel = nb.bsm_1d_par_nb if _use_parallel(parallel, n) else nb.bsm_1d_nb
    kernel(s, k, tt, rr, qq, v, c, outs[0], outs[1], outs[2], outs[3], outs[4], outs[5], outs[6])
    return Greeks(*(_finish(o, shape) for o in outs))


def bsm_price(spot: Any, strike: Any, t: Any, r: Any, q: Any, vol: Any, is_call: Any) -> Any:
    """BSM price only (same conventions and NaN policy as :func:`price_greeks`)."""
    cp = rights_to_sign(is_call)
    shape, n, (s, k, tt, rr, qq, v, c) = _prepare(spot, strike, t, r, q, vol, cp)
    out = np.empty(n)
    nb.bsm_price_1d_nb(s, k, tt, rr, qq, v, c, out)
    return _finish(out, shape)


def implied_vol(
    price: Any,
    spot: Any,
    strike: Any,
    t: Any,
    r: Any,
    q: Any,
    is_call: Any,
    *,
    parallel: bool | None = None,
) -> Any:
    """BSM implied volatility: the ``vol`` with ``bsm_price(..., vol) == price``.

    The solver works on the out-of-the-money twin (put-call parity removes the intrinsic value)
    in Jaeckel's normalised coordinates, with a bracketed Halley iteration started at the
    inflection point (on ``ln`` price in the convex wing). It round-trips prices to ~1e-12
    relative for vols from 0.001 to well above 5.

    Returns
    -------
    float or ndarray
        The implied vol, or NaN where no vol exists: price below the discounted intrinsic value,
        at or above the no-arbitrage upper bound (``S e^{-qT}`` call, ``K e^{-rT}`` put), time
        value lost to rounding (below 1e-12 of the underlying scale), ``t <= 0``, bad inputs.

    Raises
    ------
    ValueError
        If the input shapes do not broadcast.
    """
    cp = rights_to_sign(is_call)
    shape, n, (p, s, k, tt, rr, qq, c) = _prepare(price, spot, strike, t, r, q, cp)
    out = np.empty(n)
    par = _use_parallel(parallel, n, IV_PARALLEL_THRESHOLD)
    kernel = nb.implied_vol_1d_par_nb if par else nb.implied_vol_1d_nb
    kernel(p, s, k, tt, rr, qq, c, out)
    return _finish(out, shape)


def theta_per_day(theta: Any) -> Any:
    """Theta per calendar day (ACT/365) from the kernel's theta per year."""
    return (
        np.asarray(theta, dtype=np.float64) / _DAYS_PER_YEAR
        if np.ndim(theta)
        else (float(theta) / _DAYS_PER_YEAR)
    )


def vega_per_point(vega: Any) -> Any:
    """Vega per one vol point (0.01) from the kernel's vega per 1.00 of vol."""
    return np.asarray(vega, dtype=np.float64) * 0.01 if np.ndim(vega) else float(vega) * 0.01
