"""Record a backtest in the DuckDB store, so the UI, the API and analytics can read it back.

``tradekit.backtest(..., store=store)`` uses :func:`record_backtest`: the run is registered in
``backtest_runs`` (config id, parameters, status ``running``), every record the engine
publishes is written under the run id by a
:class:`~tradekit.store.journal.StoreSubscriber`, and at the end the equity marks go to
``equity_curve`` and the run's ``results`` are its performance figures (status ``done``). A
run that raises is marked ``failed`` with the error, and the error propagates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.store.journal import StoreSubscriber

if TYPE_CHECKING:
    from tradekit.runtime.backtest import BacktestResult
    from tradekit.store.repository import Store

__all__ = ["BacktestRecording", "free_run_id", "record_backtest"]


def free_run_id(store: Store, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... : the first id with no run in the store."""
    taken = set(store.query("SELECT run_id FROM backtest_runs")["run_id"])
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


class BacktestRecording:
    """The open recording of one run; :meth:`finish` completes it with the result."""

    def __init__(self, store: Store, subscriber: StoreSubscriber, run_id: str) -> None:
        self.store, self.run_id, self._sub = store, run_id, subscriber

    def finish(self, result: BacktestResult) -> None:
        from tradekit.analytics.metrics import stats_to_json

        self._sub.close()
        self.store.write_equity(result.equity, run_id=self.run_id)
        summary = {k: v for k, v in result.summary.items() if k not in ("initial_equity",)}
        self.store.finish_backtest_run(
            self.run_id, {"stats": stats_to_json(result.stats), "summary": summary}
        )


@contextmanager
def record_backtest(
    store: Store,
    bus: EventBus,
    config: AlgorithmConfig,
    run_id: str,
    params: Mapping[str, Any],
) -> Iterator[BacktestRecording]:
    """Register ``run_id`` and write what ``bus`` carries into ``store`` until ``finish``."""
    config_id = store.save_config(config)
    rid = store.start_backtest_run(config_id, params, run_id=run_id)
    # a replay is not a live account: nothing needs writing before the next bar, so every
    # record waits for a large batch (a synchronous write per fill costs ~30 ms each)
    sub = StoreSubscriber(
        store, bus, run_id=rid, batch_size=50_000, flush_interval_s=None, sync_topics=(),
        journal=False, config_hash=config.content_hash, algorithm_version=config.version,
    )  # fmt: skip
    rec = BacktestRecording(store, sub, rid)
    try:
        yield rec
    except BaseException as exc:
        sub.close()
        store.fail_backtest_run(rid, exc if isinstance(exc, Exception) else repr(exc))
        raise
