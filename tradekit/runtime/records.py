"""A backtest's records, kept on disk while it runs and turned into frames when read.

A replay of a million 1-minute bars publishes about 1.4 million signals and 100 thousand
setups and decisions; held as records until the end and then converted, they and their
frames took 3-3.5 GB. :class:`SpillingRecorder` keeps only the latest :data:`CHUNK` records
of each kind in memory: every full chunk is written to a temporary file as its field values
(one pickled list of tuples: exact, nested gate results and legs included) and let go.
:class:`RecordFrames` builds a kind's frame when it is first read, from the chunks in
publication order, by the same column rules as :func:`frame_of_records`, so the frame equals
the one the records would have given at once. A short replay never touches the disk (its
records stay in the first chunk). The files are removed with the recorder (when the result
is released, or at exit); pickling a :class:`RecordFrames` reads every frame first, so a
result that travels to another process (a Dask sweep) carries its frames.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradekit.core.bus import EventBus
from tradekit.core.events import Decision, Order
from tradekit.runtime.gcpolicy import replay_gc
from tradekit.store.convert import field_names, jsonable

__all__ = ["CHUNK", "KINDS", "RecordFrames", "SpillingRecorder", "frame_of_records"]

#: Records of one kind held in memory before they are written out.
CHUNK = 8_192
#: The record kinds of a backtest, in the order of :class:`BacktestResult`'s frames.
KINDS = ("signals", "setups", "decisions", "orders", "fills")
_PLAIN = (str, int, float, bool, type(None))


def _rows(records: Sequence[Any], names: tuple[str, ...]) -> list[tuple[Any, ...]]:
    get = attrgetter(*names)
    return [get(r) for r in records] if len(names) > 1 else [(get(r),) for r in records]


#: a chunk's column of one exact type, kept as an array until the frame is built
_PACKED = {float: np.float64, int: np.int64}


def _packed(values: tuple[Any, ...]) -> np.ndarray | list[Any]:
    """One chunk's values of a field: as a float64 / int64 array when every value is a
    Python ``float`` / ``int`` (``bool`` is not one; an int beyond int64 is not packed),
    else as they are. The array's ``tolist()`` gives the same values back."""
    kind = type(values[0])
    dtype = _PACKED.get(kind)
    if dtype is not None and all(type(v) is kind for v in values):
        try:
            return np.array(values, dtype=dtype)
        except OverflowError:
            pass
    return list(values)


def _extend_columns(columns: list[list[Any]], rows: list[tuple[Any, ...]]) -> None:
    """Append one chunk of field values ``rows`` (one tuple per record) to ``columns``, one
    list of chunk parts per field (see :func:`_packed`: numbers are packed into arrays, so
    the rows and their number objects can go right after)."""
    if rows:
        for column, values in zip(columns, zip(*rows, strict=True), strict=True):
            column.append(_packed(values))


def _column(name: str, parts: list[Any]) -> pd.Series:
    """One field's frame column from its chunk parts: the arrays joined when every part
    is an array of one dtype (what pandas infers from those numbers as a list), else the
    values as one list, nested ones through ``jsonable``, inferred by pandas as
    ``DataFrame({name: list})`` does. ``parts`` is emptied as it is read."""
    if all(isinstance(p, np.ndarray) for p in parts) and len({p.dtype for p in parts}) == 1:
        values = np.concatenate(parts)
        parts.clear()
        return pd.Series(values, name=name, copy=False)
    col: list[Any] = []
    for p in parts:
        col.extend(p.tolist() if isinstance(p, np.ndarray) else p)
    parts.clear()
    if not all(type(v) in _PLAIN for v in col):
        for k, v in enumerate(col):  # in place: each nested value goes once converted
            col[k] = jsonable(v)
    return pd.Series(col, name=name)


def _frame(names: tuple[str, ...], columns: list[list[Any]]) -> pd.DataFrame:
    """The frame of records given as their field values: per field in ``names``, a list of
    chunk parts (:func:`_extend_columns`; see :func:`frame_of_records`). A column's parts
    are let go once it is built (a million records' values are most of the memory here)."""
    if not columns or not any(len(p) for p in columns[0]):
        return pd.DataFrame()
    data = {name: _column(name, parts) for name, parts in zip(names, columns, strict=True)}
    df = pd.DataFrame(data, copy=False)
    if "ts_ns" in df:
        df.insert(0, "ts", pd.to_datetime(df["ts_ns"], unit="ns", utc=True))
    return df


def frame_of_records(records: Sequence[Any]) -> pd.DataFrame:
    """The records (dataclasses of one kind) as a frame, one column per field, built column
    by column: plain columns are taken as they are, nested values through ``jsonable``; a
    ``ts`` column (UTC) leads when the records have ``ts_ns``. The same frame as
    ``pd.DataFrame([to_dict(r) for r in records])`` (tested), without a dict per record."""
    if not records:
        return pd.DataFrame()
    names = field_names(records[0])
    return _frame(names, [[list(map(attrgetter(name), records))] for name in names])


class _Spool:
    """The records of one kind in publication order: the last chunk in memory, the earlier
    chunks in files of ``directory()`` as their field values."""

    def __init__(self, kind: str, directory: Any, chunk: int) -> None:
        self.kind, self._directory, self._chunk = kind, directory, chunk
        self._records: list[Any] = []
        self._files: list[Path] = []
        self._names: tuple[str, ...] | None = None
        self.count = 0

    @property
    def files(self) -> int:
        """Chunks written to disk so far."""
        return len(self._files)

    def append(self, record: Any) -> None:
        self._records.append(record)
        self.count += 1
        if len(self._records) >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        if self._names is None:
            self._names = field_names(self._records[0])
        path = self._directory() / f"{self.kind}-{len(self._files):05d}.pkl"
        with path.open("wb") as fh:
            pickle.dump(_rows(self._records, self._names), fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._files.append(path)
        self._records = []

    def frame(self) -> pd.DataFrame:
        if not self._files:
            return frame_of_records(self._records)
        names = self._names
        assert names is not None  # set by the first spill
        # column by column: a chunk's rows are let go once their values are in the columns
        columns: list[list[Any]] = [[] for _ in names]  # per field, its chunk parts
        for path in self._files:
            with path.open("rb") as fh:
                _extend_columns(columns, pickle.load(fh))  # our own files, from this run
        _extend_columns(columns, _rows(self._records, names))
        return _frame(names, columns)


class SpillingRecorder:
    """Bus subscriber that keeps a backtest's signals, setups, decisions, orders and fills,
    spilling all but the latest :data:`CHUNK` of each kind to temporary files (see the
    module docstring). Orders are kept by id, their latest state (a few per entry)."""

    def __init__(self, bus: EventBus, *, chunk: int = CHUNK) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self._dir: Path | None = None
        self._spools = {k: _Spool(k, self._directory, chunk) for k in KINDS if k != "orders"}
        self.orders: dict[str, Order] = {}
        self.entries = 0
        for kind in ("signals", "setups", "fills"):
            bus.subscribe(f"{kind}.*", self._appender(kind))
        bus.subscribe("decisions.*", self._on_decision)
        bus.subscribe("orders.*", self._on_order)

    def _appender(self, kind: str) -> Any:
        append = self._spools[kind].append
        return lambda topic, record: append(record)

    def _directory(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="tradekit-records-"))
            weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        return self._dir

    def _on_decision(self, topic: str, decision: Decision) -> None:
        self._spools["decisions"].append(decision)
        self.entries += decision.action.value == "ENTER"

    def _on_order(self, topic: str, order: Order) -> None:
        self.orders[order.id] = order

    @property
    def spilled_files(self) -> int:
        """Chunk files written so far (0 for a replay that fits one chunk per kind)."""
        return sum(s.files for s in self._spools.values())

    def counts(self) -> dict[str, int]:
        """The summary counts (as :meth:`EventRecorder.counts`)."""
        s = self._spools
        return {"signals": s["signals"].count, "setups": s["setups"].count,
                "decisions": s["decisions"].count, "entries": self.entries,
                "fills": s["fills"].count}  # fmt: skip

    def frame(self, kind: str) -> pd.DataFrame:
        """The frame of one of :data:`KINDS`, built from the records now."""
        if kind == "orders":
            return frame_of_records(list(self.orders.values()))
        with replay_gc():  # a million records: fewer collector passes while building
            return self._spools[kind].frame()


class RecordFrames:
    """The record frames of a backtest, by kind: given, or built on first read from a
    :class:`SpillingRecorder` and then kept."""

    def __init__(
        self,
        frames: dict[str, pd.DataFrame] | None = None,
        *,
        recorder: SpillingRecorder | None = None,
    ) -> None:
        self._frames: dict[str, pd.DataFrame] = dict(frames or {})
        self._recorder = recorder

    def __getitem__(self, kind: str) -> pd.DataFrame:
        if kind not in KINDS:
            raise KeyError(kind)
        found = self._frames.get(kind)
        if found is None:
            found = self._recorder.frame(kind) if self._recorder is not None else pd.DataFrame()
            self._frames[kind] = found
            if self._recorder is not None and all(k in self._frames for k in KINDS):
                self._recorder = None  # every frame read: the spilled files can go
        return found

    @property
    def pending(self) -> tuple[str, ...]:
        """The kinds whose frame is not built yet."""
        if self._recorder is None:
            return ()
        return tuple(k for k in KINDS if k not in self._frames)

    def __getstate__(self) -> dict[str, Any]:
        return {"frames": {k: self[k] for k in KINDS}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._frames, self._recorder = dict(state["frames"]), None

    def __repr__(self) -> str:
        return f"RecordFrames(built={sorted(self._frames)}, pending={list(self.pending)})"
