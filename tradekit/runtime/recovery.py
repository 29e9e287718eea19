"""Restart of a run from its checkpoint, the reconciliation with the store, config hand-over.

:func:`restore_run` rebuilds the engine of an interrupted run from its latest checkpoint (with
the configuration that was active then, which a hot change may have made another version).
:func:`reconcile` then checks the restored engine against what the database says happened: the
checkpoint's own digest, the number of fills stored for the run and the net quantity per
symbol those fills add up to. Any difference is a :class:`~tradekit.errors.RecoveryError`
naming it — the trader then starts HALTED instead of trading on a state it cannot trust.

:func:`transplant` hands the account (ledger, broker, risk memory, decision memory and — when
the signal parameters are unchanged — the detectors) from one engine to a new one built with
another configuration: the hot configuration change of the auto-trader.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tradekit.config import AlgorithmConfig
from tradekit.errors import RecoveryError, StoreError
from tradekit.runtime.checkpoint import (
    CHECKPOINT_FORMAT,
    engine_digest,
    engine_state,
    restore_engine,
)
from tradekit.runtime.kernel import Engine
from tradekit.store import Checkpoint, Store

__all__ = ["RISK_MEMORY", "reconcile", "restore_run", "transplant"]

#: Risk-engine attributes that are trading memory (not limits derived from the config).
RISK_MEMORY = (
    "_state", "_reason", "_prices", "_seen", "_seen_order", "_recent", "_trades",
    "_last_open", "_reducing_day",
)  # fmt: skip

_TOLERANCE = 1e-6


def restore_run(
    engine: Engine, cp: Checkpoint, store: Store, build: Callable[[AlgorithmConfig], Engine]
) -> Engine:
    """The engine of the checkpoint: ``engine`` restored, or one built with the checkpoint's
    configuration when a hot change had made another version active.

    Raises
    ------
    RecoveryError
        Unknown checkpoint format, unknown configuration, or a blob that does not load.
    """
    if cp.format != CHECKPOINT_FORMAT:
        raise RecoveryError(
            f"checkpoint format {cp.format} (this tradekit writes {CHECKPOINT_FORMAT})"
        )
    if cp.config_id != engine.config.content_hash:
        try:
            engine = build(store.load_config(cp.config_id))
        except StoreError as exc:
            raise RecoveryError(
                f"checkpoint config {cp.config_id} is not in the store: {exc}"
            ) from exc
    restore_engine(engine, cp.state)
    return engine


def reconcile(engine: Engine, cp: Checkpoint, store: Store, run_id: str) -> None:
    """Check a restored engine against its checkpoint digest and the run's stored fills.

    Raises
    ------
    RecoveryError
        Naming the first difference found.
    """
    got = engine_digest(engine)
    want = cp.digest
    for key in ("fills", "orders", "closed_trades"):
        if got[key] != want.get(key):
            raise RecoveryError(f"restored {key} {got[key]} != checkpoint {want.get(key)}")
    if not math.isclose(got["cash"], float(want.get("cash", math.nan)), abs_tol=_TOLERANCE):
        raise RecoveryError(f"restored cash {got['cash']} != checkpoint {want.get('cash')}")
    rows = store.query("SELECT count(*) AS n FROM fills WHERE run_id = ?", [run_id])
    stored = int(rows["n"].iloc[0])
    if stored != got["fills"]:
        raise RecoveryError(
            f"the store holds {stored} fills of run {run_id}, the checkpoint {got['fills']}: "
            "the database and the checkpoint disagree"
        )
    net = store.query(
        "SELECT symbol, sum(side * quantity) AS qty FROM fills WHERE run_id = ? GROUP BY symbol",
        [run_id],
    )
    held = {s: q for s, q in zip(net["symbol"], net["qty"], strict=True) if abs(q) > _TOLERANCE}
    if set(held) != set(got["positions"]) or any(
        abs(held[s] - got["positions"][s]) > _TOLERANCE for s in held
    ):
        raise RecoveryError(
            f"stored fills net to {held}, the restored ledger holds {got['positions']}"
        )


def transplant(old: Engine, new: Engine) -> None:
    """Move ``old``'s account and memories into ``new`` (built with the next configuration)."""
    same_signals = (
        old.config.signals == new.config.signals
        and old.config.confluence == new.config.confluence
        and old.config.timeframe == new.config.timeframe
    )
    restore_engine(new, engine_state(old), risk_keys=RISK_MEMORY, pipelines=same_signals)
