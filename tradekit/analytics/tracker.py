"""``EquityTracker``: the equity marks of a running engine, for live performance analytics.

A backtest keeps its equity curve on the result; the live paper account has none. The tracker
subscribes to the engine's ``bars.*`` topic. A bar is published first thing in
``Engine.on_bar``, before any fill or mark of that bar, so at that moment the ledger's equity is
the account as of the *previous* bar's close: the tracker records it under that close time.
:meth:`flush` also records the last bar's close and writes the buffered marks to the store's
``equity_curve`` table (``store.write_equity``), from where
``RunData.from_store(store, "live")`` and :func:`~tradekit.analytics.store_analytics` read
them, so the paper account is measured by exactly the backtest's definitions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tradekit.store.schema import LIVE_RUN_ID

if TYPE_CHECKING:
    from tradekit.runtime.kernel import Engine
    from tradekit.store.repository import Store

__all__ = ["EquityTracker"]


class EquityTracker:
    """Record ``engine.ledger.equity`` once per bar close (see the module docstring).

    Parameters
    ----------
    engine:
        The running engine (backtest or live).
    store:
        Where :meth:`flush` writes the marks; None keeps them in memory only.
    run_id:
        Run the marks belong to (:data:`~tradekit.store.schema.LIVE_RUN_ID` by default).
    batch:
        Write to the store every this many marks (and on :meth:`flush` / :meth:`close`).
    """

    def __init__(
        self,
        engine: Engine,
        store: Store | None = None,
        *,
        run_id: str = LIVE_RUN_ID,
        batch: int = 390,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self._engine, self._store, self.run_id, self._batch = engine, store, run_id, batch
        self._ts: list[int] = []
        self._eq: list[float] = []
        self._pending = 0
        self._last_close: int | None = None
        self._sub = engine.bus.subscribe("bars.*", self._on_bar, priority=200)

    def _on_bar(self, topic: str, bar: Any) -> None:
        if self._last_close is not None and (not self._ts or self._ts[-1] < self._last_close):
            self._mark(self._last_close)
        self._last_close = int(bar.close_ts_ns)
        if self._store is not None and self._pending >= self._batch:
            self._write()

    def _mark(self, ts_ns: int) -> None:
        self._ts.append(ts_ns)
        self._eq.append(float(self._engine.ledger.equity))
        self._pending += 1

    def _write(self) -> None:
        if self._store is None or not self._pending:
            return
        n = self._pending
        self._store.write_equity(self._series(len(self._ts) - n), run_id=self.run_id)
        self._pending = 0

    def _series(self, start: int = 0) -> pd.Series:
        idx = pd.to_datetime(np.asarray(self._ts[start:], np.int64), unit="ns", utc=True)
        return pd.Series(self._eq[start:], index=idx, name="equity", dtype=np.float64)

    @property
    def equity(self) -> pd.Series:
        """The marks so far (the last bar's is added by :meth:`flush`)."""
        return self._series()

    def flush(self) -> None:
        """Mark the last processed bar's close (once its processing is over) and write."""
        if self._last_close is not None and (not self._ts or self._ts[-1] < self._last_close):
            self._mark(self._last_close)
        self._write()

    def close(self) -> None:
        """Flush and unsubscribe (idempotent)."""
        self.flush()
        self._engine.bus.unsubscribe(self._sub)
