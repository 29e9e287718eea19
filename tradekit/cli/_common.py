"""Pieces every ``tradekit`` subcommand shares: default paths, config loading, replay inputs
(the data itself is built by :mod:`tradekit.runtime.replay`, the library's one place for it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tradekit.config import AlgorithmConfig

if TYPE_CHECKING:
    from tradekit.runtime.replay import ReplayInputs

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_KILL_FLAG",
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


def replay_inputs(args: argparse.Namespace) -> ReplayInputs:
    """The replay data of the parsed arguments (:func:`tradekit.runtime.replay.replay_inputs`),
    with its honest label printed."""
    from tradekit.runtime.replay import replay_inputs as load_inputs

    inp = load_inputs(args.data, symbol=args.symbol, start=args.start, days=args.days,
                      history_days=args.history_days, seed=args.seed, vix=args.vix)  # fmt: skip
    print(f"data: {inp.label}")
    return inp


def market_for(inp: ReplayInputs, args: argparse.Namespace | None = None) -> tuple[Any, Any]:
    """The market view and option quote source of a replay."""
    from tradekit.runtime.replay import replay_market

    return replay_market(inp)


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
