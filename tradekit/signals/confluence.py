"""Confluence score and setups (SIGNALS.md §5 and §5.1): one implementation, batch and streaming.

Per base bar ``t`` and side ``d`` the score is the sum of the weights of the *distinct*
confluence types that have a same-direction event with ``index`` in ``[t - W + 1, t]``, plus
the HTF term. A side fires when it has a fresh event at ``t``, ``score >= min_score``,
``>= min_types`` distinct types, the HTF is not against it, and the other side does not also
qualify. The arithmetic lives in :mod:`tradekit.signals.nb_confluence`
(:func:`~tradekit.signals.nb_confluence.confluence_step_nb`); the batch function
:func:`confluence_arrays` and the streaming :class:`ConfluenceState` both call that one step.

Decisions made here (documented deviations / precisions of the spec)
-------------------------------------------------------------------
* **Which events count**: the twelve decision kinds (``records.DECISION_KINDS``), with
  ``SWEEP_LOW``/``SWEEP_HIGH`` merged into the type ``SWEEP``. Helper kinds (``SWING_*``,
  ``FVG_MITIGATED``/``FVG_FILLED``, ``STRAT_21_SETUP``) never count. Only *base-timeframe*
  events count; higher timeframes contribute through the HTF term alone (§5 defines the score
  on base events; counting an HTF event as well would double count the HTF).
* **Weights**: ``config.confluence.weights`` merged over the defaults (a partial dict overrides
  only the kinds it names). A type with weight 0 is disabled: it neither scores nor counts as a
  type nor makes a bar fresh.
* **HTF term with several HTFs**: the highest HTF weighs ``htf_weight``, every lower one
  ``htf_weight_lower``; the term of the long side is ``sum(w_i * bias_i)``, the short side's is
  its negative. "HTF against side d" means that the *net* term for ``d`` is negative (with one
  HTF this is exactly "HTF bias == -d"). ``Setup.htf_bias`` is the sign of the long-side term.
* **Stop**: the first type in priority order SWEEP > CHOCH > BOS > MSS > FVG > DISPLACEMENT >
  STRAT_212 > BREAKER > ORB > SMT > VOLUME_SURGE whose latest in-window event's stop lies
  strictly on the protective side of ``entry = C[t]``. If no contributing event offers one, the
  bar still reports ``fire`` but **no setup** is built (a setup without a valid stop would be
  refused by gate 1 anyway). The optional cap of the target at opposite liquidity is not
  implemented (target is R-based with ``config.signals.rr``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.config import AlgorithmConfig, ConfluenceConfig
from tradekit.core.columns import SetupColumns
from tradekit.core.events import Setup, Signal
from tradekit.core.ids import text_id
from tradekit.errors import DataError
from tradekit.signals import nb_confluence as nbc
from tradekit.signals.records import KindCode

__all__ = [
    "CONFLUENCE_TYPES",
    "SCORE_COLUMNS",
    "ConfluenceParams",
    "ConfluenceState",
    "active_kinds",
    "build_setup",
    "confluence_arrays",
    "contributing_ids",
    "htf_term",
    "htf_weights",
    "score_confluence",
    "setup_columns",
    "type_of_kind_codes",
]

#: Confluence types in stop-priority order (type code = position).
CONFLUENCE_TYPES: Final[tuple[str, ...]] = (
    "SWEEP",
    "CHOCH",
    "BOS",
    "MSS",
    "FVG",
    "DISPLACEMENT",
    "STRAT_212",
    "BREAKER",
    "ORB",
    "SMT",
    "VOLUME_SURGE",
)

_TYPE_CODE: Final[dict[str, int]] = {name: i for i, name in enumerate(CONFLUENCE_TYPES)}
_KIND_TO_TYPE: Final[dict[str, int]] = {
    **{name: i for i, name in enumerate(CONFLUENCE_TYPES) if name != "SWEEP"},
    "SWEEP_LOW": _TYPE_CODE["SWEEP"],
    "SWEEP_HIGH": _TYPE_CODE["SWEEP"],
}
#: kind name → its KindCode value (an enum lookup by name costs about ten dict lookups)
_KIND_CODE: Final[dict[str, int]] = {k.name: int(k) for k in KindCode}
#: KindCode → confluence type code (-1: the kind does not count).
_TYPE_OF_CODE: Final[IntArray] = np.array(
    [_KIND_TO_TYPE.get(k.name, -1) for k in sorted(KindCode, key=int)], dtype=np.int64
)

_NO_INT: Final[IntArray] = np.zeros(0, dtype=np.int64)
_NO_FLOAT: Final[FloatArray] = np.zeros(0, dtype=np.float64)

#: Columns of :func:`score_confluence` (one row per base bar).
SCORE_COLUMNS: Final[tuple[str, ...]] = (
    "score_long",
    "score_short",
    "n_types_long",
    "n_types_short",
    "mask_long",
    "mask_short",
    "fire",
    "stop",
    "target",
    "stop_type",
    "htf_term",
)


@dataclass(frozen=True, slots=True)
class ConfluenceParams:
    """The numbers the confluence kernel needs, resolved from an :class:`AlgorithmConfig`.

    Attributes
    ----------
    weights : ndarray
        Weight per confluence type (order of :data:`CONFLUENCE_TYPES`).
    window : int
        Window ``W`` in base bars.
    min_score, min_types, rr, tp2_extension, tp3_extension, max_confidence :
        As in ``ConfluenceConfig`` / ``SignalConfig.rr``.
    """

    weights: FloatArray
    window: int
    min_score: float
    min_types: int
    rr: float
    tp2_extension: float
    tp3_extension: float
    max_confidence: float

    @classmethod
    def from_config(cls, config: AlgorithmConfig | None = None) -> ConfluenceParams:
        """Resolve the parameters (defaults when ``config`` is None)."""
        cfg = config if config is not None else AlgorithmConfig()
        cc: ConfluenceConfig = cfg.confluence
        merged = {**ConfluenceConfig().weights, **cc.weights}
        weights = np.array([float(merged.get(name, 0.0)) for name in CONFLUENCE_TYPES])
        return cls(
            weights=weights,
            window=int(cc.window),
            min_score=float(cc.min_score),
            min_types=int(cc.min_types),
            rr=float(cfg.signals.rr),
            tp2_extension=float(cc.tp2_extension),
            tp3_extension=float(cc.tp3_extension),
            max_confidence=float(cc.max_confidence),
        )


def type_of_kind_codes(kind_codes: IntArray) -> IntArray:
    """Confluence type code of each :class:`~tradekit.signals.records.KindCode` (-1: not counted)."""
    codes = np.asarray(kind_codes, dtype=np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= _TYPE_OF_CODE.shape[0]):
        raise DataError("event kind code out of range", rule="kind")
    return _TYPE_OF_CODE[codes]


def _type_of_kind_names(kinds: Iterable[Any]) -> IntArray:
    """Confluence type code of kind names (unknown/helper kinds → -1)."""
    return np.array([_KIND_TO_TYPE.get(str(k), -1) for k in kinds], dtype=np.int64)


def htf_weights(n_htf: int, config: AlgorithmConfig | None = None) -> list[float]:
    """Weights of ``n_htf`` HTFs ordered from lowest to highest timeframe.

    The highest HTF weighs ``confluence.htf_weight`` (2.0), every lower one
    ``confluence.htf_weight_lower`` (1.0), so the default pair gives ±2 / ±1 (§5).
    """
    cfg = config if config is not None else AlgorithmConfig()
    if n_htf <= 0:
        return []
    lower = [float(cfg.confluence.htf_weight_lower)] * (n_htf - 1)
    return [*lower, float(cfg.confluence.htf_weight)]


def htf_term(biases: Sequence[IntArray], weights: Sequence[float], n: int) -> FloatArray:
    """Long-side HTF term per base bar: ``sum_i weights[i] * biases[i][t]``.

    Parameters
    ----------
    biases:
        One per-base-bar bias array (+1/0/-1) per HTF, each of length ``n``.
    weights:
        Weight of each HTF (see :func:`htf_weights`).
    n:
        Number of base bars.
    """
    if len(biases) != len(weights):
        raise DataError("one HTF weight per HTF bias array is required", rule="htf")
    term = np.zeros(n, dtype=np.float64)
    for b, w in zip(biases, weights, strict=True):
        arr = np.asarray(b)
        if arr.shape != (n,):
            raise DataError(f"HTF bias has shape {arr.shape}, expected ({n},)", rule="htf")
        term += w * arr
    return term


def confluence_arrays(
    close: FloatArray,
    ev_index: IntArray,
    ev_type: IntArray,
    ev_dir: IntArray,
    ev_stop: FloatArray,
    htf_term_long: FloatArray | None,
    params: ConfluenceParams,
) -> FloatArray:
    """Confluence verdict per base bar from event arrays (the fast path, no pandas).

    Parameters
    ----------
    close:
        Base closes (currency), length ``n``.
    ev_index, ev_type, ev_dir, ev_stop:
        Base events sorted by ``ev_index`` (emission bar), their confluence type code
        (:func:`type_of_kind_codes`; -1 = not counted), direction and suggested stop.
    htf_term_long:
        Long-side HTF term per bar (:func:`htf_term`), or None for no HTF.
    params:
        :meth:`ConfluenceParams.from_config`.

    Returns
    -------
    ndarray of shape (n, len(SCORE_COLUMNS))
        Columns as :data:`SCORE_COLUMNS` (``mask_*`` are bit masks over type codes).
    """
    c = np.ascontiguousarray(close, dtype=np.float64)
    if c.flags.writeable:  # one compiled signature whatever the caller passes (no copy)
        c = c.view()
        c.flags.writeable = False
    n = c.shape[0]
    idx = np.ascontiguousarray(ev_index, dtype=np.int64)
    if idx.size and (idx[0] < 0 or idx[-1] >= n or np.any(np.diff(idx) < 0)):
        raise DataError("event index must be sorted and within [0, n_bars)", rule="index")
    term = np.zeros(n) if htf_term_long is None else np.ascontiguousarray(htf_term_long, float)
    if term.shape != (n,):
        raise DataError("htf_term_long must have one value per bar", rule="htf")
    types = np.asarray(ev_type, dtype=np.int64)
    dirs = np.asarray(ev_dir, dtype=np.int64)
    stops = np.asarray(ev_stop, dtype=np.float64)
    if not (types.shape == dirs.shape == stops.shape == idx.shape):
        raise DataError("event arrays must have equal lengths", rule="shape")
    keep = types >= 0  # helper kinds never count: drop them before the kernel
    if not keep.all():
        idx, types, dirs, stops = idx[keep], types[keep], dirs[keep], stops[keep]
    return nbc.confluence_batch_nb(
        c,
        np.ascontiguousarray(idx),
        np.ascontiguousarray(types),
        np.ascontiguousarray(dirs),
        np.ascontiguousarray(stops),
        term,
        params.weights,
        params.window,
        params.min_score,
        params.min_types,
        params.rr,
    )


def score_confluence(
    events: pd.DataFrame,
    bars: pd.DataFrame,
    *,
    htf_term_long: FloatArray | None = None,
    config: AlgorithmConfig | None = None,
) -> pd.DataFrame:
    """Per-bar confluence scores of base ``events`` (the ``detect`` format) over ``bars``.

    Returns a DataFrame indexed like ``bars`` (only its ``close`` column is used) with
    :data:`SCORE_COLUMNS`. ``events`` needs ``kind``, ``index``, ``direction`` and ``stop``
    and must hold **base-timeframe** events only (filter a ``detect_setups`` events frame with
    ``events[events.timeframe == timeframe]``); HTF context enters through ``htf_term_long``
    (:func:`htf_term`).

    Examples
    --------
    >>> import pandas as pd
    >>> bars = pd.DataFrame({"close": [10.0, 11.0]},
    ...     index=pd.date_range("2024-01-02", periods=2, freq="1min", tz="UTC"))
    >>> ev = pd.DataFrame({"kind": ["BOS", "SWEEP_LOW", "DISPLACEMENT"], "index": [1, 1, 1],
    ...     "direction": [1, 1, 1], "stop": [9.0, 8.5, 9.5]})
    >>> row = score_confluence(ev, bars).iloc[1]
    >>> float(row["score_long"]), int(row["fire"]), float(row["stop"]), float(row["target"])
    (5.5, 1, 8.5, 16.0)
    """
    params = ConfluenceParams.from_config(config)
    order = np.argsort(events["index"].to_numpy(np.int64), kind="stable")
    ev = events.iloc[order]
    out = confluence_arrays(
        bars["close"].to_numpy(np.float64),
        ev["index"].to_numpy(np.int64),
        _type_of_kind_names(ev["kind"]),
        ev["direction"].to_numpy(np.int64),
        ev["stop"].to_numpy(np.float64),
        htf_term_long,
        params,
    )
    frame = pd.DataFrame(out, index=bars.index, columns=list(SCORE_COLUMNS))
    for col in ("n_types_long", "n_types_short", "mask_long", "mask_short", "fire", "stop_type"):
        frame[col] = frame[col].astype(np.int64)
    return frame


class ConfluenceState:
    """Streaming confluence: one :func:`confluence_step_nb` call per closed base bar.

    Examples
    --------
    >>> st = ConfluenceState(ConfluenceParams.from_config())
    >>> row = st.step(0, 10.0, np.array([int(KindCode.BOS)]), np.array([1]), np.array([9.0]))
    >>> float(row[0])
    2.0
    """

    def __init__(self, params: ConfluenceParams) -> None:
        self.params = params
        self._last_idx, self._last_stop, self._cache = nbc.confluence_new_state_nb()
        self._out = np.empty((1, nbc.N_OUT), dtype=np.float64)

    def step(
        self,
        t: int,
        close_t: float,
        kind_codes: IntArray,
        directions: IntArray,
        stops: FloatArray,
        htf_term_long: float = 0.0,
    ) -> FloatArray:
        """Feed the base events emitted at bar ``t`` (KindCodes) and get the bar's verdict row.

        Returns a view of an internal buffer (columns :data:`SCORE_COLUMNS`); copy it to keep it.
        """
        types = type_of_kind_codes(kind_codes)
        dirs = np.asarray(directions, dtype=np.int64)
        stop_arr = np.asarray(stops, dtype=np.float64)
        if not (types.shape == dirs.shape == stop_arr.shape):
            raise DataError("kind_codes, directions and stops must have equal lengths")
        return self._step(t, close_t, types, dirs, stop_arr, htf_term_long)

    def step_signals(
        self, t: int, close_t: float, signals: Sequence[Signal], htf_term_long: float = 0.0
    ) -> FloatArray:
        """:meth:`step` fed with the ``Signal`` records emitted at bar ``t`` (the live path)."""
        if signals:
            types = np.array([_KIND_TO_TYPE.get(s.kind, -1) for s in signals], dtype=np.int64)
            dirs = np.array([s.direction for s in signals], dtype=np.int64)
            stops = np.array([s.stop for s in signals], dtype=np.float64)
        else:
            types, dirs, stops = _NO_INT, _NO_INT, _NO_FLOAT
        return self._step(t, close_t, types, dirs, stops, htf_term_long)

    def _step(
        self,
        t: int,
        close_t: float,
        types: IntArray,
        dirs: IntArray,
        stops: FloatArray,
        htf_term_long: float,
    ) -> FloatArray:
        p = self.params
        nbc.confluence_step_nb(
            t,
            float(close_t),
            types,
            dirs,
            stops,
            0,
            types.shape[0],
            self._last_idx,
            self._last_stop,
            self._cache,
            p.weights,
            float(htf_term_long),
            p.window,
            p.min_score,
            p.min_types,
            p.rr,
            self._out,
            0,
        )
        return self._out[0]

    def state_dict(self) -> dict[str, Any]:
        """Picklable copy of the state (numpy arrays)."""
        return {
            "last_idx": self._last_idx.copy(),
            "last_stop": self._last_stop.copy(),
            "cache": self._cache.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state produced by :meth:`state_dict`."""
        self._last_idx = np.array(state["last_idx"], dtype=np.int64)
        self._last_stop = np.array(state["last_stop"], dtype=np.float64)
        self._cache = np.array(state["cache"], dtype=np.float64)


def active_kinds(mask: int, direction: int) -> tuple[str, ...]:
    """Kind names of the types in ``mask`` (SWEEP → SWEEP_LOW for longs, SWEEP_HIGH for shorts)."""
    names: list[str] = []
    for ty, name in enumerate(CONFLUENCE_TYPES):
        if (int(mask) >> ty) & 1:
            if name == "SWEEP":
                name = "SWEEP_LOW" if direction > 0 else "SWEEP_HIGH"
            names.append(name)
    return tuple(names)


def contributing_ids(
    recent: Iterable[tuple[int, str, int, str]],
    t: int,
    direction: int,
    params: ConfluenceParams,
) -> tuple[str, ...]:
    """Ids of the events that contribute to side ``direction`` at bar ``t``.

    ``recent`` yields ``(index, kind, direction, id)``; kept are the counted kinds with a
    positive weight, the same direction and ``index`` in the window. Sorted by
    ``(index, kind code, id)`` so batch and streaming agree regardless of input order.
    """
    lo = t - params.window + 1
    keep: list[tuple[int, int, str]] = []
    for index, kind, d, sid in recent:
        ty = _KIND_TO_TYPE.get(kind, -1)
        if ty >= 0 and params.weights[ty] > 0 and d == direction and lo <= index <= t:
            keep.append((index, _KIND_CODE[kind], sid))
    keep.sort()
    return tuple(sid for _, _, sid in keep)


def build_setup(
    row: FloatArray | Sequence[float],
    *,
    symbol: str,
    timeframe: str,
    index: int,
    ts_ns: int,
    close_t: float,
    signal_ids: tuple[str, ...],
    params: ConfluenceParams,
) -> Setup | None:
    """The :class:`~tradekit.core.events.Setup` of one bar's verdict row, or None.

    None when no side fires or when no contributing event offers a protective stop.
    TP1 is the R-based target; TP2/TP3 extend it by ``tp2_extension`` / ``tp3_extension``
    times ``TP1 - entry`` (§5.1); ``confidence = min(max_confidence, score)``.
    """
    fire = int(row[nbc.OUT_FIRE])
    if fire == 0 or int(row[nbc.OUT_STOP_TYPE]) < 0:
        return None
    long = fire > 0
    score = float(row[nbc.OUT_SCORE_LONG] if long else row[nbc.OUT_SCORE_SHORT])
    mask = int(row[nbc.OUT_MASK_LONG] if long else row[nbc.OUT_MASK_SHORT])
    entry = float(close_t)
    tp1 = float(row[nbc.OUT_TARGET])
    reward = tp1 - entry
    term = float(row[nbc.OUT_HTF_TERM])
    return Setup(
        id=text_id("setup", f"{symbol}\x1f{timeframe}\x1f{int(ts_ns)}\x1f{fire}"),  # make_id's
        symbol=symbol,
        timeframe=timeframe,
        ts_ns=int(ts_ns),
        index=int(index),
        direction=fire,
        entry=entry,
        stop=float(row[nbc.OUT_STOP]),
        tp1=tp1,
        tp2=tp1 + params.tp2_extension * reward,
        tp3=tp1 + params.tp3_extension * reward,
        confidence=min(params.max_confidence, score),
        score=score,
        confluence_count=int(row[nbc.OUT_NTYPES_LONG] if long else row[nbc.OUT_NTYPES_SHORT]),
        active_signals=active_kinds(mask, fire),
        signal_ids=signal_ids,
        htf_bias=int(np.sign(term)),
    )


def setup_columns(
    verdicts: FloatArray,
    bars: IntArray,
    ts: IntArray,
    close: FloatArray,
    params: ConfluenceParams,
    *,
    symbol: str,
    timeframe: str,
) -> SetupColumns:
    """What :func:`build_setup` would put in the gate-read fields of the setups of the verdict
    rows ``verdicts`` (one per fired bar ``bars``, each firing with a stop), as columns.

    The same values as the records, field by field (tested): ``entry`` is the bar's close,
    ``confidence`` is ``min(max_confidence, score)`` (Python's ``min``: the score unless it is
    not below the cap) and ``active_signals`` comes from :func:`active_kinds`.
    """
    if verdicts.shape[0] != bars.shape[0]:
        raise ValueError("one verdict row per fired bar")
    if bars.shape[0] == 0:
        return SetupColumns.empty(symbol, timeframe)
    fire = verdicts[:, nbc.OUT_FIRE].astype(np.int64)
    long = fire > 0
    score = np.where(long, verdicts[:, nbc.OUT_SCORE_LONG], verdicts[:, nbc.OUT_SCORE_SHORT])
    mask = np.where(long, verdicts[:, nbc.OUT_MASK_LONG], verdicts[:, nbc.OUT_MASK_SHORT])
    cap = params.max_confidence
    key = mask.astype(np.int64) * 2 + long
    uniq, code = np.unique(key, return_inverse=True)
    kinds = tuple(active_kinds(int(k) // 2, 1 if k % 2 else -1) for k in uniq.tolist())
    count = np.where(long, verdicts[:, nbc.OUT_NTYPES_LONG], verdicts[:, nbc.OUT_NTYPES_SHORT])
    index = bars.astype(np.int64)
    return SetupColumns(
        symbol=symbol,
        timeframe=timeframe,
        index=index,
        ts_ns=ts[index].astype(np.int64),
        direction=fire,
        entry=close[index].astype(np.float64),
        stop=verdicts[:, nbc.OUT_STOP].astype(np.float64),
        tp1=verdicts[:, nbc.OUT_TARGET].astype(np.float64),
        confidence=np.where(score < cap, score, cap).astype(np.float64),
        confluence_count=count.astype(np.int64),
        kind_code=code.astype(np.int64).reshape(-1),
        kinds=kinds,
    )
