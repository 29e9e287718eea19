"""The event-column contract of the signal detectors (SIGNALS.md §0).

Numba kernels cannot build Python objects, so every detector appends its events as rows of a
float64 buffer of shape ``(capacity, NCOL)`` whose columns are the ``COL_*`` constants below.
Integers (kind code, bar positions, direction, tag code) are stored as exact float64 values.
This module is the single place that names those columns, so the kernels (``nb*.py``), the
pandas surface (:func:`tradekit.signals.detectors.detect`), the streaming generator and the
confluence layer all agree on them.

Conventions
-----------
* ``index`` is the emission bar (the event is known at that bar's close); ``anchor_index`` is
  the bar where the pattern lives (``anchor_index <= index``).
* ``direction`` is +1 (bullish) or -1 (bearish); never 0.
* ``entry``, ``stop``, ``target`` are always finite. Level columns a kind does not use are NaN.
* Lifecycle events (``FVG_MITIGATED``, ``FVG_FILLED``) repeat the parent gap's levels and trade
  levels and carry the parent's ``anchor_index`` (the FVG middle candle), so they can be joined
  back to their FVG without any retroactive edit of the FVG row.

Examples
--------
>>> int(KindCode.FVG), KIND_NAMES[KindCode.FVG]
(10, 'FVG')
>>> EVENT_COLUMNS[:8]
('kind', 'index', 'ts', 'anchor_index', 'direction', 'entry', 'stop', 'target')
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Final

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray
from tradekit.core.enums import SignalKind
from tradekit.core.events import Signal
from tradekit.core.ids import text_id
from tradekit.errors import DataError

__all__ = [
    "COL_ANCHOR",
    "COL_ATR",
    "COL_BOTTOM",
    "COL_DIR",
    "COL_ENTRY",
    "COL_EQUAL_LEVELS",
    "COL_EXTREME",
    "COL_INDEX",
    "COL_KIND",
    "COL_LEVEL",
    "COL_MID",
    "COL_MID_DISP",
    "COL_N_LEVELS",
    "COL_OTHER_LEVEL",
    "COL_RATIO",
    "COL_SIZE",
    "COL_STOP",
    "COL_TAG",
    "COL_TARGET",
    "COL_TOP",
    "COL_TRIGGER",
    "DECISION_KINDS",
    "EVENT_COLUMNS",
    "KIND_NAMES",
    "LEVEL_COLUMNS",
    "NCOL",
    "TAG_NAMES",
    "KindCode",
    "TagCode",
    "buffer_to_signals",
    "events_to_signals",
    "kind_code",
    "signal_id",
]


class KindCode(IntEnum):
    """Numeric code of every event kind; mirrors :class:`tradekit.core.enums.SignalKind`.

    The numeric order is also the tie-break order of events emitted at the same bar.
    """

    STRAT_212 = 0
    STRAT_21_SETUP = 1
    SWING_HIGH = 2
    SWING_LOW = 3
    BOS = 4
    CHOCH = 5
    MSS = 6
    SWEEP_LOW = 7
    SWEEP_HIGH = 8
    SMT = 9
    FVG = 10
    FVG_MITIGATED = 11
    FVG_FILLED = 12
    DISPLACEMENT = 13
    BREAKER = 14
    VOLUME_SURGE = 15
    ORB = 16


class TagCode(IntEnum):
    """Sub-type of an event (column ``tag``); ``NONE`` where a kind has none."""

    NONE = 0
    BOS = 1  #: BOS/CHOCH: a break in the direction of the prevailing bias (or the first break)
    CHOCH = 2  #: BOS/CHOCH: a break against the prevailing bias
    CONTINUATION = 3  #: STRAT_212 2U-1-2U / 2D-1-2D (and STRAT_21_SETUP with the mother's way)
    REVERSAL = 4  #: STRAT_212 2D-1-2U / 2U-1-2D
    SWING = 5  #: sweep of a confirmed swing level (SIGNALS.md §3.5 A)
    PRIOR_DAY = 6  #: sweep of the prior day's high/low (§3.5 B)


#: Kind code → name, for building DataFrames and :class:`~tradekit.core.events.Signal` s.
KIND_NAMES: Final[dict[int, str]] = {int(k): k.name for k in KindCode}
_PRIOR_DAY: Final = TagCode.PRIOR_DAY.name
#: Tag code → name (``None`` for :attr:`TagCode.NONE`).
TAG_NAMES: Final[dict[int, str | None]] = {
    int(t): (None if t is TagCode.NONE else t.name) for t in TagCode
}
#: The twelve kinds the decision engine scores (SIGNALS.md §3.7); the others are helpers.
DECISION_KINDS: Final[frozenset[str]] = frozenset(
    {
        "STRAT_212",
        "BOS",
        "MSS",
        "CHOCH",
        "SWEEP_LOW",
        "SWEEP_HIGH",
        "SMT",
        "FVG",
        "DISPLACEMENT",
        "BREAKER",
        "VOLUME_SURGE",
        "ORB",
    }
)

# ---- event buffer columns (float64) -------------------------------------------------------
COL_KIND: Final = 0  #: KindCode
COL_INDEX: Final = 1  #: emission bar position
COL_ANCHOR: Final = 2  #: anchor bar position (<= index)
COL_DIR: Final = 3  #: +1 / -1
COL_ENTRY: Final = 4
COL_STOP: Final = 5
COL_TARGET: Final = 6
COL_TOP: Final = 7  #: zone top (FVG, BREAKER zone, ORB range high, STRAT_21_SETUP inside high)
COL_BOTTOM: Final = 8  #: zone bottom
COL_MID: Final = 9  #: (top+bottom)/2 (FVG consequent encroachment)
COL_SIZE: Final = 10  #: top-bottom (FVG); candle body (DISPLACEMENT)
COL_LEVEL: Final = 11  #: the key price: swing level, broken level, swept level, SMT swing
COL_TAG: Final = 12  #: TagCode
COL_EXTREME: Final = 13  #: sweep wick extreme
COL_TRIGGER: Final = 14  #: STRAT trigger price
COL_N_LEVELS: Final = 15  #: number of swing levels taken by a sweep
COL_MID_DISP: Final = 16  #: FVG: 1.0 if the middle candle was a same-direction displacement
COL_EQUAL_LEVELS: Final = 17  #: sweep: 1.0 if >= 2 taken levels lie within the equal-level band
COL_ATR: Final = 18  #: ATR[index-1] where a detector used it (DISPLACEMENT), else NaN
COL_RATIO: Final = 19  #: VOLUME_SURGE: V / mean(V); DISPLACEMENT: body / range
COL_OTHER_LEVEL: Final = 20  #: SMT: the other instrument's (failing) swing level
NCOL: Final = 21

#: Level columns of the DataFrame surface: (name, buffer column).
LEVEL_COLUMNS: Final[tuple[tuple[str, int], ...]] = (
    ("top", COL_TOP),
    ("bottom", COL_BOTTOM),
    ("mid", COL_MID),
    ("size", COL_SIZE),
    ("level", COL_LEVEL),
    ("extreme", COL_EXTREME),
    ("trigger", COL_TRIGGER),
    ("n_levels", COL_N_LEVELS),
    ("middle_is_displacement", COL_MID_DISP),
    ("equal_levels", COL_EQUAL_LEVELS),
    ("atr", COL_ATR),
    ("ratio", COL_RATIO),
    ("other_level", COL_OTHER_LEVEL),
)

#: Column order of :func:`tradekit.signals.detectors.detect` output. ``kind`` and ``tag`` are
#: strings (``tag`` None/NaN where absent), ``index``/``anchor_index``/``direction`` int64,
#: ``ts`` a tz-aware UTC timestamp of bar ``index`` (its open time), the rest float64.
EVENT_COLUMNS: Final[tuple[str, ...]] = (
    "kind",
    "index",
    "ts",
    "anchor_index",
    "direction",
    "entry",
    "stop",
    "target",
    "tag",
    *(name for name, _ in LEVEL_COLUMNS),
)


def kind_code(kind: str | SignalKind | KindCode) -> int:
    """The :class:`KindCode` value of a kind given by name, enum or code.

    Raises
    ------
    DataError
        If the kind is unknown.
    """
    if isinstance(kind, KindCode):
        return int(kind)
    name = kind.value if isinstance(kind, SignalKind) else str(kind)
    try:
        return int(KindCode[name])
    except KeyError:
        raise DataError(f"unknown signal kind {kind!r}", rule="kind") from None


def signal_id(
    symbol: str,
    timeframe: str,
    kind: str,
    ts_ns: int,
    direction: int,
    anchor_index: int,
    tag: str | None = None,
) -> str:
    """Deterministic signal id: ``make_id("sig", symbol, timeframe, kind, ts_ns, direction,
    anchor_index)``.

    A prior-day sweep and a swing sweep of the same side can fire on the same bar (often at
    the very same level), so for ``tag == "PRIOR_DAY"`` the tag is appended to the parts;
    every other id is exactly the formula above.
    """
    # make_id's text of these parts (strings as they are, the integers in decimal)
    text = (f"{symbol}\x1f{timeframe}\x1f{kind}\x1f{int(ts_ns)}\x1f{int(direction)}"
            f"\x1f{int(anchor_index)}")  # fmt: skip
    if tag == _PRIOR_DAY:
        text += "\x1f" + tag
    return text_id("sig", text)


def _levels_of(row: Mapping[str, object]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, _ in LEVEL_COLUMNS:
        val = row.get(name)
        if val is None:
            continue
        f = float(val)  # type: ignore[arg-type]
        if not np.isnan(f):
            out[name] = f
    return out


def events_to_signals(df: pd.DataFrame, symbol: str, timeframe: str) -> list[Signal]:
    """Convert an event DataFrame (the :data:`EVENT_COLUMNS` format) to ``Signal`` records.

    Parameters
    ----------
    df:
        Output of :func:`tradekit.signals.detectors.detect` (extra columns are ignored; level
        columns may be missing).
    symbol, timeframe:
        Written into every signal and into its deterministic id.

    Returns
    -------
    list of Signal
        In row order. ``ts_ns`` is the emission bar's open time in ns UTC; ``levels`` holds
        the non-NaN level columns; ``tag`` the tag name or None.
    """
    missing = [c for c in EVENT_COLUMNS[:9] if c not in df.columns]
    if missing:
        raise DataError(f"event frame lacks columns {missing}", rule="columns")
    ts_ns = _ts_to_ns(df["ts"])
    out: list[Signal] = []
    for i, row in enumerate(df.to_dict("records")):
        kind = str(row["kind"])
        direction = int(row["direction"])
        anchor = int(row["anchor_index"])
        tag = row.get("tag")
        tag_s = tag if isinstance(tag, str) else None
        out.append(
            Signal(
                id=signal_id(symbol, timeframe, kind, int(ts_ns[i]), direction, anchor, tag_s),
                symbol=symbol,
                timeframe=timeframe,
                kind=kind,
                ts_ns=int(ts_ns[i]),
                index=int(row["index"]),
                anchor_index=anchor,
                direction=direction,
                entry=float(row["entry"]),
                stop=float(row["stop"]),
                target=float(row["target"]),
                tag=tag_s,
                levels=_levels_of(row),
            )
        )
    return out


def buffer_to_signals(buf: FloatArray, ts_ns: int, symbol: str, timeframe: str) -> list[Signal]:
    """Convert buffer rows all emitted at one bar (open time ``ts_ns``) to ``Signal`` s.

    This is the streaming fast path of :func:`events_to_signals` (no DataFrame round trip).
    """
    out: list[Signal] = []
    for row in buf.tolist():  # python floats: much faster to inspect than numpy scalars
        kind = KIND_NAMES[int(row[COL_KIND])]
        direction = int(row[COL_DIR])
        anchor = int(row[COL_ANCHOR])
        levels = {name: row[col] for name, col in LEVEL_COLUMNS if row[col] == row[col]}
        tag = TAG_NAMES[int(row[COL_TAG])]
        out.append(
            Signal(
                id=signal_id(symbol, timeframe, kind, ts_ns, direction, anchor, tag),
                symbol=symbol,
                timeframe=timeframe,
                kind=kind,
                ts_ns=ts_ns,
                index=int(row[COL_INDEX]),
                anchor_index=anchor,
                direction=direction,
                entry=row[COL_ENTRY],
                stop=row[COL_STOP],
                target=row[COL_TARGET],
                tag=tag,
                levels=levels,
            )
        )
    return out


def _ts_to_ns(ts: pd.Series) -> np.ndarray:
    """int64 ns UTC of a timestamp column (any datetime64 unit, tz-aware or naive-UTC)."""
    idx = pd.DatetimeIndex(ts)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)
