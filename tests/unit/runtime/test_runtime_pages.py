"""small_pages: numpy's huge-page advice is off inside, restored after (nested, on error;
concurrent uses share it like the collector thresholds, tests/unit/runtime/test_runtime_gcpolicy.py)."""

from __future__ import annotations

import pytest

from tradekit.runtime import pages
from tradekit.runtime.pages import small_pages

pytestmark = pytest.mark.skipif(pages._SET_HUGEPAGE is None, reason="numpy has no switch")


def _advice() -> bool:
    fn = pages._SET_HUGEPAGE
    assert fn is not None
    now = fn(True)
    fn(now)
    return now


@pytest.mark.parametrize("before", [True, False])
def test_the_advice_is_off_inside_and_restored_after(before: bool) -> None:
    assert pages._SET_HUGEPAGE is not None
    saved = pages._SET_HUGEPAGE(before)
    try:
        with small_pages():
            assert _advice() is False
            with small_pages():
                assert _advice() is False
            assert _advice() is False  # the outer use still runs
        assert _advice() is before
        with pytest.raises(RuntimeError), small_pages():
            raise RuntimeError("boom")
        assert _advice() is before
    finally:
        pages._SET_HUGEPAGE(saved)
