"""An arbitrage-free implied-volatility surface: SSVI (Gatheral & Jacquier 2014).

Total implied variance at log-moneyness ``k = ln(K / F)`` and time ``t`` (years, ACT/365)::

    w(k, t) = theta/2 * (1 + rho*phi*k + sqrt((phi*k + rho)^2 + 1 - rho^2)),  theta = theta(t)

* ``theta(t)``: ATM total variance, from a mean-reverting forward-variance curve
  ``xi(u) = v_inf + (v0 - v_inf) e^{-kappa u}`` (>= 0), so
  ``theta(t) = v_inf t + (v0 - v_inf)(1 - e^{-kappa t}) / kappa`` is increasing in ``t``
  (no calendar arbitrage at the money). :meth:`SSVIParams.from_vix` picks ``v0`` so that the
  30-day average variance equals ``(VIX/100)^2``: the surface follows a VIX-like level.
* ``rho``: skew (-1 < rho < 1; equity indices ~ -0.7).
* ``phi(theta) = eta / (theta^gamma (1 + theta)^(1 - gamma))`` (power law), then capped so the
  no-butterfly conditions of GJ Theorem 4.2 hold for every ``theta``:
  ``theta*phi*(1 + |rho|) <= 4`` and ``theta*phi^2*(1 + |rho|) <= 4``.

Calendar: GJ Theorem 4.1 needs ``theta`` non-decreasing and
``0 <= d(theta*phi)/d(theta) <= phi/rho^2 (1 + sqrt(1 - rho^2))``. For the power law
``d(theta*phi)/d(theta) = phi (1 - gamma)/(1 + theta)`` lies in ``[0, phi]``; the caps make
``theta*phi`` the minimum of non-decreasing functions (constant, and ``c*sqrt(theta)`` whose
derivative is ``phi/2``), so the conditions survive the capping. Hence total variance is
non-decreasing in ``t`` at every fixed ``k`` (tested as a property).

Examples
--------
>>> surf = SSVISurface(SSVIParams.from_vix(18.0))
>>> round(float(surf.vol(0.0, 30 / 365)), 3) > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradekit._typing import FloatArray
from tradekit.options import nb

__all__ = ["SSVIParams", "SSVISurface"]

_VIX_TENOR = 30.0 / 365.0


@dataclass(frozen=True, slots=True)
class SSVIParams:
    """SSVI parameters (all decimals; variances are vol squared, per year).

    Attributes
    ----------
    v0:
        Instantaneous ATM variance at ``t = 0`` (e.g. 0.16^2).
    v_inf:
        Long-run ATM variance the forward variance reverts to.
    kappa:
        Mean-reversion speed of the forward variance, per year (> 0).
    rho:
        Skew parameter, ``-1 < rho < 1``.
    eta, gamma:
        Power-law curvature ``phi(theta) = eta / (theta^gamma (1+theta)^(1-gamma))``,
        ``eta > 0``, ``0 < gamma < 1`` (``eta (1 + |rho|) <= 2`` and ``gamma <= 1/2`` make the
        caps inactive; they are enforced either way).
    """

    v0: float = 0.16**2
    v_inf: float = 0.18**2
    kappa: float = 2.0
    rho: float = -0.7
    eta: float = 1.1
    gamma: float = 0.45

    def __post_init__(self) -> None:
        checks = [
            (self.v0 > 0 and math.isfinite(self.v0), "v0 must be > 0"),
            (self.v_inf > 0 and math.isfinite(self.v_inf), "v_inf must be > 0"),
            (self.kappa > 0 and math.isfinite(self.kappa), "kappa must be > 0"),
            (-1.0 < self.rho < 1.0, "rho must be in (-1, 1)"),
            (self.eta > 0 and math.isfinite(self.eta), "eta must be > 0"),
            (0.0 < self.gamma < 1.0, "gamma must be in (0, 1)"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(f"SSVIParams: {msg}")

    @classmethod
    def from_vix(
        cls,
        vix: float,
        *,
        long_run_vol: float = 0.18,
        kappa: float = 2.0,
        rho: float = -0.7,
        eta: float = 1.1,
        gamma: float = 0.45,
    ) -> SSVIParams:
        """Parameters whose 30-day average ATM variance equals ``(vix / 100)^2``.

        ``vix`` is a VIX-like level in vol points (18.0 = 18 %). ``v0`` is solved from
        ``v_inf + (v0 - v_inf)(1 - e^{-kappa tau})/(kappa tau) = (vix/100)^2`` with
        ``tau = 30/365`` and floored at 1 % of ``v_inf`` (a VIX far below the long-run level).
        """
        if not (vix > 0 and math.isfinite(vix)):
            raise ValueError(f"vix must be a positive level in vol points, got {vix!r}")
        target = (vix / 100.0) ** 2
        v_inf = long_run_vol**2
        x = kappa * _VIX_TENOR
        factor = x / (1.0 - math.exp(-x))
        v0 = max(v_inf + (target - v_inf) * factor, 0.01 * v_inf)
        return cls(v0=v0, v_inf=v_inf, kappa=kappa, rho=rho, eta=eta, gamma=gamma)


class SSVISurface:
    """SSVI implied-vol surface: ``vol(k, t)``, ``total_variance(k, t)``, ``theta(t)``.

    Parameters
    ----------
    params:
        :class:`SSVIParams` (default: a calm SPX-like surface).
    atm_vol_fn:
        Optional ATM term structure ``t (years) -> ATM vol``; replaces the parametric
        ``theta(t)`` by ``atm_vol_fn(t)^2 * t``. It must give a non-decreasing total variance
        (checked on a grid from one hour to five years; ``ValueError`` otherwise).

    Notes
    -----
    ``k`` is log-moneyness against the **forward**, ``ln(K / (S e^{(r-q)t}))``. ``t <= 0`` or
    non-finite input gives NaN.
    """

    def __init__(
        self,
        params: SSVIParams | None = None,
        *,
        atm_vol_fn: Callable[[FloatArray], Any] | None = None,
    ) -> None:
        self.params = params if params is not None else SSVIParams()
        self._atm_vol_fn = atm_vol_fn
        if atm_vol_fn is not None:
            grid = np.geomspace(1.0 / (365 * 24), 5.0, 400)
            th = self.theta(grid)
            if not np.all(np.isfinite(th)) or np.any(np.diff(th) < -1e-14 * th[1:]):
                raise ValueError(
                    "atm_vol_fn gives a total variance that decreases in t "
                    "(calendar arbitrage) or is not finite"
                )

    def __repr__(self) -> str:
        src = "atm_vol_fn" if self._atm_vol_fn is not None else "parametric"
        return f"SSVISurface({self.params!r}, theta={src})"

    def theta(self, t: Any) -> Any:
        """ATM total variance ``theta(t)`` (vol^2 * years); NaN for ``t <= 0``."""
        tt = np.asarray(t, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            if self._atm_vol_fn is not None:
                out = np.asarray(self._atm_vol_fn(tt), dtype=np.float64) ** 2 * tt
            else:
                p = self.params
                out = p.v_inf * tt + (p.v0 - p.v_inf) * (-np.expm1(-p.kappa * tt)) / p.kappa
        out = np.where(tt > 0, out, np.nan)
        return float(out) if out.ndim == 0 else out

    def phi(self, theta: Any) -> Any:
        """Curvature ``phi(theta)``: the power law, capped by the no-butterfly bounds."""
        th = np.asarray(theta, dtype=np.float64)
        p = self.params
        a = 1.0 + abs(p.rho)
        with np.errstate(divide="ignore", invalid="ignore"):
            power = p.eta / (th**p.gamma * (1.0 + th) ** (1.0 - p.gamma))
            out = np.minimum(power, np.minimum(4.0 / (th * a), np.sqrt(4.0 / (th * a))))
        return float(out) if out.ndim == 0 else out

    def terms(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(theta(t), phi(theta(t)))`` of a 1-d array of times (years) in one call: what
        a chain needs per expiry (kernel :func:`tradekit.options.nb.ssvi_terms_1d_nb` for
        the parametric term structure; NaN for ``t <= 0``)."""
        tt = np.ascontiguousarray(t, dtype=np.float64).reshape(-1)
        if self._atm_vol_fn is not None:
            th = np.atleast_1d(np.asarray(self.theta(tt), dtype=np.float64))
            return th, np.atleast_1d(np.asarray(self.phi(th), dtype=np.float64))
        p = self.params
        th, ph = np.empty_like(tt), np.empty_like(tt)
        nb.ssvi_terms_1d_nb(tt, p.v0, p.v_inf, p.kappa, p.eta, p.gamma, p.rho, th, ph)
        return th, ph

    def total_variance(self, k: Any, t: Any) -> Any:
        """Total implied variance ``w(k, t) = vol^2 t`` at log-moneyness ``k`` (vs forward)."""
        kk = np.asarray(k, dtype=np.float64)
        th = np.asarray(self.theta(t), dtype=np.float64)
        ph = np.asarray(self.phi(th), dtype=np.float64)
        shape = np.broadcast_shapes(kk.shape, th.shape)
        n = int(np.prod(shape)) if shape else 1
        args = [np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1) for a in (kk, th, ph)]
        out = np.empty(n)
        nb.ssvi_total_variance_1d_nb(args[0], args[1], args[2], np.array([self.params.rho]), out)
        return float(out[0]) if shape == () else out.reshape(shape)

    def vol(self, k: Any, t: Any) -> Any:
        """Implied vol (decimal) at log-moneyness ``k`` and time ``t`` (years)."""
        w = np.asarray(self.total_variance(k, t), dtype=np.float64)
        tt = np.asarray(t, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.sqrt(w / tt)
        return float(out) if out.ndim == 0 else out

    def atm_vol(self, t: Any) -> Any:
        """ATM (k = 0) implied vol ``sqrt(theta(t) / t)``."""
        return self.vol(0.0, t)
