"""Pieces every ``tradekit`` subcommand shares: default paths, config loading, replay inputs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tradekit.config import AlgorithmConfig

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_KILL_FLAG",
    "ReplayInputs",
    "add_data_args",
    "fmt_ts",
    "load_config",
    "market_for",
    "replay_inputs",
]

DEFAULT_DB = Path("data") / "tradekit.duckdb"
DEFAULT_KILL_FLAG = Path("data") / "KILL"


def load_config(path: str | None, **overrides: Any) -> AlgorithmConfig:
    base = AlgorithmConfig.from_json(Path(path).read_text()) if path else AlgorithmConfig()
    data = base.model_dump(mode="json")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return AlgorithmConfig.parse(data)


@dataclass(frozen=True)
class ReplayInputs:
    """What a replay needs: the bars to replay, the causal history the market data service may
    look back into (IV rank needs a year of VIX), the VIX, and the series' names."""

    bars: pd.DataFrame
    history: pd.DataFrame
    vix: pd.Series | None
    symbol: str
    timeframe: str


def replay_inputs(args: argparse.Namespace) -> ReplayInputs:
    """Load or generate the replay data and print an honest label of what it is."""
    from tradekit.data import datasets

    if args.data == "synthetic":
        total = args.history_days + args.days
        history = datasets.synthetic_intraday(
            args.symbol, start=args.start, days=total, seed=args.seed
        )
        vix = datasets.synthetic_vix(history, per="day")
        first = history.index.normalize().unique()[args.history_days]
        bars = history[history.index >= first]
        print(f"data: SYNTHETIC {args.symbol} 1-minute bars - replaying {len(bars):,} bars "
              f"({args.days} sessions from {first:%Y-%m-%d}) after {args.history_days} sessions "
              f"of history, seed {args.seed}; synthetic VIX and synthetic option chains "
              "(not market data)")  # fmt: skip
        return ReplayInputs(bars, history, vix, args.symbol, "1min")
    bars = datasets.load(args.data)
    symbol = args.data.split("_")[0].upper()
    info = datasets.info(args.data)
    print(f"data: REAL daily bars {symbol} from {info.get('source', 'shipped sample')} "
          f"({len(bars):,} bars); VIX fixed at {args.vix} (no VIX history ships)")  # fmt: skip
    return ReplayInputs(bars, bars, None, symbol, "1D")


def market_for(inp: ReplayInputs, args: argparse.Namespace) -> tuple[Any, Any]:
    """The market view and option quote source of a replay."""
    if inp.vix is None:
        fixed = float(args.vix)
        return (lambda ts: fixed), None
    from tradekit.data.market import MarketDataService

    market = MarketDataService.with_synthetic_chains(
        {inp.symbol: inp.history}, vix=inp.vix, seed=args.seed
    )
    return market, market.chain_provider


def fmt_ts(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").tz_convert("America/New_York").strftime("%Y-%m-%d %H:%M NY")


def add_data_args(sp: argparse.ArgumentParser) -> None:
    """The data options of a replay (``run``, ``backtest``, ...)."""
    sp.add_argument("--data", default="synthetic",
                    help="'synthetic' (default) or a shipped dataset: aapl, goog, ibm, msft, aapl_2019")  # fmt: skip
    sp.add_argument("--symbol", default="SPY", help="synthetic symbol (SPY, QQQ, SPX, ...)")
    sp.add_argument("--start", default="2023-02-27", help="first synthetic session of the history")
    sp.add_argument("--days", type=int, default=5, help="synthetic sessions to replay")
    sp.add_argument(
        "--history-days",
        type=int,
        default=260,
        help="synthetic sessions of history before the replay (IV rank)",
    )
    sp.add_argument("--seed", type=int, default=3)
    sp.add_argument("--vix", type=float, default=18.0, help="fixed VIX for real daily data")
    sp.add_argument("--config", help="AlgorithmConfig JSON file")
