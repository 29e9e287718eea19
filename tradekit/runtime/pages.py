"""Small pages for the batch buffers of a backtest.

numpy asks the kernel to back every large array with transparent huge pages
(``madvise(MADV_HUGEPAGE)``). Where the kernel then compacts memory synchronously on the first
touch of such a region (``/sys/kernel/mm/transparent_hugepage/defrag`` set to ``madvise``, a
common default) and free huge pages are scarce, writing a fresh buffer stalls: the batch
detectors write about 235 MB of event rows at 1M bars, which took 0.69 s on a first run on
the development machine against 0.18 s once the memory was mapped. :func:`small_pages` turns
numpy's advice off while a backtest runs (``run_backtest``: in an A/B of three runs each, a
1M-bar stock run took 3.5-3.65 s with it against 3.9-4.1 s without) and restores the
previous setting. The results are the same
either way; only the kernel's page size for the new arrays differs. Where numpy has no such
switch, it does nothing.

The setting is process-wide: nested or concurrent uses (threads) share it and the previous
value is restored when the last one ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from tradekit.runtime.shared_setting import SharedSetting

__all__ = ["small_pages"]


def _switch() -> Callable[[bool], bool] | None:
    for module in ("_core", "core"):  # numpy 2 / numpy 1
        multiarray = getattr(getattr(np, module, None), "multiarray", None)
        fn = getattr(multiarray, "_set_madvise_hugepage", None)
        if callable(fn):
            return fn
    return None


_SET_HUGEPAGE = _switch()


def _advice_off() -> bool:
    assert _SET_HUGEPAGE is not None
    return _SET_HUGEPAGE(False)


def _advice_back(saved: bool) -> None:
    assert _SET_HUGEPAGE is not None
    _SET_HUGEPAGE(saved)


_ADVICE = None if _SET_HUGEPAGE is None else SharedSetting(_advice_off, _advice_back)


@contextmanager
def small_pages() -> Iterator[None]:
    """Run the body with numpy's huge-page advice off (see the module docstring)."""
    if _ADVICE is None:
        yield
        return
    with _ADVICE.held():
        yield
