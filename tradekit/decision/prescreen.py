"""Certain refusals found in batch: the setups a gate refuses on the setup alone.

Gates 1–5 (signal integrity, session and VIX, factor score, roles, reward:risk) read only the
setup, its bar time and the VIX known then; none of them reads the account, the day's trades
or the trader's state. A setup that fails one of them is decided SKIP whatever happened before
it, and deciding it changes nothing (a SKIP records no entry, starts no cooldown, sends no
order). A metrics-only backtest can therefore count those decisions without building their
records (:mod:`tradekit.runtime.quiet`), and most setups of a replay are of that kind (about
nine in ten of the default configuration's).

:class:`SetupBatch` holds what those gates compare for every setup of a series, as arrays;
each setup-only gate offers ``fails_batch(batch)``, the vectorised twin of its ``evaluate``
(tested setup by setup against it), and :func:`certain_failures` ORs them. A gate without
``fails_batch`` (the stateful ones, custom gates) is assumed to pass: the result may miss a
refusal, never invent one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tradekit._typing import BoolArray, FloatArray, IntArray
from tradekit.core.columns import SetupColumns
from tradekit.core.enums import TradeMode
from tradekit.decision.scoring import Scorer

__all__ = ["SetupBatch", "certain_failures", "setup_batch"]


@dataclass(frozen=True, eq=False)
class SetupBatch:
    """What gates 1–5 compare, per setup of ``cols`` (see :class:`~tradekit.decision.gates.
    GateContext` for the per-setup form).

    Attributes
    ----------
    cols:
        The setups' own fields.
    vix:
        VIX known at each setup's bar time; NaN where the market view has none.
    vix_error:
        Where the VIX lookup raised (gate 2 cannot be decided in batch there).
    n_kinds:
        Number of active signal kinds.
    unknown:
        Whether any active kind has no family (gate 1 refuses it).
    total, roles:
        Factor score (sum of family weights) and assigned roles (gates 3 and 4).
    rr:
        Reward:risk to TP1, NaN when undefined (as :func:`~tradekit.decision.scoring.
        reward_risk`).
    min_rr:
        The reward:risk the setup's trade mode needs (gate 5's threshold).
    iv_rank, iv_rank_error:
        For setups traded as options: the cleaned IV rank (0–100, NaN when missing) the
        options engine reads at each setup's bar time, and where its lookup raised; None on
        the directional path.
    """

    cols: SetupColumns
    vix: FloatArray
    vix_error: BoolArray
    n_kinds: IntArray
    unknown: BoolArray
    total: FloatArray
    roles: IntArray
    rr: FloatArray
    min_rr: FloatArray
    iv_rank: FloatArray | None = None
    iv_rank_error: BoolArray | None = None


def _reward_risk(entry: FloatArray, stop: FloatArray, tp1: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        risk = np.abs(entry - stop)
        valid = np.isfinite(risk) & (risk > 0) & np.isfinite(tp1)
        return np.where(valid, np.abs(tp1 - entry) / np.where(valid, risk, 1.0), np.nan)


def _lookup(ts_ns: IntArray, at: Callable[[int], float | None]) -> tuple[FloatArray, BoolArray]:
    """``at(ts)`` per time (NaN for None) and where it raised."""
    out = np.empty(ts_ns.shape[0], dtype=np.float64)
    error = np.zeros(ts_ns.shape[0], dtype=np.bool_)
    for i, ts in enumerate(ts_ns.tolist()):
        try:
            v = at(ts)
        except Exception:  # the engine reports it per setup; here it only means "unknown"
            error[i] = True
            v = None
        out[i] = np.nan if v is None else v
    return out, error


def setup_batch(
    cols: SetupColumns,
    scorer: Scorer,
    min_rr: Mapping[TradeMode, float],
    vix_at: Callable[[int], float | None],
    iv_rank_at: Callable[[int], float | None] | None = None,
    *,
    vix: FloatArray | None = None,
    iv_rank: FloatArray | None = None,
) -> SetupBatch:
    """The :class:`SetupBatch` of ``cols``, scored by ``scorer`` (the engine's), with gate 5's
    threshold per trade mode ``min_rr``, the engine's VIX lookup ``vix_at(ts_ns)`` and, for
    the options path, its cleaned IV rank lookup ``iv_rank_at(ts_ns)``.

    Each lookup is asked once per setup; one that raises leaves that setup's value unknown,
    which the gate reading it then treats as "may pass" (an error is the per-setup engine's
    to report). ``vix`` / ``iv_rank``, when given, are those lookups' results for every
    setup already (NaN for None), from a market that answers a whole array at once.
    """
    scores = [scorer.kinds_score(k) for k in cols.kinds]
    code = cols.kind_code
    per_kind_total = np.array([s.total for s in scores], dtype=np.float64)
    per_kind_roles = np.array([s.roles for s in scores], dtype=np.int64)
    per_kind_unknown = np.array([bool(s.unknown) for s in scores], dtype=np.bool_)
    per_kind_n = np.array([len(k) for k in cols.kinds], dtype=np.int64)
    per_kind_need = np.array([min_rr[s.mode] for s in scores], dtype=np.float64)
    no_error = np.zeros(cols.ts_ns.shape[0], dtype=np.bool_)
    vix, vix_error = _lookup(cols.ts_ns, vix_at) if vix is None else (vix, no_error)
    ivr: FloatArray | None
    ivr_error: BoolArray | None
    if iv_rank is not None:
        ivr, ivr_error = iv_rank, no_error
    elif iv_rank_at is not None:
        ivr, ivr_error = _lookup(cols.ts_ns, iv_rank_at)
    else:
        ivr, ivr_error = None, None
    return SetupBatch(
        cols=cols,
        vix=vix,
        vix_error=vix_error,
        iv_rank=ivr,
        iv_rank_error=ivr_error,
        n_kinds=per_kind_n[code],
        unknown=per_kind_unknown[code],
        total=per_kind_total[code],
        roles=per_kind_roles[code],
        rr=_reward_risk(cols.entry, cols.stop, cols.tp1),
        min_rr=per_kind_need[code],
    )


def certain_failures(gates: Sequence[object], batch: SetupBatch) -> BoolArray:
    """Per setup of ``batch``: whether a gate of ``gates`` that offers ``fails_batch`` fails
    it (so its decision is SKIP, whatever the other gates and the account say)."""
    out = np.zeros(len(batch.cols), dtype=np.bool_)
    for gate in gates:
        fails = getattr(gate, "fails_batch", None)
        if fails is not None:
            out |= np.asarray(fails(batch), dtype=np.bool_)
    return out
