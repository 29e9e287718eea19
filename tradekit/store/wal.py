"""The fill journal: every fill on disk the moment it is booked, ahead of the DuckDB commit.

The auto-trader commits a bar's records, its fills among them, together with a checkpoint of
the engine in one DuckDB transaction (:mod:`tradekit.runtime.autotrader`) — some tens of
milliseconds, run right after the bar. The fill itself is on disk sooner: :class:`FillJournal`
appends it as one JSON line to a file beside the database (``<db>.<run id>.fills.wal``, mode
0600; removed when the run closes with nothing in it) in a single ``write`` while the fill is being published, before the WebSocket or any viewer hears
of it. Once ``write`` returns, the bytes belong to the operating system and survive the
process being killed; with ``fsync=True`` they also survive a power cut (each fill then waits
for the disk).

After the commit the journal is emptied. A crash between the two leaves the fills of the bars
after the last checkpoint in the journal; a restart restores that checkpoint and re-feeds those
bars, and the auto-trader checks that every journaled fill comes back identical (same id,
price, quantity...). A fill that does not come back, or differs, means the run is not what was
reported before the crash: the trader halts with an alert naming the fill.

A crash in the middle of a ``write`` can leave a last line without its newline: it was never
acknowledged to anyone; opening the journal cuts it off, and :meth:`FillJournal.entries`
ignores it.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "db.duckdb.run-1.fills.wal")
>>> j = FillJournal(path)
>>> j.append("run-1", 60, {"id": "fill-1", "price": 10.5})
>>> [(e.run_id, e.bar_ns, e.fill_id) for e in j.entries("run-1")]
[('run-1', 60, 'fill-1')]
>>> j.clear(); j.entries("run-1")
[]
>>> j.close(); os.path.exists(path)
False
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FillJournal", "JournalEntry", "fill_line"]

SUFFIX = ".fills.wal"


def fill_line(run_id: str, bar_ns: int, payload: dict[str, Any]) -> str:
    """The journal line of one fill (canonical JSON: sorted keys, no spaces), without newline.

    The same fill always gives the same line, so a re-fed fill is compared by its line."""
    return json.dumps({"bar": int(bar_ns), "fill": payload, "run": run_id},
                      sort_keys=True, separators=(",", ":"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journaled fill: its run, the close (int ns UTC) of the bar that booked it, its id
    and its canonical line."""

    run_id: str
    bar_ns: int
    fill_id: str
    line: str


class FillJournal:
    """Append-only fill journal file (see the module docstring).

    Parameters
    ----------
    path:
        The journal file; created (0600) when missing, appended to otherwise.
    fsync:
        Flush each fill to the disk before :meth:`append` returns (survives a power cut; each
        fill then costs a disk flush). False: survives the process, not the machine.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._fd: int | None = None
        self._empty = True
        self._open()

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            self._cut_torn_tail()
            self._empty = os.fstat(self._fd).st_size == 0
        return self._fd

    def _cut_torn_tail(self) -> None:
        """Drop an unterminated last line (a write cut by a crash), so the next line starts on
        a line of its own."""
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        if size == 0 or os.pread(self._fd, 1, size - 1) == b"\n":
            return
        data = os.pread(self._fd, size, 0)
        os.ftruncate(self._fd, data.rfind(b"\n") + 1)

    @classmethod
    def beside(cls, database: str, run_id: str, *, fsync: bool = False) -> FillJournal | None:
        """The journal of run ``run_id`` in the DuckDB file ``database`` (None for an in-memory
        database: nothing of it survives the process anyway)."""
        if not database or database == ":memory:":
            return None
        return cls(f"{database}.{run_id}{SUFFIX}", fsync=fsync)

    def append(self, run_id: str, bar_ns: int, payload: dict[str, Any]) -> None:
        """Write one fill (its JSON-ready dict) in a single ``write``; raises ``OSError`` when
        the disk refuses it."""
        self.write_line(fill_line(run_id, bar_ns, payload))

    def write_line(self, line: str) -> None:
        """Append a line made by :func:`fill_line` (reopening a closed journal)."""
        fd = self._fd if self._fd is not None else self._open()
        data = (line + "\n").encode()
        written = os.write(fd, data)
        if written != len(data):  # a short write to a regular file: the disk is full
            raise OSError(f"fill journal {self.path}: wrote {written} of {len(data)} bytes")
        if self.fsync:
            os.fsync(fd)
        self._empty = False

    def entries(self, run_id: str | None = None) -> list[JournalEntry]:
        """The complete lines of the journal (of ``run_id``, or all), in the order written; a
        torn last line or a line that does not parse is skipped (never acknowledged)."""
        try:
            text = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        out: list[JournalEntry] = []
        for raw in text.split("\n")[:-1]:  # the piece after the last newline is torn
            try:
                obj = json.loads(raw)
                entry = JournalEntry(str(obj["run"]), int(obj["bar"]), str(obj["fill"]["id"]), raw)
            except (ValueError, KeyError, TypeError):
                continue
            if run_id is None or entry.run_id == run_id:
                out.append(entry)
        return out

    def clear(self) -> None:
        """Empty the journal (everything in it is committed to the database)."""
        if self._fd is not None and not self._empty:
            os.ftruncate(self._fd, 0)
            if self.fsync:
                os.fsync(self._fd)
            self._empty = True

    def close(self) -> None:
        """Close the file; an empty journal is removed, one with content stays for the next
        start to reconcile. A later :meth:`append` opens it again."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            if self._empty:
                self.path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"FillJournal({str(self.path)!r}, fsync={self.fsync})"
