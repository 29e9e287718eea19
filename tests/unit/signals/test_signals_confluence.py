"""Confluence score and setups (SIGNALS.md §5, §5.1) on hand-made event frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.ids import make_id
from tradekit.errors import DataError
from tradekit.signals import nb_confluence as nbc
from tradekit.signals.confluence import (
    CONFLUENCE_TYPES,
    ConfluenceParams,
    ConfluenceState,
    active_kinds,
    build_setup,
    confluence_arrays,
    contributing_ids,
    htf_term,
    htf_weights,
    score_confluence,
    type_of_kind_codes,
)
from tradekit.signals.records import DECISION_KINDS, KindCode

N = 12
CLOSE = 100.0


def _bars(n: int = N, close: float = CLOSE) -> pd.DataFrame:
    idx = pd.date_range("2024-01-02 14:30", periods=n, freq="1min", tz="UTC")
    return pd.DataFrame({"close": np.full(n, close)}, index=idx)


def _events(rows: list[tuple[str, int, int, float]]) -> pd.DataFrame:
    """rows: (kind, index, direction, stop)."""
    return pd.DataFrame(
        {
            "kind": [r[0] for r in rows],
            "index": [r[1] for r in rows],
            "direction": [r[2] for r in rows],
            "stop": [r[3] for r in rows],
        }
    )


def _score(rows: list[tuple[str, int, int, float]], **kw: object) -> pd.DataFrame:
    return score_confluence(_events(rows), _bars(), **kw)  # type: ignore[arg-type]


class TestTypes:
    def test_eleven_types_cover_the_twelve_decision_kinds(self) -> None:
        assert len(CONFLUENCE_TYPES) == nbc.N_TYPES
        codes = np.array([int(k) for k in KindCode])
        types = type_of_kind_codes(codes)
        counted = {k.name for k, ty in zip(KindCode, types, strict=True) if ty >= 0}
        assert counted == set(DECISION_KINDS)
        assert types[KindCode.SWEEP_LOW] == types[KindCode.SWEEP_HIGH] == 0

    def test_out_of_range_kind_code_is_a_data_error(self) -> None:
        with pytest.raises(DataError):
            type_of_kind_codes(np.array([99]))

    def test_active_kinds_names_sweep_by_side(self) -> None:
        mask = (1 << 0) | (1 << 2)
        assert active_kinds(mask, 1) == ("SWEEP_LOW", "BOS")
        assert active_kinds(mask, -1) == ("SWEEP_HIGH", "BOS")


class TestScore:
    def test_weights_of_distinct_types_sum(self) -> None:
        sc = _score([("CHOCH", 3, 1, 95.0), ("FVG", 3, 1, 96.0), ("FVG", 2, 1, 97.0)])
        assert sc["score_long"].iloc[3] == 3.5
        assert sc["n_types_long"].iloc[3] == 2
        assert sc["score_short"].iloc[3] == 0.0

    def test_window_is_last_w_bars_inclusive(self) -> None:
        sc = _score([("BOS", 2, 1, 95.0)])
        assert list(sc["score_long"].iloc[2:8]) == [2.0] * 5 + [0.0]

    def test_helper_kinds_do_not_count(self) -> None:
        sc = _score([("SWING_LOW", 3, 1, 95.0), ("FVG_FILLED", 3, 1, 95.0)])
        assert sc["score_long"].sum() == 0.0

    def test_weights_from_config_merge_over_defaults(self) -> None:
        cfg = AlgorithmConfig(confluence={"weights": {"FVG": 4.0}})
        sc = _score([("FVG", 1, 1, 95.0), ("BOS", 1, 1, 95.0)], config=cfg)
        assert sc["score_long"].iloc[1] == 6.0

    def test_zero_weight_disables_a_type(self) -> None:
        cfg = AlgorithmConfig(confluence={"weights": {"FVG": 0.0}})
        sc = _score([("FVG", 1, 1, 95.0), ("BOS", 1, 1, 95.0)], config=cfg)
        assert sc["n_types_long"].iloc[1] == 1


class TestFiring:
    def test_fires_with_score_types_and_fresh_event(self) -> None:
        sc = _score([("SWEEP_LOW", 4, 1, 97.0), ("BOS", 5, 1, 96.0), ("FVG", 5, 1, 98.0)])
        assert sc["fire"].iloc[5] == 1
        assert sc["stop"].iloc[5] == 97.0  # SWEEP first in stop priority
        assert sc["target"].iloc[5] == CLOSE + 2 * 3.0

    def test_no_fresh_event_no_fire(self) -> None:
        sc = _score([("SWEEP_LOW", 4, 1, 97.0), ("BOS", 4, 1, 96.0), ("FVG", 4, 1, 98.0)])
        assert sc["fire"].iloc[4] == 1
        assert sc["fire"].iloc[5] == 0

    def test_needs_min_score(self) -> None:
        sc = _score([("FVG", 4, 1, 97.0), ("STRAT_212", 4, 1, 96.0), ("BOS", 4, 1, 98.0)])
        assert sc["score_long"].iloc[4] == 4.5
        assert sc["fire"].iloc[4] == 0

    def test_needs_two_types(self) -> None:
        cfg = AlgorithmConfig(confluence={"min_score": 2.0})
        sc = _score([("CHOCH", 4, 1, 97.0), ("CHOCH", 3, 1, 96.0)], config=cfg)
        assert sc["fire"].iloc[4] == 0

    def test_bearish_mirror(self) -> None:
        sc = _score([("SWEEP_HIGH", 4, -1, 103.0), ("CHOCH", 4, -1, 104.0)])
        assert sc["score_short"].iloc[4] == 4.5
        sc = _score([("SWEEP_HIGH", 4, -1, 103.0), ("CHOCH", 4, -1, 104.0), ("FVG", 4, -1, 102.0)])
        assert sc["fire"].iloc[4] == -1
        assert sc["stop"].iloc[4] == 103.0
        assert sc["target"].iloc[4] == CLOSE - 6.0

    def test_two_sided_conflict_fires_nothing(self) -> None:
        rows = [
            ("SWEEP_LOW", 4, 1, 97.0),
            ("BOS", 4, 1, 96.0),
            ("FVG", 4, 1, 98.0),
            ("SWEEP_HIGH", 4, -1, 103.0),
            ("CHOCH", 4, -1, 104.0),
            ("FVG", 4, -1, 102.0),
        ]
        assert _score(rows)["fire"].iloc[4] == 0

    def test_protective_stop_falls_through_priority(self) -> None:
        # the sweep's stop is above the long entry: not protective -> BOS's stop is used
        rows = [("SWEEP_LOW", 4, 1, 101.0), ("BOS", 4, 1, 96.0), ("FVG", 4, 1, 98.0)]
        sc = _score(rows)
        assert sc["stop"].iloc[4] == 96.0
        assert sc["stop_type"].iloc[4] == CONFLUENCE_TYPES.index("BOS")

    def test_no_protective_stop_fires_without_levels(self) -> None:
        rows = [("SWEEP_LOW", 4, 1, 101.0), ("BOS", 4, 1, 100.0), ("FVG", 4, 1, 102.0)]
        sc = _score(rows)
        assert sc["fire"].iloc[4] == 1
        assert np.isnan(sc["stop"].iloc[4]) and sc["stop_type"].iloc[4] == -1

    def test_same_bar_duplicates_keep_most_conservative_stop(self) -> None:
        rows = [("SWEEP_LOW", 4, 1, 97.0), ("SWEEP_LOW", 4, 1, 95.0), ("BOS", 4, 1, 96.0)]
        rows.append(("FVG", 4, 1, 98.0))
        for perm in (rows, rows[::-1]):
            assert _score(perm)["stop"].iloc[4] == 95.0


class TestHtfTerm:
    def test_weights_highest_gets_two(self) -> None:
        assert htf_weights(2) == [1.0, 2.0]
        assert htf_weights(1) == [2.0]
        assert htf_weights(0) == []

    def test_htf_term_sums_weighted_biases(self) -> None:
        lo = np.array([1, -1, 0, 1])
        hi = np.array([1, 1, -1, 0])
        assert list(htf_term([lo, hi], [1.0, 2.0], 4)) == [3.0, 1.0, -2.0, 1.0]

    def test_bad_shape_is_data_error(self) -> None:
        with pytest.raises(DataError):
            htf_term([np.zeros(3)], [2.0], 4)

    def test_htf_with_bias_adds_and_against_blocks(self) -> None:
        rows = [("BOS", 4, 1, 96.0), ("STRAT_212", 4, 1, 98.0)]  # 3.5 alone
        with_htf = _score(rows, htf_term_long=np.full(N, 2.0))
        assert with_htf["score_long"].iloc[4] == 5.5 and with_htf["fire"].iloc[4] == 1
        rows3 = [*rows, ("CHOCH", 4, 1, 97.0), ("FVG", 4, 1, 97.0)]  # 7.0 without HTF
        against = _score(rows3, htf_term_long=np.full(N, -1.0))
        assert against["score_long"].iloc[4] == 6.0
        assert against["fire"].iloc[4] == 0


class TestSetup:
    def test_setup_levels_and_id(self) -> None:
        params = ConfluenceParams.from_config()
        rows = [("SWEEP_LOW", 4, 1, 97.0), ("BOS", 5, 1, 96.0), ("FVG", 5, 1, 98.0)]
        sc = _score(rows, htf_term_long=np.full(N, 2.0))
        row = sc.iloc[5].to_numpy(np.float64)
        setup = build_setup(
            row,
            symbol="SPY",
            timeframe="1min",
            index=5,
            ts_ns=123,
            close_t=CLOSE,
            signal_ids=("a", "b"),
            params=params,
        )
        assert setup is not None
        assert (setup.entry, setup.stop, setup.tp1) == (100.0, 97.0, 106.0)
        assert (setup.tp2, setup.tp3) == (109.0, 112.0)
        assert setup.score == 7.0 and setup.confidence == 7.0
        assert setup.confluence_count == 3
        assert setup.active_signals == ("SWEEP_LOW", "BOS", "FVG")
        assert setup.htf_bias == 1
        assert setup.id == make_id("setup", "SPY", "1min", 123, 1)

    def test_confidence_capped_at_ten(self) -> None:
        kinds = ["SWEEP_LOW", "CHOCH", "BOS", "FVG", "DISPLACEMENT", "ORB"]
        sc = _score([(k, 4, 1, 97.0) for k in kinds])
        setup = build_setup(
            sc.iloc[4].to_numpy(np.float64),
            symbol="X",
            timeframe="1min",
            index=4,
            ts_ns=0,
            close_t=CLOSE,
            signal_ids=(),
            params=ConfluenceParams.from_config(),
        )
        assert setup is not None and setup.score == 10.5 and setup.confidence == 10.0

    def test_no_setup_without_fire_or_stop(self) -> None:
        params = ConfluenceParams.from_config()
        sc = _score([("SWEEP_LOW", 4, 1, 101.0), ("BOS", 4, 1, 100.0), ("FVG", 4, 1, 102.0)])
        for t in (3, 4):
            row = sc.iloc[t].to_numpy(np.float64)
            assert (
                build_setup(
                    row,
                    symbol="X",
                    timeframe="1m",
                    index=t,
                    ts_ns=0,
                    close_t=CLOSE,
                    signal_ids=(),
                    params=params,
                )
                is None
            )

    def test_contributing_ids_filters_and_sorts(self) -> None:
        params = ConfluenceParams.from_config()
        recent = [
            (5, "FVG", 1, "f"),
            (5, "BOS", 1, "b"),
            (0, "BOS", 1, "old"),
            (5, "SWING_LOW", 1, "swing"),
            (4, "SWEEP_HIGH", -1, "other_side"),
            (3, "SWEEP_LOW", 1, "s"),
        ]
        assert contributing_ids(recent, 5, 1, params) == ("s", "b", "f")


class TestValidation:
    def test_unsorted_or_out_of_range_index_is_refused(self) -> None:
        params = ConfluenceParams.from_config()
        z = np.zeros(2, dtype=np.int64)
        with pytest.raises(DataError):
            confluence_arrays(np.ones(5), np.array([3, 1]), z, z + 1, np.ones(2), None, params)
        with pytest.raises(DataError):
            confluence_arrays(np.ones(5), np.array([1, 5]), z, z + 1, np.ones(2), None, params)


# ---- reference model and properties -------------------------------------------------------
WEIGHTS = dict(zip(CONFLUENCE_TYPES, ConfluenceParams.from_config().weights, strict=True))
KINDS = sorted(DECISION_KINDS | {"SWING_HIGH", "FVG_FILLED"})


def _reference(rows: list[tuple[str, int, int, float]], close: np.ndarray, term: np.ndarray):
    """Straight transcription of SIGNALS.md §5 (slow, readable)."""
    out = []
    for t in range(len(close)):
        verdict = {}
        for d in (1, -1):
            win = [r for r in rows if t - 4 <= r[1] <= t and r[2] == d]
            types = {("SWEEP" if r[0].startswith("SWEEP") else r[0]) for r in win}
            types &= set(CONFLUENCE_TYPES)
            score = sum(WEIGHTS[x] for x in types) + d * term[t]
            fresh = any(
                r[1] == t and ("SWEEP" if r[0].startswith("SWEEP") else r[0]) in types for r in win
            )
            verdict[d] = (score, fresh and score >= 5.0 and len(types) >= 2 and d * term[t] >= 0)
        fire = 1 if verdict[1][1] and not verdict[-1][1] else 0
        fire = -1 if verdict[-1][1] and not verdict[1][1] else fire
        out.append((verdict[1][0], verdict[-1][0], fire))
    return out


event_rows = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 39),
        st.sampled_from([1, -1]),
        st.floats(90.0, 110.0),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(rows=event_rows, seed=st.integers(0, 2**16))
def test_kernel_matches_reference_and_streaming(rows, seed) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    close = 100.0 + rng.normal(0, 2, n)
    term = rng.choice([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0], n)
    rows = sorted(rows, key=lambda r: r[1])
    params = ConfluenceParams.from_config()
    codes = np.array([int(KindCode[r[0]]) for r in rows], dtype=np.int64)
    idx = np.array([r[1] for r in rows], dtype=np.int64)
    dirs = np.array([r[2] for r in rows], dtype=np.int64)
    stops = np.array([r[3] for r in rows], dtype=np.float64)
    batch = confluence_arrays(close, idx, type_of_kind_codes(codes), dirs, stops, term, params)
    ref = _reference(rows, close, term)
    assert np.allclose(batch[:, nbc.OUT_SCORE_LONG], [r[0] for r in ref])
    assert np.allclose(batch[:, nbc.OUT_SCORE_SHORT], [r[1] for r in ref])
    assert list(batch[:, nbc.OUT_FIRE].astype(int)) == [r[2] for r in ref]
    # stops are protective whenever present
    fired = batch[:, nbc.OUT_STOP_TYPE] >= 0
    f = batch[fired]
    assert np.all(f[:, nbc.OUT_FIRE] * (close[fired] - f[:, nbc.OUT_STOP]) > 0)
    # streaming: one step per bar gives the same rows
    state = ConfluenceState(params)
    for t in range(n):
        sel = idx == t
        row = state.step(t, close[t], codes[sel], dirs[sel], stops[sel], term[t])
        np.testing.assert_array_equal(row, batch[t])
    # prefix invariance of the score
    k = int(rng.integers(1, n))
    sel = idx < k
    part = confluence_arrays(
        close[:k],
        idx[sel],
        type_of_kind_codes(codes[sel]),
        dirs[sel],
        stops[sel],
        term[:k],
        params,
    )
    np.testing.assert_array_equal(part, batch[:k])


def test_state_dict_round_trip_continues_identically() -> None:
    params = ConfluenceParams.from_config()
    a = ConfluenceState(params)
    a.step(0, 100.0, np.array([int(KindCode.BOS)]), np.array([1]), np.array([95.0]))
    b = ConfluenceState(params)
    b.load_state_dict(a.state_dict())
    ev = (np.array([int(KindCode.SWEEP_LOW), int(KindCode.FVG)]), np.array([1, 1]))
    ra = a.step(1, 100.0, *ev, np.array([96.0, 97.0]), 2.0).copy()
    rb = b.step(1, 100.0, *ev, np.array([96.0, 97.0]), 2.0).copy()
    np.testing.assert_array_equal(ra, rb)
    assert ra[nbc.OUT_FIRE] == 1
