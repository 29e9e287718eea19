"""The store's schema: DDL as numbered migrations, and the ``schema_version`` table.

A migration is an ordered list of SQL statements with a number and a name. :func:`migrate`
applies, each in its own transaction, every migration whose number is above the database's
current version and records it in ``schema_version``; running it again is a no-op. A database
written by a *newer* tradekit (version above :data:`LATEST_VERSION`) is refused rather than
guessed at. Migrations are append-only: a released migration is never edited, a change is a new
number.

Conventions of every table
--------------------------
* Timestamps are ``TIMESTAMP_NS`` holding **UTC** (DuckDB's ns type has no zone; the store
  localises to UTC on read). Nanoseconds keep engine timestamps exact.
* Records of the engine are keyed by ``(run_id, id)``: ids are deterministic, so the same bars
  replayed in two backtests produce the same ids, and only the run tells them apart. The live /
  paper trader writes under :data:`LIVE_RUN_ID`.
* Flexible nested values (gate results, legs, payloads) are ``JSON``; a signal's ``levels``
  (name -> price) is a typed ``MAP(VARCHAR, DOUBLE)`` (``levels['top']`` in SQL; 4x cheaper to
  write than JSON); lists of scalars are native lists (``DOUBLE[]``, ``VARCHAR[]``).
* Range filters on ``ts`` use DuckDB's zone maps, which need no index. ART indexes are added only
  for point look-ups by a foreign id (fills of an order, decisions of a setup), because every ART
  index slows bulk inserts.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from tradekit.errors import StoreError

__all__ = ["LATEST_VERSION", "LIVE_RUN_ID", "MIGRATIONS", "Migration", "current_version", "migrate"]

#: ``run_id`` of everything the live / paper trader writes (backtests use their own run ids).
LIVE_RUN_ID = "live"


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: ``statements`` run in order, in one transaction."""

    version: int
    name: str
    statements: tuple[str, ...]


_SCHEMA_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_at TIMESTAMP_NS NOT NULL
)"""

_V1_TABLES: tuple[str, ...] = (
    """CREATE TABLE algorithm_configs (
        name VARCHAR NOT NULL,
        version VARCHAR NOT NULL,
        config_id VARCHAR NOT NULL,
        json JSON NOT NULL,
        created_at TIMESTAMP_NS NOT NULL,
        PRIMARY KEY (name, version)
    )""",
    """CREATE TABLE backtest_runs (
        run_id VARCHAR PRIMARY KEY,
        config_id VARCHAR,
        status VARCHAR NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
        params JSON,
        results JSON,
        error VARCHAR,
        created_at TIMESTAMP_NS NOT NULL,
        started_at TIMESTAMP_NS,
        finished_at TIMESTAMP_NS
    )""",
    """CREATE TABLE auto_signals (
        run_id VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        is_setup BOOLEAN NOT NULL,
        ts TIMESTAMP_NS NOT NULL,
        symbol VARCHAR NOT NULL,
        timeframe VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        "index" BIGINT NOT NULL,
        anchor_index BIGINT,
        direction TINYINT NOT NULL CHECK (direction IN (-1, 1)),
        entry DOUBLE,
        stop DOUBLE,
        target DOUBLE,
        tp1 DOUBLE,
        tp2 DOUBLE,
        tp3 DOUBLE,
        strength DOUBLE,
        confluence_score DOUBLE,
        confidence DOUBLE,
        confluence_count INTEGER,
        active_signals VARCHAR[],
        signal_ids VARCHAR[],
        htf_bias TINYINT,
        tag VARCHAR,
        levels MAP(VARCHAR, DOUBLE),
        config_hash VARCHAR,
        algorithm_version VARCHAR,
        PRIMARY KEY (run_id, id)
    )""",
    """CREATE TABLE auto_decisions (
        run_id VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        setup_id VARCHAR NOT NULL,
        ts TIMESTAMP_NS NOT NULL,
        symbol VARCHAR NOT NULL,
        action VARCHAR NOT NULL CHECK (action IN ('ENTER', 'SKIP', 'SHADOW')),
        block_reason VARCHAR,
        blocked_by VARCHAR,
        gates_passed INTEGER NOT NULL,
        direction TINYINT NOT NULL,
        quantity DOUBLE NOT NULL,
        entry DOUBLE,
        stop DOUBLE,
        targets DOUBLE[],
        mode VARCHAR,
        strategy VARCHAR,
        legs JSON,
        timeframe_class VARCHAR,
        risk_amount DOUBLE,
        expected_rr DOUBLE,
        score_breakdown JSON,
        gate_results JSON NOT NULL,
        algorithm_version VARCHAR,
        config_hash VARCHAR,
        processing_time_us DOUBLE,
        warnings VARCHAR[],
        PRIMARY KEY (run_id, id)
    )""",
    """CREATE TABLE orders (
        run_id VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        symbol VARCHAR NOT NULL,
        side TINYINT NOT NULL CHECK (side IN (-1, 1)),
        quantity DOUBLE NOT NULL CHECK (quantity > 0),
        order_type VARCHAR NOT NULL,
        first_ts TIMESTAMP_NS NOT NULL,
        ts TIMESTAMP_NS NOT NULL,
        status VARCHAR NOT NULL,
        tif VARCHAR NOT NULL,
        limit_price DOUBLE,
        stop_price DOUBLE,
        filled_qty DOUBLE NOT NULL,
        avg_fill_price DOUBLE,
        multiplier DOUBLE NOT NULL,
        legs JSON,
        decision_id VARCHAR,
        tag VARCHAR,
        reason VARCHAR,
        PRIMARY KEY (run_id, id)
    )""",
    """CREATE TABLE fills (
        run_id VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        order_id VARCHAR NOT NULL,
        symbol VARCHAR NOT NULL,
        side TINYINT NOT NULL CHECK (side IN (-1, 1)),
        quantity DOUBLE NOT NULL CHECK (quantity > 0),
        price DOUBLE NOT NULL,
        ts TIMESTAMP_NS NOT NULL,
        commission DOUBLE NOT NULL,
        slippage DOUBLE NOT NULL,
        multiplier DOUBLE NOT NULL,
        leg_index INTEGER NOT NULL,
        decision_id VARCHAR,
        PRIMARY KEY (run_id, id)
    )""",
    """CREATE TABLE trades (
        run_id VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        symbol VARCHAR NOT NULL,
        underlying VARCHAR,
        direction TINYINT NOT NULL CHECK (direction IN (-1, 1)),
        quantity DOUBLE NOT NULL CHECK (quantity > 0),
        entry_ts TIMESTAMP_NS NOT NULL,
        entry_price DOUBLE NOT NULL,
        exit_ts TIMESTAMP_NS NOT NULL,
        exit_price DOUBLE NOT NULL,
        multiplier DOUBLE NOT NULL,
        pnl DOUBLE NOT NULL,
        gross_pnl DOUBLE,
        commission DOUBLE NOT NULL,
        slippage DOUBLE NOT NULL,
        r_multiple DOUBLE,
        initial_stop DOUBLE,
        initial_risk DOUBLE,
        mae DOUBLE,
        mfe DOUBLE,
        decision_id VARCHAR,
        strategy VARCHAR,
        exit_reason VARCHAR,
        PRIMARY KEY (run_id, id),
        CHECK (exit_ts >= entry_ts)
    )""",
    """CREATE TABLE position_snapshots (
        run_id VARCHAR NOT NULL,
        ts TIMESTAMP_NS NOT NULL,
        symbol VARCHAR NOT NULL,
        quantity DOUBLE NOT NULL,
        avg_price DOUBLE,
        market_price DOUBLE,
        multiplier DOUBLE NOT NULL,
        unrealized DOUBLE NOT NULL,
        realized DOUBLE NOT NULL,
        delta DOUBLE,
        gamma DOUBLE,
        theta DOUBLE,
        vega DOUBLE,
        stop DOUBLE,
        targets DOUBLE[],
        PRIMARY KEY (run_id, ts, symbol)
    )""",
    """CREATE TABLE daily_performance (
        run_id VARCHAR NOT NULL,
        date DATE NOT NULL,
        start_equity DOUBLE NOT NULL,
        end_equity DOUBLE NOT NULL,
        pnl DOUBLE NOT NULL,
        "return" DOUBLE NOT NULL,
        trades INTEGER NOT NULL,
        wins INTEGER NOT NULL,
        losses INTEGER NOT NULL,
        commission DOUBLE NOT NULL,
        max_drawdown DOUBLE NOT NULL,
        drawdown DOUBLE NOT NULL,
        exposure DOUBLE NOT NULL,
        PRIMARY KEY (run_id, date)
    )""",
    """CREATE TABLE alerts (
        run_id VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        ts TIMESTAMP_NS NOT NULL,
        level VARCHAR NOT NULL CHECK (level IN ('INFO', 'WARNING', 'CRITICAL')),
        source VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        data JSON,
        acknowledged BOOLEAN NOT NULL DEFAULT false,
        acknowledged_at TIMESTAMP_NS,
        PRIMARY KEY (run_id, id)
    )""",
    """CREATE TABLE auto_trade_state (
        run_id VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        value JSON,
        reason VARCHAR,
        updated_at TIMESTAMP_NS NOT NULL,
        PRIMARY KEY (run_id, key)
    )""",
    """CREATE TABLE event_calendar (
        id VARCHAR PRIMARY KEY,
        date DATE NOT NULL,
        kind VARCHAR NOT NULL CHECK (kind IN ('earnings', 'FOMC', 'CPI', 'NFP', 'OPEX', 'other')),
        symbol VARCHAR,
        description VARCHAR NOT NULL,
        created_at TIMESTAMP_NS NOT NULL
    )""",
    """CREATE TABLE events (
        seq BIGINT PRIMARY KEY,
        ts TIMESTAMP_NS NOT NULL,
        recorded_at TIMESTAMP_NS NOT NULL,
        topic VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        payload JSON NOT NULL,
        run_id VARCHAR NOT NULL
    )""",
)

_V2_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS idx_fills_order ON fills (order_id)",
    "CREATE INDEX IF NOT EXISTS idx_decisions_setup ON auto_decisions (setup_id)",
    "CREATE INDEX IF NOT EXISTS idx_orders_decision ON orders (decision_id)",
    "CREATE INDEX IF NOT EXISTS idx_configs_id ON algorithm_configs (config_id)",
    "CREATE INDEX IF NOT EXISTS idx_calendar_date ON event_calendar (date)",
)

#: The auto-trader: crash-recovery checkpoints (one per run, the latest; written in the
#: transaction of that bar's records) and live runs beside backtests in ``backtest_runs``.
_V4_AUTOTRADER: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS auto_checkpoints (
        run_id VARCHAR PRIMARY KEY,
        bar_ts TIMESTAMP_NS NOT NULL,
        bars_seen BIGINT NOT NULL,
        format INTEGER NOT NULL,
        config_id VARCHAR NOT NULL,
        state BLOB NOT NULL,
        digest JSON NOT NULL,
        updated_at TIMESTAMP_NS NOT NULL
    )""",
    "ALTER TABLE backtest_runs ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'backtest'",
    "ALTER TABLE backtest_runs ADD COLUMN IF NOT EXISTS data_label VARCHAR",
    "ALTER TABLE daily_performance ADD COLUMN IF NOT EXISTS high_water_mark DOUBLE",
    "ALTER TABLE daily_performance ADD COLUMN IF NOT EXISTS win_rate DOUBLE",
)

#: Every migration, in order. Append new ones; never edit a released one.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tables", _V1_TABLES),
    Migration(2, "lookup indexes", _V2_INDEXES),
    Migration(4, "auto-trader checkpoints and live runs", _V4_AUTOTRADER),
)

LATEST_VERSION: int = MIGRATIONS[-1].version


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration number, 0 for an empty database.

    Parameters
    ----------
    con:
        An open DuckDB connection.
    """
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()
    if not exists or exists[0][0] == 0:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
    return int(row[0][0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, now_ns: int, *, target: int | None = None) -> int:
    """Bring the schema up to ``target`` (default: :data:`LATEST_VERSION`); idempotent.

    Each migration runs in its own transaction together with its ``schema_version`` row, so a
    failing migration leaves the database at the previous version, never half-way.

    Parameters
    ----------
    con:
        A writable DuckDB connection that is not inside a transaction.
    now_ns:
        UTC nanoseconds recorded as ``applied_at`` (from the store's clock).
    target:
        Stop after this version; used to build older databases in tests.

    Returns
    -------
    int
        The schema version after migrating.

    Raises
    ------
    StoreError
        The database is newer than this code, ``target`` is unknown, or a statement failed.
    """
    goal = LATEST_VERSION if target is None else target
    if goal < 0 or goal > LATEST_VERSION:
        raise StoreError(f"unknown schema version {goal}; this tradekit knows 0..{LATEST_VERSION}")
    con.execute(_SCHEMA_VERSION_DDL)
    have = current_version(con)
    if have > LATEST_VERSION:
        raise StoreError(
            f"database schema version {have} is newer than this tradekit's ({LATEST_VERSION}); "
            "upgrade tradekit to open it"
        )
    for mig in MIGRATIONS:
        if have < mig.version <= goal:
            _apply(con, mig, now_ns)
            have = mig.version
    return have


def _apply(con: duckdb.DuckDBPyConnection, mig: Migration, now_ns: int) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        for stmt in mig.statements:
            con.execute(stmt)
        con.execute(
            "INSERT INTO schema_version VALUES (?, ?, make_timestamp_ns(?))",
            [mig.version, mig.name, now_ns],
        )
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise StoreError(f"migration {mig.version} ({mig.name}) failed: {exc}") from exc
