"""Records a replay writes to the DuckDB store, so the UI, the API and analytics read it back.

* :func:`record_backtest` (what ``tradekit.backtest(..., store=store)`` and ``tradekit
  backtest`` use) registers the run in ``backtest_runs`` (config id, data label, parameters,
  status ``running``) before the first bar; a
  :class:`~tradekit.store.journal.StoreSubscriber` writes every record the engine publishes
  under the run id; :meth:`BacktestRecording.finish` writes the equity marks to
  ``equity_curve``, the event calendar the decisions were checked against, and the run's
  ``results`` (the summary with its performance ``stats``; status ``done``). A run that raises
  is marked ``failed`` with the error, and the error propagates.
* :func:`record_event_calendar` fills ``event_calendar`` with the events the decision engine's
  gate 8 knows for the replayed span (computed monthly OPEX and any user events).

Examples
--------
>>> from tradekit import backtest
>>> from tradekit.data.datasets import load
>>> from tradekit.store import Store
>>> with Store.open(":memory:") as store:
...     res = backtest(load("aapl").iloc[:300], store=store, data_label="aapl")
...     row = store.query("SELECT status, data_label FROM backtest_runs").iloc[0]
>>> row["status"], row["data_label"]
('done', 'aapl')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.decision.event_calendar import EventCalendar
from tradekit.store.journal import StoreSubscriber
from tradekit.store.records import CalendarEvent

if TYPE_CHECKING:
    from tradekit.runtime.backtest import BacktestResult
    from tradekit.store.repository import Store

__all__ = [
    "BacktestRecording",
    "calendar_rows",
    "free_run_id",
    "record_backtest",
    "record_event_calendar",
]

#: Days after the replay's end the calendar also covers (an option bought on the last day
#: may be held to an expiry about this far out; gate 8 looks at the holding period).
CALENDAR_HORIZON_DAYS = 45
_KIND = {"EARNINGS": "earnings", "OTHER": "other"}


def calendar_rows(
    engine: Any, symbols: tuple[str, ...], start: dt.date, end: dt.date
) -> list[CalendarEvent]:
    """The events the engine's decision engine knows between ``start`` and ``end`` +
    :data:`CALENDAR_HORIZON_DAYS`, for each of ``symbols``, as ``event_calendar`` rows."""
    events = getattr(engine.decider, "events", None)
    if not isinstance(events, EventCalendar):  # the stock engine has no gate 8: OPEX anyway
        events = EventCalendar(is_session=engine.calendar.is_session)
    last = end + dt.timedelta(days=CALENDAR_HORIZON_DAYS)
    rows: dict[str, CalendarEvent] = {}
    for symbol in symbols:
        for ev in events.events_between(symbol, start, last):
            row = CalendarEvent(ev.date, _KIND.get(ev.kind, ev.kind), ev.description or ev.kind,
                                ev.symbol)  # fmt: skip
            rows[row.id] = row
    return list(rows.values())


def _dates(data: pd.DataFrame | Mapping[str, pd.DataFrame]) -> tuple[dt.date, dt.date]:
    frames = [data] if isinstance(data, pd.DataFrame) else list(data.values())
    idx = [f.index for f in frames if len(f)]
    if not idx:
        today = dt.datetime.now(dt.UTC).date()
        return today, today
    first = min(i[0] for i in idx).tz_convert("America/New_York").date()
    last = max(i[-1] for i in idx).tz_convert("America/New_York").date()
    return first, last


def record_event_calendar(
    store: Store, engine: Any, data: pd.DataFrame | Mapping[str, pd.DataFrame]
) -> int:
    """Write the calendar events of the span of ``data`` (see :func:`calendar_rows`)."""
    start, end = _dates(data)
    return store.write_calendar(calendar_rows(engine, tuple(engine.config.symbols), start, end))


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

    def finish(
        self, result: BacktestResult, data: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None
    ) -> None:
        """Flush the records, write the equity marks, the event calendar of ``data``'s span
        (needs ``result.engine``) and the results; the run becomes ``done``."""
        from tradekit.analytics.metrics import stats_to_json

        self._sub.close()
        self.store.write_equity(result.equity, run_id=self.run_id)
        if data is not None and result.engine is not None:
            record_event_calendar(self.store, result.engine, data)
        summary = {k: v for k, v in result.summary.items() if k != "initial_equity"}
        self.store.finish_backtest_run(
            self.run_id, {**summary, "stats": stats_to_json(result.stats)}
        )


@contextmanager
def record_backtest(
    store: Store,
    bus: EventBus,
    config: AlgorithmConfig,
    run_id: str,
    params: Mapping[str, Any],
    *,
    data_label: str | None = None,
) -> Iterator[BacktestRecording]:
    """Register ``run_id`` and write what ``bus`` carries into ``store`` until ``finish``."""
    config_id = store.save_config(config)
    rid = store.start_backtest_run(config_id, params, run_id=run_id, data_label=data_label)
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
