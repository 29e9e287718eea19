"""Engine checkpoints: the exact state of a running :class:`~tradekit.runtime.kernel.Engine`.

Crash recovery needs the engine back *exactly* as it was after a bar — the ledger (cash,
positions, closed trades), the paper broker (working orders, exit plans, its random generator),
the risk engine (duplicate guard, throttle, trades today), the detectors and the decision
memory — so that re-feeding the bars after the checkpoint produces the very same orders and
fills, with the same deterministic ids, as an uninterrupted run.

The pipelines and the decider have their own ``state_dict`` / ``load_state_dict``. The ledger,
broker, risk engine and kill switch are captured by their instance attributes, pickled with
*persistent ids* for everything a checkpoint must not contain and a restore must not replace:
the engine itself, its components, the bus, clock, calendar, configuration, market data and
quote sources. :func:`restore_engine` then updates a freshly built engine's components in
place, so every cross-reference (the risk engine's account is the ledger, the kill switch's
canceller is the broker, ...) stays valid.

A checkpoint is read only from the run's own database and is trusted like the database file
itself; a blob that does not load, or whose format or configuration differs, is reported as
:class:`~tradekit.errors.RecoveryError` and the trader starts HALTED.
"""

from __future__ import annotations

import io
import pickle
import zlib
from collections.abc import Collection
from typing import Any

from tradekit.errors import RecoveryError
from tradekit.risk.engine import STATE_KEY
from tradekit.runtime.kernel import Engine

__all__ = ["CHECKPOINT_FORMAT", "engine_digest", "engine_state", "restore_engine"]

#: Version of the checkpoint layout; a checkpoint of another format is not restored.
CHECKPOINT_FORMAT = 1

_COMPONENTS = ("ledger", "broker", "risk", "killswitch")


def _environment(engine: Engine) -> dict[str, Any]:
    """The objects a checkpoint refers to by name instead of containing them."""
    env: dict[str, Any] = {
        "engine": engine,
        "bus": engine.bus,
        "clock": engine.clock,
        "calendar": engine.calendar,
        "config": engine.config,
        "decider": engine.decider,
        "state_store": engine.risk.store,
        "market": getattr(engine.decider, "market", None),
        "options_pricer": getattr(engine.broker, "_options", None),
    }
    env.update({name: getattr(engine, name) for name in _COMPONENTS})
    return {name: obj for name, obj in env.items() if obj is not None}


class _Pickler(pickle.Pickler):
    def __init__(self, buf: io.BytesIO, env: dict[int, str]) -> None:
        super().__init__(buf, protocol=pickle.HIGHEST_PROTOCOL)
        self._env = env

    def persistent_id(self, obj: Any) -> str | None:
        return self._env.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, buf: io.BytesIO, objects: dict[str, Any]) -> None:
        super().__init__(buf)
        self._objects = objects

    def persistent_load(self, pid: Any) -> Any:
        try:
            return self._objects[pid]
        except KeyError:
            raise pickle.UnpicklingError(f"checkpoint refers to unknown object {pid!r}") from None


def engine_state(engine: Engine) -> bytes:
    """Serialise ``engine``'s mutable state (zlib-compressed pickle, some tens of kB)."""
    env = {id(obj): name for name, obj in _environment(engine).items()}
    state = {
        "components": {name: dict(vars(getattr(engine, name))) for name in _COMPONENTS},
        "pipelines": {s: (p.timeframe, p.state_dict()) for s, p in engine._pipelines.items()},
        "decider": engine.decider.state_dict(),
        "counts": dict(engine.counts),
    }
    buf = io.BytesIO()
    _Pickler(buf, env).dump(state)
    return zlib.compress(buf.getvalue(), 1)


def restore_engine(
    engine: Engine,
    blob: bytes,
    *,
    risk_keys: Collection[str] | None = None,
    pipelines: bool = True,
) -> None:
    """Load :func:`engine_state` output into a freshly built engine of the same config.

    ``risk_keys`` limits what is restored of the risk engine to those attributes (its trading
    memory, when the new engine has other limits); ``pipelines=False`` keeps the new engine's
    empty detectors (their parameters changed). Both serve a hot configuration change.

    The trading state is then reconciled with the engine's state store: a HALTED persisted
    after the checkpoint still holds, and so does a reset made after it.

    Raises
    ------
    RecoveryError
        The blob is corrupt or does not belong to an engine of this shape.
    """
    try:
        state = _Unpickler(io.BytesIO(zlib.decompress(blob)), _environment(engine)).load()
        for name in _COMPONENTS:
            values = state["components"][name]
            if name == "risk" and risk_keys is not None:
                values = {k: v for k, v in values.items() if k in risk_keys}
            vars(getattr(engine, name)).update(values)
        engine._pipelines.clear()
        for symbol, (timeframe, pstate) in state["pipelines"].items() if pipelines else ():
            engine.pipeline(symbol, timeframe).load_state_dict(pstate)
        engine.decider.load_state_dict(state["decider"])
        engine.counts.clear()
        engine.counts.update(state["counts"])
    except Exception as exc:  # whatever fails to load means: cannot reconcile
        raise RecoveryError(f"checkpoint does not load: {type(exc).__name__}: {exc}") from exc
    _apply_persisted_halt(engine)


def _apply_persisted_halt(engine: Engine) -> None:
    """HALTED in the state store wins over the checkpoint; so does a reset made after it."""
    from tradekit.core.enums import TradingState

    store = engine.risk.store
    if store is None:
        return
    raw = store.get_state(STATE_KEY)
    persisted = TradingState(raw.get("state", "ACTIVE")) if isinstance(raw, dict) else None
    risk = engine.risk
    if persisted is TradingState.HALTED:
        risk._state, risk._reason = TradingState.HALTED, str(raw.get("reason", ""))
    elif risk._state is TradingState.HALTED:
        risk._state, risk._reason = persisted or TradingState.ACTIVE, str(raw.get("reason", ""))


def engine_digest(engine: Engine) -> dict[str, Any]:
    """What recovery reconciles: cash, equity, open quantities and record counts."""
    ledger = engine.ledger
    return {
        "cash": ledger.cash,
        "equity": ledger.equity,
        "positions": {s: p.qty for s, p in sorted(ledger.positions.items()) if p.qty != 0},
        "fills": int(engine.counts.get("fills", 0)),
        "orders": len(engine.broker.orders()),
        "closed_trades": ledger.closed_count,
        "trading_state": engine.risk.trading_state.value,
    }
