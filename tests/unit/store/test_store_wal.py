"""The fill journal file: one line per fill, a torn last line cut off, emptied after a commit,
removed when closed empty, reopened by a later append."""

from __future__ import annotations

from pathlib import Path

from tradekit.store.wal import FillJournal, fill_line


def test_lines_are_canonical_and_read_back_per_run(tmp_path: Path) -> None:
    j = FillJournal(tmp_path / "j.wal")
    j.append("a", 10, {"id": "f1", "price": 1.25, "side": 1})
    j.append("b", 20, {"side": -1, "price": 2.5, "id": "f2"})
    assert [e.fill_id for e in j.entries("a")] == ["f1"]
    assert [(e.run_id, e.bar_ns) for e in j.entries()] == [("a", 10), ("b", 20)]
    # the same fill gives the same line whatever the key order
    assert j.entries("b")[0].line == fill_line("b", 20, {"id": "f2", "price": 2.5, "side": -1})
    assert (tmp_path / "j.wal").stat().st_mode & 0o777 == 0o600
    j.close()


def test_a_torn_last_line_is_ignored_and_cut_off_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "j.wal"
    j = FillJournal(path)
    j.append("a", 10, {"id": "f1"})
    j.close()
    with path.open("ab") as f:
        f.write(b'{"bar":20,"fill":{"id":"f2"')  # a write cut by a crash
    j2 = FillJournal(path)
    assert [e.fill_id for e in j2.entries()] == ["f1"]
    j2.append("a", 30, {"id": "f3"})
    assert [e.fill_id for e in j2.entries()] == ["f1", "f3"]
    assert path.read_bytes().count(b"\n") == 2
    j2.close()


def test_clear_empties_close_removes_an_empty_journal_and_append_reopens(tmp_path: Path) -> None:
    path = tmp_path / "j.wal"
    j = FillJournal(path, fsync=True)
    j.append("a", 10, {"id": "f1"})
    j.close()
    assert path.exists()  # content stays for the next start to reconcile
    j = FillJournal(path)
    j.clear()
    assert j.entries() == []
    j.close()
    assert not path.exists()
    j.append("a", 20, {"id": "f2"})  # a stopped trader that starts again
    assert [e.fill_id for e in j.entries()] == ["f2"]
    j.close()


def test_an_in_memory_database_has_no_journal() -> None:
    assert FillJournal.beside(":memory:", "run") is None
