"""The collector thresholds of a replay: raised inside, restored after, shared when nested."""

from __future__ import annotations

import gc
import threading

import pytest

from tradekit.runtime.gcpolicy import REPLAY_THRESHOLDS, replay_gc


@pytest.fixture(autouse=True)
def _default_thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_inside_and_restored_after() -> None:
    with replay_gc():
        assert gc.get_threshold() == REPLAY_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError), replay_gc():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_nested_and_concurrent_replays_restore_once_the_last_ends() -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with replay_gc():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    with replay_gc():
        t.start()
        assert inside.wait(5)
        with replay_gc():
            assert gc.get_threshold() == REPLAY_THRESHOLDS
    assert gc.get_threshold() == REPLAY_THRESHOLDS  # the thread's replay still runs
    release.set()
    t.join(5)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_callers_higher_or_disabled_thresholds_are_kept() -> None:
    gc.set_threshold(100_000, 5, 500)
    with replay_gc():
        assert gc.get_threshold() == (100_000, 50, 500)
    gc.set_threshold(0, 10, 10)
    with replay_gc():
        assert gc.get_threshold() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)
