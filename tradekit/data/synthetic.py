"""Seeded synthetic intraday bars on an exchange calendar, with a consistent VIX-like index.

The generator powers the demo and the large benchmarks, because no permissively licensed real
intraday data exists offline. Its output is **labelled synthetic** (``attrs["synthetic"] =
True``, ``attrs["label"]``) so it can never be mistaken for market data.

Model (per symbol; every random quantity has its own stream ``default_rng((seed, k))``, drawn
as one row per session of the longest session's bar count, so the bars of a session depend on
the seed, the start and that session and the ones before it, never on how many ``days`` are
asked for: a longer series extends a shorter one, bar for bar):

* **Grid**: the sessions of ``calendar`` (holidays skipped, half days end early); bars every
  ``freq`` from the open, the last bar opening before the close.
* **Volatility regimes**: a daily Markov chain over calm / normal / stressed / crisis
  (multipliers 0.65, 1.0, 1.7, 2.8 of the symbol's base annual vol), persistent
  (stay probability ≈ 0.95), times a small daily log-normal wiggle. ``vol_ann[d]`` is the
  resulting annualised volatility of session ``d``.
* **Intraday shape**: per-bar volatility ``vol_ann[d] / sqrt(252 · 390) · sqrt(bar minutes) ·
  u(x)`` with the U-shape ``u(x) ∝ 1 + 2.2 (2x − 1)^2`` over the session fraction ``x``
  (normalised to unit mean square, so the daily variance matches ``vol_ann``).
* **Returns**: Gaussian, plus rare jumps (about one per 25 sessions, 6–10 bar sigmas) and an
  overnight gap at every session open (``0.35 · vol_ann[d] / sqrt(252)`` sigma).
* **OHLC**: open = previous close (times the gap at a session's first bar); wicks stick out
  beyond ``max/min(open, close)`` by half-normal multiples of the bar sigma; prices rounded to
  cents (rounding is monotone, so the OHLC inequalities survive).
* **Volume**: a U-shaped profile (heavier at the open and close), scaled by the regime and by
  the bar's absolute shock, log-normal noise; whole shares.
* **VIX-like index**: ``100 · (1.1 · vol_ann[d] + 0.02)`` (implied above realised: a
  variance premium),
  with daily noise and an intraday leverage effect (falls when the symbol rallies from its
  open, rises when it sells off). Known at each bar's open: no look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.data.calendar import MarketCalendar, get_calendar
from tradekit.data.schema import BAR_COLUMNS
from tradekit.errors import ConfigError

__all__ = [
    "SYMBOL_PROFILES",
    "SymbolProfile",
    "synthetic_intraday",
    "synthetic_pair",
    "synthetic_vix",
]

_MIN = 60_000_000_000
_REGIME_MULT = np.array([0.65, 1.0, 1.7, 2.8])
_REGIME_P = np.array(
    [
        [0.95, 0.05, 0.00, 0.00],
        [0.03, 0.94, 0.03, 0.00],
        [0.00, 0.07, 0.90, 0.03],
        [0.00, 0.00, 0.15, 0.85],
    ]
)
_JUMP_P_PER_SESSION = 1.0 / 25.0


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """Level and scale of a synthetic symbol: start price, base annual vol, volume per minute."""

    price: float
    vol: float
    volume: float


SYMBOL_PROFILES: dict[str, SymbolProfile] = {
    "SPY": SymbolProfile(470.0, 0.16, 120_000.0),
    "SPX": SymbolProfile(4700.0, 0.16, 60_000.0),
    "QQQ": SymbolProfile(400.0, 0.21, 80_000.0),
    "NDX": SymbolProfile(16_800.0, 0.21, 20_000.0),
    "IWM": SymbolProfile(200.0, 0.23, 60_000.0),
    "DIA": SymbolProfile(375.0, 0.15, 10_000.0),
}
_DEFAULT_PROFILE = SymbolProfile(100.0, 0.28, 20_000.0)


@dataclass(frozen=True, slots=True)
class _Grid:
    ts: IntArray  # bar open times
    session: IntArray  # session position of each bar
    frac: FloatArray  # fraction of the session elapsed at the bar's midpoint
    first: IntArray  # position of each session's first bar
    session_open: IntArray  # open ns per session
    step_min: int


@dataclass(frozen=True, slots=True)
class _Shocks:
    regime: IntArray  # per session
    day_noise: FloatArray  # per session, N(0,1)
    gap_z: FloatArray  # per session
    z: FloatArray  # per bar
    jump: FloatArray  # per bar: jump size in bar sigmas (0 mostly)
    wick_hi: FloatArray  # per bar, half-normal
    wick_lo: FloatArray
    vol_noise: FloatArray  # per bar, N(0,1)


def _profile(symbol: str, start_price: float | None) -> SymbolProfile:
    p = SYMBOL_PROFILES.get(symbol.upper(), _DEFAULT_PROFILE)
    if start_price is not None:
        if not start_price > 0:
            raise ConfigError(f"start_price must be > 0, got {start_price}")
        p = SymbolProfile(float(start_price), p.vol, p.volume)
    return p


def _step_minutes(freq: str) -> int:
    td = pd.Timedelta(freq)
    minutes = td.total_seconds() / 60.0
    if minutes < 1 or minutes != int(minutes) or minutes > 390:
        raise ConfigError(f"freq must be a whole number of minutes (1min..390min), got {freq!r}")
    return int(minutes)


def _grid(cal: MarketCalendar, start: Any, days: int, step_min: int) -> _Grid:
    if days < 1:
        raise ConfigError(f"days must be >= 1, got {days}")
    table = cal.sessions_from(start, days)
    opens = table["open_ns"].to_numpy()
    closes = table["close_ns"].to_numpy()
    step = step_min * _MIN
    counts = (closes - opens + step - 1) // step
    first = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    session = np.repeat(np.arange(len(opens), dtype=np.int64), counts)
    k = np.arange(session.shape[0], dtype=np.int64) - first[session]
    ts = opens[session] + k * step
    frac = (ts - opens[session] + step / 2) / (closes - opens)[session]
    return _Grid(ts, session, frac, first, opens, step_min)


def _regimes(rng: np.random.Generator, n: int) -> IntArray:
    u = rng.random(n)
    cum = np.cumsum(_REGIME_P, axis=1)
    out = np.empty(n, dtype=np.int64)
    state = 1
    for d in range(n):  # n = sessions (thousands at most): a Python loop is fine
        out[d] = state
        state = int(np.searchsorted(cum[state], u[d], side="right"))
        state = min(state, len(_REGIME_MULT) - 1)
    return out


def _draw(seed: Any, g: _Grid) -> _Shocks:
    """Every shock of the grid ``g``, prefix-stable in the number of sessions.

    Each quantity comes from its own generator ``default_rng((*seed, k))``; per-bar ones are
    drawn as a ``(sessions, bars of a full session)`` block in row order and the bars a
    session has are picked from its row, so session ``d`` always reads the same numbers.
    """
    key = tuple(np.atleast_1d(seed).tolist())
    n_sessions = len(g.first)
    width = -(-390 // g.step_min)  # bars of a full 6.5-hour session

    def stream(k: int) -> np.random.Generator:
        return np.random.default_rng((*key, 0x5E55, k))

    k_bar = np.arange(g.session.shape[0], dtype=np.int64) - g.first[g.session]
    pick = g.session * width + k_bar

    def per_bar(k: int, draw: str) -> FloatArray:
        rng = stream(k)
        block = (
            rng.standard_normal(n_sessions * width)
            if draw == "normal"
            else rng.random(n_sessions * width)
        )
        return block[pick]

    regime = _regimes(stream(0), n_sessions)
    day_noise = stream(1).standard_normal(n_sessions)
    gap_z = stream(2).standard_normal(n_sessions)
    z = per_bar(3, "normal")
    jump_hit = per_bar(4, "uniform") < _JUMP_P_PER_SESSION / (390.0 / g.step_min)
    size = 6.0 + 4.0 * per_bar(5, "uniform")
    sign = np.where(per_bar(6, "uniform") < 0.5, -1.0, 1.0)
    jump = np.where(jump_hit, size * sign, 0.0)
    wick_hi = np.abs(per_bar(7, "normal"))
    wick_lo = np.abs(per_bar(8, "normal"))
    vol_noise = per_bar(9, "normal")
    return _Shocks(regime, day_noise, gap_z, z, jump, wick_hi, wick_lo, vol_noise)


def _vol_ann(profile: SymbolProfile, sh: _Shocks) -> FloatArray:
    return profile.vol * _REGIME_MULT[sh.regime] * np.exp(0.1 * sh.day_noise)


def _u_shape(frac: FloatArray) -> FloatArray:
    u = 1.0 + 2.2 * (2.0 * frac - 1.0) ** 2
    return u / np.sqrt(1.0 + 2.0 * 2.2 / 3.0 + 2.2**2 / 5.0)  # so that E[u^2] = 1 on U(0,1)


def _build(symbol: str, profile: SymbolProfile, g: _Grid, sh: _Shocks) -> pd.DataFrame:
    vol_ann = _vol_ann(profile, sh)
    sigma = vol_ann[g.session] / np.sqrt(252.0 * 390.0) * np.sqrt(g.step_min) * _u_shape(g.frac)
    r = sigma * (sh.z + sh.jump)
    gap = np.zeros_like(r)
    gap[g.first] = 0.35 * vol_ann / np.sqrt(252.0) * sh.gap_z
    gap[0] = 0.0
    log_close = np.log(profile.price) + np.cumsum(r + gap)
    close = np.exp(log_close)
    open_ = np.exp(log_close - r)
    high = np.maximum(open_, close) * np.exp(0.5 * sigma * sh.wick_hi)
    low = np.minimum(open_, close) * np.exp(-0.5 * sigma * sh.wick_lo)
    shape = 1.0 + 1.5 * (2.0 * g.frac - 1.0) ** 4
    volume = profile.volume * g.step_min * shape * np.sqrt(_REGIME_MULT[sh.regime][g.session])
    volume *= (0.6 + 0.4 * np.abs(sh.z + sh.jump)) * np.exp(0.35 * sh.vol_noise - 0.06)
    cols = [np.round(x, 2) for x in (open_, high, low, close)] + [np.round(volume)]
    index = pd.DatetimeIndex(g.ts.view("datetime64[ns]"), name="ts").tz_localize("UTC")
    df = pd.DataFrame(dict(zip(BAR_COLUMNS, cols, strict=True)), index=index, copy=False)
    df.attrs.update(synthetic=True, symbol=symbol)
    return df


def _label(symbol: str, freq: str, seed: int) -> str:
    return f"SYNTHETIC {symbol} {freq} bars (seed {seed}) — not market data"


@overload
def synthetic_intraday(
    symbol: str = ...,
    start: Any = ...,
    days: int = ...,
    seed: int = ...,
    *,
    freq: str = ...,
    start_price: float | None = ...,
    with_vix: Literal[False] = ...,
    calendar: str | MarketCalendar = ...,
) -> pd.DataFrame: ...


@overload
def synthetic_intraday(
    symbol: str = ...,
    start: Any = ...,
    days: int = ...,
    seed: int = ...,
    *,
    freq: str = ...,
    start_price: float | None = ...,
    with_vix: Literal[True],
    calendar: str | MarketCalendar = ...,
) -> tuple[pd.DataFrame, pd.Series]: ...


def synthetic_intraday(
    symbol: str = "SPY",
    start: Any = "2024-01-02",
    days: int = 20,
    seed: int = 0,
    *,
    freq: str = "1min",
    start_price: float | None = None,
    with_vix: bool = False,
    calendar: str | MarketCalendar = "XNYS",
) -> pd.DataFrame | tuple[pd.DataFrame, pd.Series]:
    """Synthetic intraday bars of ``symbol`` over ``days`` sessions from ``start``.

    Parameters
    ----------
    symbol:
        Picks the price level and volatility (SPY ≈ 470, SPX ≈ 4700, QQQ ≈ 400, ...; others
        100). Purely cosmetic otherwise.
    start, days:
        First session on or after ``start``; number of sessions (≈ 390 one-minute bars each).
    seed:
        Everything is a function of the seed. Prefix-stable: the bars of a session depend
        on (seed, symbol, start, that session and the earlier ones), never on ``days``.
    freq:
        Bar length, a whole number of minutes (``"1min"``, ``"5min"``...).
    start_price:
        Override the symbol's start price.
    with_vix:
        Also return the per-bar VIX-like series (see :func:`synthetic_vix`).
    calendar:
        Exchange calendar of the sessions (holidays, half days).

    Returns
    -------
    pandas.DataFrame or (DataFrame, Series)
        Valid bars (bar contract) with ``attrs``: ``synthetic=True``, ``label``, ``symbol``
        and ``synthetic_params`` (the arguments, to regenerate it).

    Examples
    --------
    >>> bars = synthetic_intraday("SPY", start="2024-11-27", days=2)
    >>> len(bars), bars.attrs["synthetic"]  # 390 + 210 (half day after Thanksgiving)
    (600, True)
    """
    cal = calendar if isinstance(calendar, MarketCalendar) else get_calendar(calendar)
    profile = _profile(symbol, start_price)
    g = _grid(cal, start, days, _step_minutes(freq))
    sh = _draw(seed, g)
    df = _build(symbol, profile, g, sh)
    params = {"symbol": symbol, "start": str(start), "days": days, "seed": seed, "freq": freq,
              "start_price": start_price, "calendar": cal.name}  # fmt: skip
    df.attrs.update(label=_label(symbol, freq, seed), synthetic_params=params)
    if with_vix:
        return df, _vix_from(df, g, _vol_ann(profile, sh), seed)
    return df


def _vix_from(bars: pd.DataFrame, g: _Grid, vol_ann: FloatArray, seed: int) -> pd.Series:
    rng = np.random.default_rng((seed, 0x56_49_58))  # independent stream: "VIX"
    daily = 100.0 * (1.1 * vol_ann + 0.02) * np.exp(0.08 * rng.standard_normal(vol_ann.shape[0]))
    log_open = np.log(bars["open"].to_numpy()[g.first])
    # leverage effect: known at the bar's open (uses the open, not the close)
    move = np.log(bars["open"].to_numpy()) - log_open[g.session]
    vix = daily[g.session] * np.exp(-4.0 * move)
    out = pd.Series(np.round(np.clip(vix, 9.0, 150.0), 2), index=bars.index, name="vix")
    out.attrs.update(synthetic=True, label="SYNTHETIC VIX-like index — not market data")
    return out


def synthetic_vix(
    bars: pd.DataFrame | None = None, *, per: Literal["bar", "day"] = "bar", **kwargs: Any
) -> pd.Series:
    """The VIX-like series consistent with a synthetic bar frame.

    Pass either the frame returned by :func:`synthetic_intraday` / :func:`synthetic_pair` (its
    ``synthetic_params`` are used to regenerate the volatility path deterministically) or the
    same keyword arguments as :func:`synthetic_intraday`. For a pair, both symbols share one
    volatility regime, so both give the VIX of the pair's first symbol.

    Parameters
    ----------
    per:
        ``"bar"``: one value per bar, known at the bar's open (index = the bars' index).
        ``"day"``: one value per session, the value at the session's open, indexed by the
        session open (UTC) — a daily series for IV-rank style statistics.

    Raises
    ------
    ConfigError
        ``bars`` is not a synthetic frame from this module, or ``per`` is unknown.
    """
    if per not in ("bar", "day"):
        raise ConfigError(f"per must be 'bar' or 'day', got {per!r}")
    if bars is not None:
        params = bars.attrs.get("synthetic_params")
        if not bars.attrs.get("synthetic") or params is None:
            raise ConfigError("synthetic_vix needs a frame from synthetic_intraday (attrs missing)")
        kwargs = {**params, **kwargs}
    pair = kwargs.pop("pair", None)
    if pair:
        kwargs["symbol"] = pair[0]
    kwargs.pop("with_vix", None)
    _, vix = synthetic_intraday(**kwargs, with_vix=True)
    if per == "bar":
        return vix
    ts = vix.index.asi8
    opens, _ = get_calendar(str(kwargs.get("calendar", "XNYS"))).session_open_close(ts)
    daily = vix[ts == opens]
    daily.attrs.update(vix.attrs)
    return daily


def synthetic_pair(
    symbols: tuple[str, str] = ("SPY", "QQQ"),
    start: Any = "2024-01-02",
    days: int = 20,
    seed: int = 0,
    *,
    correlation: float = 0.9,
    freq: str = "1min",
    calendar: str | MarketCalendar = "XNYS",
) -> dict[str, pd.DataFrame]:
    """Two synthetic symbols on the same timestamps with correlated returns (for SMT tests).

    Both share the volatility regime and the jumps; per-bar shocks and overnight gaps have
    correlation ``correlation``. The first symbol's frame equals
    ``synthetic_intraday(symbols[0], start, days, seed, freq=freq)``.
    """
    if not -1.0 <= correlation <= 1.0:
        raise ConfigError(f"correlation must be in [-1, 1], got {correlation}")
    cal = calendar if isinstance(calendar, MarketCalendar) else get_calendar(calendar)
    g = _grid(cal, start, days, _step_minutes(freq))
    a = _draw(seed, g)
    b_own = _draw((seed, 2), g)
    s = np.sqrt(1.0 - correlation**2)
    b = _Shocks(
        a.regime, a.day_noise, correlation * a.gap_z + s * b_own.gap_z,
        correlation * a.z + s * b_own.z, a.jump, b_own.wick_hi, b_own.wick_lo, b_own.vol_noise,
    )  # fmt: skip
    out: dict[str, pd.DataFrame] = {}
    for sym, shocks, sd in ((symbols[0], a, seed), (symbols[1], b, seed)):
        df = _build(sym, _profile(sym, None), g, shocks)
        params = {"symbol": sym, "start": str(start), "days": days, "seed": sd, "freq": freq,
                  "start_price": None, "calendar": cal.name}  # fmt: skip
        params["pair"] = list(symbols)
        df.attrs.update(label=_label(sym, freq, seed), synthetic_params=params)
        out[sym] = df
    return out
