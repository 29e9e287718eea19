"""Replay inputs and the labelled demo trader: what ``tradekit run``, ``serve`` and notebooks use.

:func:`replay_inputs` loads or generates the bars to replay with an honest label of what they
are: seeded *synthetic* SPY-like 1-minute bars with a synthetic VIX and synthetic option chains
(never presented as market data), a shipped real daily dataset (``"aapl"``, ...) with a fixed
VIX, or the user's own CSV / Parquet / DuckDB file. :func:`replay_market` builds the market
view and option quotes that go with them, and :func:`replay_trader` wires all of it into an
:class:`~tradekit.runtime.autotrader.AutoTrader` on a
:class:`~tradekit.data.feeds.ReplayFeed` over a DuckDB store.

Examples
--------
>>> inp = replay_inputs("aapl")
>>> inp.timeframe, inp.label.startswith("REAL daily bars AAPL")
('1D', True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.data.feeds import ReplayFeed
from tradekit.errors import DataError
from tradekit.runtime.autotrader import AutoTrader
from tradekit.store import Store

__all__ = ["ReplayInputs", "replay_inputs", "replay_market", "replay_trader"]


@dataclass(frozen=True)
class ReplayInputs:
    """What a replay needs: the bars to replay, the causal history the market data service may
    look back into (IV rank needs a year of VIX), the VIX (None: a fixed level), the series'
    names and a one-line ``label`` saying what the data is."""

    bars: pd.DataFrame
    history: pd.DataFrame
    vix: pd.Series | None
    symbol: str
    timeframe: str
    label: str
    data_label: str
    seed: int
    fixed_vix: float


def replay_inputs(
    data: str | os.PathLike[str] = "synthetic",
    *,
    symbol: str = "SPY",
    start: str = "2023-02-27",
    days: int = 5,
    history_days: int = 260,
    seed: int = 3,
    vix: float = 18.0,
) -> ReplayInputs:
    """Load or generate the bars of a replay.

    Parameters
    ----------
    data:
        ``"synthetic"``, a shipped dataset name (``aapl``, ``goog``, ``ibm``, ``msft``,
        ``aapl_2019``) or the path of a bar file (CSV / Parquet / DuckDB).
    symbol, start, days, history_days, seed:
        The synthetic series: symbol, first session of the history, sessions replayed after
        ``history_days`` sessions of history (IV rank looks back a year), seed.
    vix:
        Fixed VIX level for real data (no VIX history ships).

    Raises
    ------
    DataError
        ``days`` or ``history_days`` out of range, or an unreadable file.
    """
    from tradekit.data import datasets

    if days < 1:
        raise DataError(f"days must be >= 1, got {days}", rule="range")
    if history_days < 0:
        raise DataError(f"history_days must be >= 0, got {history_days}", rule="range")
    name = os.fspath(data)
    if name == "synthetic":
        history = datasets.synthetic_intraday(
            symbol, start=start, days=history_days + days, seed=seed
        )
        series = datasets.synthetic_vix(history, per="day")
        first = history.index.normalize().unique()[history_days]
        bars = history[history.index >= first]
        label = (f"SYNTHETIC {symbol} 1-minute bars - replaying {len(bars):,} bars ({days} "
                 f"sessions from {first:%Y-%m-%d}) after {history_days} sessions of history, "
                 f"seed {seed}; synthetic VIX and synthetic option chains (not market data)")  # fmt: skip
        short = f"synthetic:{symbol}:1min:{start}:{history_days}+{days}:seed{seed}"
        return ReplayInputs(bars, history, series, symbol, "1min", label, short, seed, vix)
    if name in datasets.list():
        bars = datasets.load(name)
        sym = name.split("_")[0].upper()
        source = datasets.info(name).get("source", "shipped sample")
        label = f"REAL daily bars {sym} from {source} ({len(bars):,} bars); VIX fixed at {vix}"
        return ReplayInputs(bars, bars, None, sym, "1D", label, f"{name}:1D:vix{vix}", seed, vix)
    path = Path(name)
    if not path.exists():
        raise DataError(f"no data {name!r}: not 'synthetic', a shipped dataset "
                        f"({', '.join(datasets.list())}) or an existing file", rule="source")  # fmt: skip
    from tradekit.data.schema import infer_bar_duration_ns
    from tradekit.data.sources.files import load_bars

    bars = load_bars(path)
    sym = str(bars.attrs.get("symbol") or path.stem.split("_")[0]).upper()
    ts = bars.index.asi8
    daily = len(ts) < 2 or infer_bar_duration_ns(ts) >= 86_400 * 10**9
    tf = "1D" if daily else "1min"
    label = f"bars from {path} ({len(bars):,} bars, {sym} {tf}); VIX fixed at {vix}"
    return ReplayInputs(
        bars, bars, None, sym, tf, label, f"file:{path.resolve()}:vix{vix}", seed, vix
    )


def replay_market(inp: ReplayInputs) -> tuple[Any, Any]:
    """``(market, quotes)`` of a replay: synthetic chains over the synthetic series, else a
    fixed VIX and no option quotes."""
    if inp.vix is None:
        fixed = float(inp.fixed_vix)
        return _FixedVix(fixed), None
    from tradekit.data.market import MarketDataService

    market = MarketDataService.with_synthetic_chains(
        {inp.symbol: inp.history}, vix=inp.vix, seed=inp.seed
    )
    return market, market.chain_provider


@dataclass(frozen=True)
class _FixedVix:
    """A constant VIX (a picklable ``fn(ts_ns) -> vix``)."""

    level: float

    def __call__(self, ts_ns: int) -> float:
        return self.level


def replay_trader(
    data: str | os.PathLike[str] = "synthetic",
    *,
    days: int = 5,
    seed: int = 3,
    speed: float | None = None,
    db: str | os.PathLike[str] | Store | None = None,
    config: AlgorithmConfig | None = None,
    symbol: str = "SPY",
    start: str = "2023-02-27",
    history_days: int = 260,
    vix: float = 18.0,
    kill_flag_path: str | os.PathLike[str] | None = None,
    inputs: ReplayInputs | None = None,
    **trader_kwargs: Any,
) -> AutoTrader:
    """The labelled demo trader: an :class:`AutoTrader` replaying ``data`` (see
    :func:`replay_inputs`) at ``speed`` x real time (None: as fast as possible).

    ``db`` is a database path, an open :class:`~tradekit.store.Store`, or None for a
    throw-away in-memory store. ``config`` defaults to the default algorithm on the replayed
    symbol and timeframe (its ``symbols`` / ``timeframe`` are always set from the data).
    Further keywords go to :class:`AutoTrader` (``run_id``, ``new_run``, ``bus``...).
    """
    inp = inputs or replay_inputs(data, symbol=symbol, start=start, days=days,
                                  history_days=history_days, seed=seed, vix=vix)  # fmt: skip
    base = config if config is not None else AlgorithmConfig()
    cfg = base.model_copy(update={"symbols": (inp.symbol,), "timeframe": inp.timeframe})
    cfg = AlgorithmConfig.parse(cfg.model_dump(mode="json"))
    market, quotes = replay_market(inp)
    store = db if isinstance(db, Store) else Store.open(":memory:" if db is None else db)
    clock = SimClock()

    def feed() -> ReplayFeed:
        # one bar per loop turn: the server, UI and kill switch stay responsive while replaying
        return ReplayFeed(inp.bars, speed=speed, clock=clock, symbol=inp.symbol,
                          timeframe=inp.timeframe, yield_every=1)  # fmt: skip

    return AutoTrader(cfg, feed=feed(), store=store, market=market, quotes=quotes, clock=clock,
                      kill_flag_path=kill_flag_path, data_label=inp.data_label,
                      feed_factory=feed, **trader_kwargs)  # fmt: skip
