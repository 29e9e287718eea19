"""Train/test splits of a bar series for walk-forward analysis.

A :class:`Split` holds positional slices. The test window always lies strictly after the train
window (plus an optional ``gap`` of embargoed bars), so nothing a model learns on the train
window comes from the period it is judged on.

* :func:`rolling_splits` — a train window of fixed length that slides forward by ``step``.
* :func:`anchored_splits` — the train window always starts at bar 0 and grows.
* :func:`walk_forward_splits` — ``n_folds`` consecutive test windows covering the tail of the
  data, with a train window ``train_ratio`` times as long (rolling) or everything before it.

Lengths are numbers of bars, or durations (``"30D"``, a ``pd.Timedelta``) on a
``DatetimeIndex``.

Examples
--------
>>> [(s.train.start, s.train.stop, s.test.start, s.test.stop) for s in rolling_splits(10, 4, 2)]
[(0, 4, 4, 6), (2, 6, 6, 8), (4, 8, 8, 10)]
>>> [(s.train.stop, s.test.stop) for s in anchored_splits(10, 4, 3)]
[(4, 7), (7, 10)]
>>> [(s.train.start, s.test.start, s.test.stop) for s in walk_forward_splits(100, 4, train_ratio=2)]
[(4, 36, 52), (20, 52, 68), (36, 68, 84), (52, 84, 100)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd

from tradekit.errors import ConfigError

__all__ = ["Split", "anchored_splits", "rolling_splits", "splits_frame", "walk_forward_splits"]

Length: TypeAlias = int | str | pd.Timedelta


@dataclass(frozen=True)
class Split:
    """Fold ``fold``: positions ``train`` then ``test`` (Python slices, stop exclusive)."""

    fold: int
    train: slice
    test: slice

    def __post_init__(self) -> None:
        if not (0 <= self.train.start < self.train.stop <= self.test.start < self.test.stop):
            raise ConfigError(f"fold {self.fold}: train must end before test starts: {self}")


def _n_and_index(data: int | pd.Index | pd.DataFrame | pd.Series) -> tuple[int, pd.Index | None]:
    if isinstance(data, (int, np.integer)):
        return int(data), None
    index = data if isinstance(data, pd.Index) else data.index
    return len(index), index


def _bars(length: Length, index: pd.Index | None, name: str) -> int:
    """A length in bars: an int as is; a duration → the bars of the first such span."""
    if isinstance(length, (int, np.integer)) and not isinstance(length, bool):
        if length < 1:
            raise ConfigError(f"{name} must be >= 1 bar, got {length}")
        return int(length)
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(f"{name}={length!r} is a duration; it needs a DatetimeIndex")
    span = pd.Timedelta(length)
    if span <= pd.Timedelta(0):
        raise ConfigError(f"{name} must be a positive duration, got {length!r}")
    bars = int(np.searchsorted(index.asi8, index.asi8[0] + span.value, side="left"))
    return max(bars, 1)


def rolling_splits(
    data: int | pd.Index | pd.DataFrame | pd.Series,
    train: Length,
    test: Length,
    *,
    step: Length | None = None,
    gap: int = 0,
) -> list[Split]:
    """Fixed-length train windows followed by test windows, sliding by ``step`` (default
    ``test``: consecutive, non-overlapping test windows). ``gap`` bars are left out between
    train and test (an embargo against features that overlap the boundary)."""
    return _splits(data, train, test, step, gap, anchored=False)


def anchored_splits(
    data: int | pd.Index | pd.DataFrame | pd.Series,
    train: Length,
    test: Length,
    *,
    step: Length | None = None,
    gap: int = 0,
) -> list[Split]:
    """Like :func:`rolling_splits`, but every train window starts at bar 0 (``train`` is the
    first window's length) and grows by ``step``."""
    return _splits(data, train, test, step, gap, anchored=True)


def _splits(data: int | pd.Index | pd.DataFrame | pd.Series, train: Length, test: Length,
            step: Length | None, gap: int, *, anchored: bool) -> list[Split]:  # fmt: skip
    n, index = _n_and_index(data)
    tr, te = _bars(train, index, "train"), _bars(test, index, "test")
    st = _bars(step, index, "step") if step is not None else te
    if gap < 0:
        raise ConfigError(f"gap must be >= 0 bars, got {gap}")
    out: list[Split] = []
    start = 0
    while start + tr + gap + te <= n:
        train_sl = slice(0 if anchored else start, start + tr)
        test_sl = slice(start + tr + gap, start + tr + gap + te)
        out.append(Split(len(out), train_sl, test_sl))
        start += st
    if not out:
        raise ConfigError(f"{n} bars are too few for train={tr} + gap={gap} + test={te} bars")
    return out


def walk_forward_splits(
    data: int | pd.Index | pd.DataFrame | pd.Series,
    n_folds: int,
    *,
    train_ratio: float = 3.0,
    anchored: bool = False,
    gap: int = 0,
) -> list[Split]:
    """``n_folds`` consecutive test windows over the tail of the data.

    With ``n`` bars, each test window has ``n // (n_folds + train_ratio)`` bars and the first
    train window ``train_ratio`` times that; rolling train windows keep that length, anchored
    ones start at bar 0. The last test window ends at the last bar; remainder bars are left
    out before the first train window (anchored: added to it).
    """
    n, _ = _n_and_index(data)
    if not isinstance(n_folds, int) or n_folds < 1:
        raise ConfigError(f"n_folds must be an int >= 1, got {n_folds!r}")
    if not train_ratio > 0:
        raise ConfigError(f"train_ratio must be > 0, got {train_ratio!r}")
    te = int((n - gap) // (n_folds + train_ratio))
    tr = round(te * train_ratio)
    if te < 1 or tr < 1:
        raise ConfigError(f"{n} bars are too few for {n_folds} folds at train_ratio {train_ratio}")
    off = n - (tr + gap + n_folds * te)  # the remainder goes before the first train window
    return [
        Split(
            k,
            slice(0 if anchored else off + k * te, off + tr + k * te),
            slice(off + tr + gap + k * te, off + tr + gap + (k + 1) * te),
        )
        for k in range(n_folds)
    ]


def splits_frame(splits: list[Split], index: pd.Index | None = None) -> pd.DataFrame:
    """One row per fold: positions (and times when ``index`` is given) of train and test."""
    rows = []
    for s in splits:
        row: dict[str, object] = {
            "fold": s.fold, "train_start": s.train.start, "train_stop": s.train.stop,
            "test_start": s.test.start, "test_stop": s.test.stop,
        }  # fmt: skip
        if index is not None:
            row.update(
                train_from=index[s.train.start], train_to=index[s.train.stop - 1],
                test_from=index[s.test.start], test_to=index[s.test.stop - 1],
            )  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows).set_index("fold")
