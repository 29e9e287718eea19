"""Pieces every ``tradekit`` subcommand shares: default paths, argument types, config loading,
replay inputs.

The argument types (:func:`positive_int`, :func:`finite_float`, :func:`db_path`...) check a
value when argparse reads it, so a bad argument ends the command with exit status 2 and one
``error:`` line naming the argument, never a traceback or a silently empty run.
"""

from __future__ import annotations

import argparse
import math
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
    "add_db_arg",
    "add_kill_flag_arg",
    "data_source",
    "date_arg",
    "db_path",
    "existing_file",
    "finite_float",
    "fmt_ts",
    "load_config",
    "market_for",
    "nonneg_int",
    "positive_float",
    "positive_int",
    "prepare_db_folder",
    "replay_inputs",
]

DEFAULT_DB = Path("data") / "tradekit.duckdb"
DEFAULT_KILL_FLAG = Path("data") / "KILL"
#: The project's data directory (relative to the working directory, like the defaults).
DATA_DIR = DEFAULT_DB.parent
_DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file


# -- argument types (argparse turns an ArgumentTypeError into "error: argument --x: ...") -----
def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_int(text: str) -> int:
    """A whole number >= 1 (``--days``)."""
    n = _int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def nonneg_int(text: str) -> int:
    """A whole number >= 0 (``--history-days``, ``--seed``)."""
    n = _int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def finite_float(text: str) -> float:
    """A finite number (no ``nan``/``inf``)."""
    x = _float(text)
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return x


def positive_float(text: str) -> float:
    """A finite number > 0 (``--speed``, ``--vix``)."""
    x = finite_float(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return x


def date_arg(text: str) -> str:
    """A calendar date such as ``2024-03-11`` (kept as text; the calendar parses it)."""
    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return text


def existing_file(text: str) -> str:
    """A path to a file that exists (``--config``)."""
    path = Path(text)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text} {what}")
    return text


def data_source(text: str) -> str:
    """``synthetic``, a shipped dataset name, or a CSV / Parquet file of bars."""
    from tradekit.data import datasets

    if text == "synthetic" or text in datasets.DATASETS:
        return text
    path = Path(text)
    if path.is_file():
        name = path.name.lower()
        if name.endswith((".csv", ".csv.gz", ".parquet", ".pq")):
            return text
        raise argparse.ArgumentTypeError(f"{text}: a bars file must be .csv, .csv.gz or .parquet")
    names = ", ".join(["synthetic", *sorted(datasets.DATASETS)])
    raise argparse.ArgumentTypeError(f"{text!r} is neither a dataset ({names}) nor a file")


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def db_path(text: str) -> str:
    """A DuckDB database path: an existing DuckDB file, or a new file whose folder exists or
    lies under the project's data directory (created then, see :func:`prepare_db_folder`)."""
    if text == ":memory:":
        return text
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a database file path")
    if path.exists():
        with path.open("rb") as fh:
            head = fh.read(12)
        if head and head[8:12] != _DUCKDB_MAGIC:  # an empty file DuckDB initialises
            raise argparse.ArgumentTypeError(f"{text} exists and is not a DuckDB database file")
        return text
    if path.suffix.lower() in (".csv", ".parquet", ".json", ".txt"):
        raise argparse.ArgumentTypeError(
            f"{text} does not look like a database file (use a .duckdb path)"
        )
    parent = path.parent
    if not parent.is_dir() and not _under(parent, DATA_DIR):
        raise argparse.ArgumentTypeError(
            f"folder {parent} does not exist (tradekit creates folders only under {DATA_DIR}/)"
        )
    return text


def prepare_db_folder(path: str) -> None:
    """Create the database file's folder when it is under the project's data directory
    (never anywhere else: :func:`db_path` refused those paths already)."""
    if path == ":memory:":
        return
    parent = Path(path).parent
    if not parent.is_dir() and _under(parent, DATA_DIR):
        parent.mkdir(parents=True, exist_ok=True)


def add_db_arg(sp: argparse.ArgumentParser, what: str) -> None:
    """The ``--db`` option (database file) with its help."""
    sp.add_argument("--db", type=db_path, default=str(DEFAULT_DB), metavar="PATH",
                    help=f"DuckDB database file {what} (default: {DEFAULT_DB})")  # fmt: skip


def add_kill_flag_arg(sp: argparse.ArgumentParser, what: str) -> None:
    """The ``--kill-flag`` option (the kill-switch flag file) with its help."""
    sp.add_argument("--kill-flag", default=str(DEFAULT_KILL_FLAG), metavar="PATH",
                    help=f"kill-switch flag file {what} (default: {DEFAULT_KILL_FLAG})")  # fmt: skip


def load_config(path: str | None, **overrides: Any) -> AlgorithmConfig:
    """The config of ``path`` (or the default) with the replay's ``symbols`` / ``timeframe``.

    When those overrides change the parameters, the name says so (``default@SPY-1min``):
    ``algorithm_configs`` keeps one parameter set per ``(name, version)``, so one database
    can hold runs on several symbols without a version clash.
    """
    base = AlgorithmConfig.from_json(Path(path).read_text()) if path else AlgorithmConfig()
    data = base.model_dump(mode="json")
    data.update({k: v for k, v in overrides.items() if v is not None})
    cfg = AlgorithmConfig.parse(data)
    if cfg.content_hash != base.content_hash:
        data["name"] = f"{base.name}@{'+'.join(cfg.symbols)}-{cfg.timeframe}"
        cfg = AlgorithmConfig.parse(data)
    return cfg


def replay_inputs(args: argparse.Namespace) -> ReplayInputs:
    """The replay data of the parsed arguments (:func:`tradekit.runtime.replay.replay_inputs`,
    the library's one place for it), with its honest label printed."""
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
    sp.add_argument("--data", type=data_source, default="synthetic", metavar="SOURCE",
                    help="'synthetic' (default), a shipped dataset (aapl, goog, ibm, msft, "
                    "aapl_2019) or your own bars file (path/to/bars.csv or .parquet)")  # fmt: skip
    sp.add_argument("--symbol", default=None,
                    help="symbol of the synthetic series (SPY, QQQ, SPX, ...; default SPY) or "
                    "of a bars file (default: the file name)")  # fmt: skip
    sp.add_argument("--start", type=date_arg, default="2023-02-27", metavar="DATE",
                    help="first synthetic session of the history (default 2023-02-27)")  # fmt: skip
    sp.add_argument("--days", type=positive_int, default=5, metavar="N",
                    help="synthetic sessions to replay, >= 1 (default 5)")  # fmt: skip
    sp.add_argument("--history-days", type=nonneg_int, default=260, metavar="N",
                    help="synthetic sessions of history before the replay, for IV rank "
                    "(default 260)")  # fmt: skip
    sp.add_argument("--seed", type=nonneg_int, default=11, metavar="N",
                    help="seed of the synthetic bars, VIX and option chains (default 11)")  # fmt: skip
    sp.add_argument("--vix", type=positive_float, default=18.0, metavar="LEVEL",
                    help="fixed VIX level for real daily data or a bars file, > 0 (default 18)")  # fmt: skip
    sp.add_argument("--config", type=existing_file, metavar="FILE",
                    help="AlgorithmConfig JSON file (default: the built-in configuration)")  # fmt: skip
