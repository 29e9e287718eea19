"""Hand-built fixtures for every detector (SIGNALS.md §3), both directions and edge cases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.errors import DataError
from tradekit.signals.detectors import detect, detect_arrays, sort_events
from tradekit.signals.records import COL_INDEX, COL_KIND, COL_LEVEL, EVENT_COLUMNS, NCOL
from tradekit.testing import bars_from_rows


def run(
    rows: Sequence[Sequence[float]],
    kinds: Any = None,
    freq: str = "1D",
    start: str = "2024-01-02 14:30",
    **overrides: Any,
) -> pd.DataFrame:
    cfg = AlgorithmConfig().with_overrides({f"signals.{k}": v for k, v in overrides.items()})
    bars = bars_from_rows(rows, start=start, freq=freq)
    return detect(bars, cfg, kinds, timeframe=freq)


def hl(highs: Sequence[float], lows: Sequence[float] | None = None) -> list[tuple[float, ...]]:
    """Doji bars (open = close = mid) from highs and lows (lows default to high - 1)."""
    lows = [h - 0.5 for h in highs] if lows is None else lows
    return [((h + lo) / 2, h, lo, (h + lo) / 2, 100.0) for h, lo in zip(highs, lows, strict=True)]


def one(df: pd.DataFrame, kind: str) -> pd.Series:
    sel = df[df["kind"] == kind]
    assert len(sel) == 1, sel
    return sel.iloc[0]


# ------------------------------------------------------------------------------------ STRAT
MOTHER_UP = [(10, 11, 9, 10, 1), (10, 12, 10, 11, 1), (11, 11.5, 10.5, 11, 1)]


class TestStrat:
    def test_bullish_continuation_212(self) -> None:
        ev = run([*MOTHER_UP, (11, 13, 10.8, 12.5, 1)], ["STRAT_212"])
        r = one(ev, "STRAT_212")
        assert (r["index"], r["anchor_index"], r["direction"], r["tag"]) == (
            3,
            2,
            1,
            "CONTINUATION",
        )
        assert (r["trigger"], r["entry"], r["stop"], r["target"]) == (11.5, 11.5, 10.5, 12.0)

    def test_bearish_reversal_212_targets_the_mother_low(self) -> None:
        ev = run([*MOTHER_UP, (11, 11.4, 10, 10.2, 1)], ["STRAT_212"])
        r = one(ev, "STRAT_212")
        assert (r["direction"], r["tag"]) == (-1, "REVERSAL")
        assert (r["trigger"], r["stop"], r["target"]) == (10.5, 11.5, 10.0)

    def test_target_projects_one_to_one_when_mother_extreme_is_not_beyond(self) -> None:
        rows = [
            (10, 11, 9, 10, 1),
            (10, 12, 10, 11, 1),
            (11, 12, 10.5, 11, 1),
            (11, 13, 11, 12.5, 1),
        ]
        r = one(run(rows, ["STRAT_212"]), "STRAT_212")  # inside bar with an equal high
        assert (r["trigger"], r["stop"], r["target"]) == (12.0, 10.5, 13.5)

    @pytest.mark.parametrize(
        "first",
        [
            (10, 12, 8, 11, 1),  # 3-1-2: outside bar first
            (10, 10.5, 9.5, 10, 1),
        ],  # 1-1-2: inside bar first
    )
    def test_other_sequences_are_not_212(self, first: tuple) -> None:
        rows = [(10, 11, 9, 10, 1), first, (10, 10.4, 9.6, 10, 1), (10, 12, 9.8, 11.5, 1)]
        assert run(rows, ["STRAT_212"]).empty

    def test_equal_high_and_low_count_as_inside(self) -> None:
        rows = [(10, 11, 9, 10, 1), (10, 12, 10, 11, 1), (11, 12, 10, 11, 1), (11, 13, 10.5, 12, 1)]
        assert one(run(rows, ["STRAT_212"]), "STRAT_212")["anchor_index"] == 2

    def test_21_setup_gives_both_triggers_at_the_inside_bar(self) -> None:
        ev = run(MOTHER_UP, ["STRAT_21_SETUP"])
        assert list(ev["index"]) == [2, 2] and list(ev["anchor_index"]) == [2, 2]
        bull = ev[ev["direction"] == 1].iloc[0]
        bear = ev[ev["direction"] == -1].iloc[0]
        assert (bull["trigger"], bull["stop"], bull["target"], bull["tag"]) == (
            11.5,
            10.5,
            12.0,
            "CONTINUATION",
        )
        assert (bear["trigger"], bear["stop"], bear["tag"]) == (10.5, 11.5, "REVERSAL")


# ------------------------------------------------------------------------------------ FVG
BULL_GAP = [(10, 11, 9, 10.5, 1), (10.5, 13, 10.4, 12.8, 1), (12.8, 14, 11.5, 13.5, 1)]
BEAR_GAP = [(20, 21, 19, 19.5, 1), (19.5, 19.6, 17, 17.2, 1), (17.2, 18.5, 16, 16.5, 1)]


class TestFVG:
    def test_bullish_gap_levels_and_lifecycle(self) -> None:
        rows = [*BULL_GAP, (13.5, 14, 11.4, 13, 1), (13, 13.2, 10.9, 11, 1), (11, 12, 10, 11, 1)]
        ev = run(rows, ["FVG", "FVG_MITIGATED", "FVG_FILLED"])
        assert list(ev["kind"]) == ["FVG", "FVG_MITIGATED", "FVG_FILLED"]
        assert list(ev["index"]) == [2, 3, 4] and set(ev["anchor_index"]) == {1}
        g = ev.iloc[0]
        assert (g["top"], g["bottom"], g["mid"], g["size"]) == (11.5, 11.0, 11.25, 0.5)
        assert (g["entry"], g["stop"], g["target"]) == (11.5, 9.0, 16.5)

    def test_bearish_gap_mitigated_and_filled_on_one_bar(self) -> None:
        ev = run([*BEAR_GAP, (16.5, 19.5, 16.4, 17, 1)], ["FVG", "FVG_MITIGATED", "FVG_FILLED"])
        g = one(ev, "FVG")
        assert (g["direction"], g["top"], g["bottom"], g["entry"], g["stop"]) == (
            -1,
            19.0,
            18.5,
            18.5,
            21.0,
        )
        assert list(ev["index"]) == [2, 3, 3]

    def test_touching_is_not_a_gap(self) -> None:
        rows = [(10, 11, 9, 10.5, 1), (10.5, 13, 10.4, 12.8, 1), (12.8, 14, 11, 13.5, 1)]
        assert run(rows, ["FVG"]).empty

    def test_middle_colour_rule_and_doji(self) -> None:
        red_middle = [BULL_GAP[0], (12.8, 13, 10.4, 10.5, 1), BULL_GAP[2]]
        doji_middle = [BULL_GAP[0], (11.5, 13, 10.4, 11.5, 1), BULL_GAP[2]]
        for rows in (red_middle, doji_middle):
            assert len(run(rows, ["FVG"])) == 1
            assert run(rows, ["FVG"], fvg_require_middle_color=True).empty
        assert len(run(BULL_GAP, ["FVG"], fvg_require_middle_color=True)) == 1

    def test_min_gap_is_strict(self) -> None:
        assert run(BULL_GAP, ["FVG"], fvg_min_gap=0.5).empty
        assert len(run(BULL_GAP, ["FVG"], fvg_min_gap=0.49)) == 1

    def test_max_age_expires_a_gap(self) -> None:
        rows = [*BULL_GAP, (13.5, 14, 12, 13.5, 1), (13.5, 14, 12, 13.5, 1), (13.5, 14, 11, 12, 1)]
        assert len(run(rows, ["FVG_MITIGATED"])) == 1
        assert run(rows, ["FVG_MITIGATED"], fvg_max_age_bars=2).empty

    def test_full_pool_evicts_the_oldest_gap(self) -> None:
        rows = [
            *BULL_GAP,
            (13.5, 16, 13.4, 15.8, 1),
            (15.8, 17, 14.5, 16.5, 1),
            (16.5, 17, 10, 11, 1),
        ]
        assert list(run(rows, ["FVG_FILLED"])["anchor_index"]) == [1, 2, 3]
        ev = run(rows, ["FVG", "FVG_FILLED"], fvg_max_active=1)
        assert list(ev["kind"]) == ["FVG", "FVG", "FVG", "FVG_FILLED"]
        assert ev.iloc[3]["anchor_index"] == ev.iloc[2]["anchor_index"] == 3

    def test_middle_is_displacement_flag(self) -> None:
        calm = [(10, 10.5, 9.5, 10, 1)] * 3
        rows = [*calm, (10, 10.6, 9.9, 10.2, 1), (10.2, 12.1, 10.2, 12, 1), (12, 12.5, 11, 12.3, 1)]
        g = one(run(rows, ["FVG"], atr_period=2), "FVG")
        assert g["middle_is_displacement"] == 1.0
        g0 = one(run(rows, ["FVG"], atr_period=2, displacement_body_atr_mult=5.0), "FVG")
        assert g0["middle_is_displacement"] == 0.0


# ------------------------------------------------------------------------------------ swings
class TestSwings:
    def test_swing_high_and_low_with_lag_right(self) -> None:
        ev = run(
            hl([1, 2, 5, 3, 2, 3, 4], [0.5, 1.5, 4, 1, 0.2, 2, 3]),
            ["SWING_HIGH", "SWING_LOW"],
            swing_left=2,
            swing_right=2,
        )
        sh = one(ev, "SWING_HIGH")
        assert (sh["index"], sh["anchor_index"], sh["level"], sh["direction"]) == (4, 2, 5.0, -1)
        sl = one(ev, "SWING_LOW")
        assert (sl["index"], sl["anchor_index"], sl["level"], sl["direction"]) == (6, 4, 0.2, 1)

    def test_flat_top_gives_one_swing_at_its_first_bar(self) -> None:
        ev = run(hl([1, 2, 5, 5, 2, 1]), ["SWING_HIGH"], swing_left=2, swing_right=2)
        assert list(ev["anchor_index"]) == [2]

    def test_equal_high_on_the_left_is_not_a_swing(self) -> None:
        assert run(hl([5, 2, 5, 3, 2]), ["SWING_HIGH"], swing_left=2, swing_right=2).empty

    def test_needs_a_full_left_window(self) -> None:
        assert run(hl([2, 5, 3, 2, 1]), ["SWING_HIGH"], swing_left=2, swing_right=2).empty

    def test_a_bar_can_be_both(self) -> None:
        ev = run(
            hl([3, 3, 5, 3, 3], [2, 2, 1, 2, 2]),
            ["SWING_HIGH", "SWING_LOW"],
            swing_left=2,
            swing_right=2,
        )
        assert sorted(ev["kind"]) == ["SWING_HIGH", "SWING_LOW"] and set(ev["anchor_index"]) == {2}


# ------------------------------------------------------------------------------------ structure
# (open, high, low, close, volume); swings 2/2: SH at 2 (12) confirmed at 4, SL at 4 (10)
STRUCT = [
    (9.5, 10, 9, 9.5, 1),
    (10.5, 11, 10, 10.5, 1),
    (11.5, 12, 11, 11.5, 1),
    (11, 11.5, 10.5, 11, 1),
    (10.8, 11, 10, 10.2, 1),  # bearish candle: the bullish breaker zone [10, 11]
    (11, 11.8, 10.5, 11.7, 1),
    (11.7, 12.5, 11, 12.4, 1),  # close 12.4 > 12: first break = BOS up
    (12.4, 12.6, 12, 12.5, 1),
    (12.5, 12.6, 10.9, 11.5, 1),  # trades into [10, 11] and closes above: BREAKER up
    (11, 11, 9.5, 9.8, 1),  # close 9.8 < 10 against bias +1: CHOCH down
]
S22 = {"swing_left": 2, "swing_right": 2}


class TestStructure:
    def test_bos_then_choch(self) -> None:
        ev = run(STRUCT, ["BOS", "CHOCH"], **S22)
        bos, choch = ev.iloc[0], ev.iloc[1]
        assert (bos["kind"], bos["index"], bos["anchor_index"], bos["direction"]) == (
            "BOS",
            6,
            2,
            1,
        )
        assert (bos["level"], bos["entry"], bos["stop"], bos["tag"]) == (12.0, 12.4, 10.0, "BOS")
        assert bos["target"] == pytest.approx(12.4 + 2 * 2.4)
        assert (choch["kind"], choch["index"], choch["anchor_index"], choch["direction"]) == (
            "CHOCH",
            9,
            4,
            -1,
        )
        assert (choch["level"], choch["stop"]) == (10.0, 12.6)

    def test_bias_per_bar(self) -> None:
        bars = bars_from_rows(STRUCT, freq="1D")
        arrs = [bars.index.as_unit("ns").asi8] + [
            bars[c].to_numpy() for c in ("open", "high", "low", "close", "volume")
        ]
        cfg = AlgorithmConfig().with_overrides({f"signals.{k}": v for k, v in S22.items()})
        _, bias = detect_arrays(*arrs, cfg)
        assert bias.tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, -1]

    def test_wick_mode_breaks_on_the_high(self) -> None:
        rows = [*STRUCT[:6], (11.7, 12.2, 11, 11.9, 1)]
        assert run(rows, ["BOS"], **S22).empty
        assert one(run(rows, ["BOS"], break_on="wick", **S22), "BOS")["index"] == 6

    def test_mss_is_a_choch_on_a_displacement_bar(self) -> None:
        ev = run(
            STRUCT,
            ["MSS", "CHOCH", "DISPLACEMENT"],
            atr_period=1,
            displacement_body_atr_mult=0.5,
            **S22,
        )
        m = one(ev, "MSS")
        c = one(ev, "CHOCH")
        assert (m["index"], m["direction"], m["level"], m["stop"]) == (9, -1, c["level"], c["stop"])
        assert run(STRUCT, ["MSS"], **S22).empty  # no displacement with the default yardstick

    def test_breaker_retest_of_the_last_opposite_candle(self) -> None:
        r = one(run(STRUCT, ["BREAKER"], **S22), "BREAKER")
        assert (r["index"], r["anchor_index"], r["direction"]) == (8, 4, 1)
        assert (r["top"], r["bottom"], r["entry"], r["stop"]) == (11.0, 10.0, 11.5, 10.0)

    def test_breaker_zone_expires(self) -> None:
        assert run(STRUCT, ["BREAKER"], breaker_max_age_bars=1, **S22).empty


def mirror(rows: Sequence[Sequence[float]], k: float = 30.0) -> list[tuple[float, ...]]:
    """Reflect prices through ``k / 2``: highs become lows, bullish becomes bearish."""
    return [(k - o, k - lo, k - h, k - c, *rest) for o, h, lo, c, *rest in rows]


class TestMirroredStructure:
    """The bearish/bullish counterparts of the structure fixtures, by price reflection."""

    def test_bos_choch_breaker_mss_flip_direction(self) -> None:
        kinds = ["BOS", "CHOCH", "MSS", "BREAKER", "SWING_HIGH", "SWING_LOW"]
        cfg = {"atr_period": 1, "displacement_body_atr_mult": 0.5, **S22}
        up = run(STRUCT, kinds, **cfg)
        dn = run(mirror(STRUCT), kinds, **cfg)
        swap = {"SWING_HIGH": "SWING_LOW", "SWING_LOW": "SWING_HIGH"}
        key_up = sorted(
            (swap.get(k, k), i, a, -d)
            for k, i, a, d in zip(
                up["kind"], up["index"], up["anchor_index"], up["direction"], strict=True
            )
        )
        key_dn = sorted(
            zip(dn["kind"], dn["index"], dn["anchor_index"], dn["direction"], strict=True)
        )
        assert key_up == key_dn
        b = one(dn, "BREAKER")
        assert (b["direction"], b["top"], b["bottom"], b["stop"]) == (-1, 20.0, 19.0, 20.0)
        np.testing.assert_allclose(
            dn["level"].dropna().to_numpy(), 30 - up["level"].dropna().to_numpy()
        )


# ------------------------------------------------------------------------------------ sweeps
class TestSwingSweeps:
    def test_bearish_sweep_of_a_swing_high(self) -> None:
        rows = [*STRUCT[:5], (11, 12.3, 10.5, 11.7, 1)]
        r = one(run(rows, ["SWEEP_HIGH"], **S22), "SWEEP_HIGH")
        assert (r["index"], r["anchor_index"], r["direction"], r["tag"]) == (5, 5, -1, "SWING")
        assert (r["level"], r["extreme"], r["n_levels"], r["entry"], r["stop"]) == (
            12.0,
            12.3,
            1,
            11.7,
            12.3,
        )

    def test_breakout_consumes_the_level_without_an_event(self) -> None:
        rows = [*STRUCT[:5], (11, 12.3, 10.5, 12.2, 1), (12.2, 12.4, 11.5, 11.8, 1)]
        assert run(rows, ["SWEEP_HIGH"], **S22).empty

    def test_equal_high_does_not_take_the_level(self) -> None:
        rows = [*STRUCT[:5], (11, 12, 10.5, 11.7, 1)]
        assert run(rows, ["SWEEP_HIGH"], **S22).empty

    def test_two_levels_taken_at_once_and_equal_levels_flag(self) -> None:
        highs = [1, 2, 5, 3, 2, 3, 4.99, 3, 2, 1.5, 5.2]
        rows = hl(highs)
        rows[-1] = (4.5, 5.2, 4.0, 4.5, 100.0)
        r = one(run(rows, ["SWEEP_HIGH"], **S22), "SWEEP_HIGH")  # ATR undefined: no band
        assert (r["level"], r["n_levels"], r["equal_levels"]) == (5.0, 2, 0.0)
        r = one(run(rows, ["SWEEP_HIGH"], atr_period=2, **S22), "SWEEP_HIGH")
        assert r["equal_levels"] == 1.0  # 5.0 and 4.99 within 0.1 ATR
        r = one(
            run(rows, ["SWEEP_HIGH"], atr_period=2, sweep_equal_levels_atr=0.001, **S22),
            "SWEEP_HIGH",
        )
        assert r["equal_levels"] == 0.0

    def test_bullish_sweep_of_a_swing_low(self) -> None:
        lows = [5, 4, 1, 3, 4, 3, 0.9]
        rows = hl([lo + 1 for lo in lows], lows)
        rows[-1] = (2.5, 3.0, 0.9, 2.0, 100.0)
        r = one(run(rows, ["SWEEP_LOW"], **S22), "SWEEP_LOW")
        assert (r["direction"], r["level"], r["extreme"], r["stop"]) == (1, 1.0, 0.9, 0.9)

    def test_max_age(self) -> None:
        rows = [*STRUCT[:5], (11, 11.5, 10.5, 11, 1), (11, 12.3, 10.5, 11.7, 1)]
        assert len(run(rows, ["SWEEP_HIGH"], **S22)) == 1
        assert run(rows, ["SWEEP_HIGH"], sweep_max_age_bars=3, **S22).empty


def _hourly(day_rows: dict[str, list[tuple[float, ...]]]) -> pd.DataFrame:
    idx, rows = [], []
    for day, rs in day_rows.items():
        for i, r in enumerate(rs):
            idx.append(pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=i))
            rows.append(r)
    return bars_from_rows(rows, index=idx)


FLAT = (100, 101, 99, 100, 1)


class TestPriorDaySweeps:
    def test_pdh_sweep_pdl_sweep_and_one_take_per_day(self) -> None:
        bars = _hourly(
            {
                "2024-01-05": [FLAT, (100, 105, 99, 104, 1), (104, 104, 95, 96, 1)],  # Friday
                "2024-01-08": [
                    (100, 106, 99, 104, 1),
                    (104, 107, 103, 106.5, 1),  # Monday
                    (100, 101, 94, 96, 1),
                ],
            }
        )
        ev = detect(bars, kinds=["SWEEP_HIGH", "SWEEP_LOW"], timeframe="1h")
        pd_ev = ev[ev["tag"] == "PRIOR_DAY"]
        assert list(pd_ev["kind"]) == ["SWEEP_HIGH", "SWEEP_LOW"]
        assert list(pd_ev["index"]) == [3, 5]
        assert list(pd_ev["level"]) == [105.0, 95.0]
        assert list(pd_ev["extreme"]) == [106.0, 94.0]

    def test_breakout_consumes_without_event(self) -> None:
        bars = _hourly(
            {
                "2024-01-02": [FLAT],
                "2024-01-03": [(100, 102, 99, 101.5, 1), (101, 101.8, 100, 100.5, 1)],
            }
        )
        ev = detect(bars, kinds=["SWEEP_HIGH"], timeframe="1h")
        assert ev.empty

    def test_daily_bars_have_no_prior_day_sweeps(self) -> None:
        ev = run([FLAT, (100, 102, 99, 100.5, 1)], ["SWEEP_HIGH"], freq="1D")
        assert ev.empty

    def test_day_offset_moves_the_day_boundary(self) -> None:
        idx = ["2024-01-02 20:00", "2024-01-02 23:00", "2024-01-03 01:00"]
        rows = [FLAT, (100, 101.5, 99.5, 100, 1), (100, 102, 99.5, 100, 1)]
        bars = bars_from_rows(rows, index=idx)
        r = one(detect(bars, kinds=["SWEEP_HIGH"], timeframe="1h"), "SWEEP_HIGH")
        assert (r["index"], r["level"]) == (2, 101.5)
        cfg = AlgorithmConfig().with_overrides({"signals.day_offset_hours": 2.0})
        r = one(detect(bars, cfg, kinds=["SWEEP_HIGH"], timeframe="1h"), "SWEEP_HIGH")
        assert (r["index"], r["level"]) == (1, 101.0)


# ------------------------------------------------------------------------------------ candles
CALM = [(10, 10.5, 9.5, 10, 100)] * 20


class TestDisplacement:
    def test_both_directions_use_the_previous_atr(self) -> None:
        up = one(run([*CALM, (10, 11.6, 9.9, 11.5, 100)], ["DISPLACEMENT"]), "DISPLACEMENT")
        assert (up["index"], up["anchor_index"], up["direction"], up["entry"], up["stop"]) == (
            20,
            20,
            1,
            11.5,
            9.9,
        )
        assert up["atr"] == pytest.approx(1.0) and up["size"] == pytest.approx(1.5)
        dn = one(run([*CALM, (10, 10.1, 8.4, 8.5, 100)], ["DISPLACEMENT"]), "DISPLACEMENT")
        assert (dn["direction"], dn["stop"]) == (-1, 10.1)

    def test_small_body_ratio_and_doji_do_not_fire(self) -> None:
        assert run([*CALM, (10, 12.6, 9.0, 11.5, 100)], ["DISPLACEMENT"]).empty  # 1.5 / 3.6
        assert run([*CALM, (10, 12, 8, 10, 100)], ["DISPLACEMENT"]).empty

    def test_undefined_atr_does_not_fire(self) -> None:
        assert run([*CALM[:5], (10, 14, 9.9, 13.9, 100)], ["DISPLACEMENT"]).empty


class TestVolumeSurge:
    def test_surge_needs_twice_the_mean_and_a_body(self) -> None:
        up = one(run([*CALM, (10, 10.6, 9.9, 10.5, 200)], ["VOLUME_SURGE"]), "VOLUME_SURGE")
        assert (up["index"], up["direction"], up["ratio"], up["stop"]) == (20, 1, 2.0, 9.9)
        assert run([*CALM, (10, 10.6, 9.9, 10.5, 199)], ["VOLUME_SURGE"]).empty
        assert run([*CALM, (10, 11, 9, 10.1, 500)], ["VOLUME_SURGE"]).empty  # body 0.1 of 2
        dn = one(run([*CALM, (10, 10.1, 9.4, 9.5, 300)], ["VOLUME_SURGE"]), "VOLUME_SURGE")
        assert dn["direction"] == -1

    def test_zero_volume_window_never_fires(self) -> None:
        zero = [(10, 10.5, 9.5, 10, 0)] * 20
        assert run([*zero, (10, 10.6, 9.9, 10.5, 1000)], ["VOLUME_SURGE"]).empty

    def test_needs_a_full_window(self) -> None:
        assert run([*CALM[:19], (10, 10.6, 9.9, 10.5, 1000)], ["VOLUME_SURGE"]).empty


class TestORB:
    def _session(self, tail: list[tuple[float, ...]]) -> pd.DataFrame:
        rng = [(100, 101, 99, 100, 1)] * 15  # 14:30-14:44 UTC = the first 15 minutes
        return run([*rng, *tail], ["ORB"], freq="1min", start="2024-01-02 14:30")

    def test_one_break_per_direction(self) -> None:
        ev = self._session(
            [
                (100, 100.8, 99.5, 100.5, 1),
                (100.5, 101.6, 100.4, 101.5, 1),
                (101.5, 101.9, 101, 101.8, 1),
                (100, 100.2, 98, 98.5, 1),
                (98.5, 102, 98, 101.9, 1),
            ]
        )
        assert list(ev["direction"]) == [1, -1] and list(ev["index"]) == [16, 18]
        up = ev.iloc[0]
        assert (up["entry"], up["stop"], up["top"], up["bottom"]) == (101.5, 99.0, 101.0, 99.0)

    def test_no_orb_outside_the_session_or_on_daily_bars(self) -> None:
        pre = run(
            [(100, 101, 99, 100, 1)] * 20 + [(100, 103, 100, 102.5, 1)],
            ["ORB"],
            freq="1min",
            start="2024-01-02 12:00",
        )
        assert pre.empty
        assert run([(100, 101, 99, 100, 1)] * 3 + [(100, 103, 100, 102.5, 1)], ["ORB"]).empty


# ------------------------------------------------------------------------------------ surface
class TestSurface:
    def test_columns_and_sorting(self) -> None:
        ev = detect(bars_from_rows(STRUCT, freq="1D"))
        assert tuple(ev.columns) == EVENT_COLUMNS
        assert ev["ts"].dt.tz is not None
        key = list(zip(ev["index"], ev["kind"].map(lambda k: EVENT_COLUMNS and k), strict=True))
        assert [k[0] for k in key] == sorted(k[0] for k in key)

    def test_symbol_and_timeframe_columns(self) -> None:
        bars = bars_from_rows(STRUCT, freq="1D")
        ev = detect(bars, symbol="SPY", timeframe="1D")
        assert set(ev["symbol"]) == {"SPY"} and set(ev["timeframe"]) == {"1D"}

    def test_invalid_bars_are_refused(self) -> None:
        bad = bars_from_rows([(10, 9, 11, 10, 1)], validate=False)
        with pytest.raises(DataError):
            detect(bad)
        nan = bars_from_rows([(10, np.nan, 9, 10, 1)], validate=False)
        with pytest.raises(DataError):
            detect(nan)

    def test_unknown_kind_is_a_data_error(self) -> None:
        with pytest.raises(DataError):
            run(STRUCT, ["NOPE"])

    def test_empty_and_tiny_inputs(self) -> None:
        assert run(STRUCT[:1]).empty
        assert tuple(detect(bars_from_rows(STRUCT[:2])).columns) == EVENT_COLUMNS


# ------------------------------------------------------------------------------------ FVG pool
def _reference_fvg(
    h: np.ndarray, low: np.ndarray, cap: int, max_age: int | None
) -> list[tuple[str, int, int]]:
    """Readable model of §3.2 with the documented pool: per bar, expire gaps older than
    ``max_age``, emit mitigations then fills (creation order), then add the new gap,
    evicting the oldest live gap when ``cap`` are live."""
    pool: list[dict[str, Any]] = []
    ev: list[tuple[str, int, int]] = []
    for t in range(len(h)):
        new = None
        if t >= 2 and low[t] > h[t - 2]:
            new = {"d": 1, "top": low[t], "bot": h[t - 2], "a": t - 1, "c": t, "m": False}
        elif t >= 2 and h[t] < low[t - 2]:
            new = {"d": -1, "top": low[t - 2], "bot": h[t], "a": t - 1, "c": t, "m": False}
        if new:
            ev.append(("FVG", t, t - 1))
        if max_age:
            pool = [g for g in pool if t - g["c"] <= max_age]
        for g in pool:
            if not g["m"] and (low[t] <= g["top"] if g["d"] > 0 else h[t] >= g["bot"]):
                g["m"] = True
                ev.append(("FVG_MITIGATED", t, g["a"]))
        keep = []
        for g in pool:
            if low[t] <= g["bot"] if g["d"] > 0 else h[t] >= g["top"]:
                ev.append(("FVG_FILLED", t, g["a"]))
            else:
                keep.append(g)
        pool = keep
        if new:
            if len(pool) >= cap:
                pool.pop(0)
            pool.append(new)
    return ev


class TestFVGPool:
    """The blocked, threshold-skipping pool equals the readable model (eviction, expiry)."""

    @pytest.mark.parametrize(("cap", "max_age"), [(3, None), (20, None), (256, None), (20, 40)])
    def test_kernel_equals_reference(self, cap: int, max_age: int | None) -> None:
        from tradekit.data import datasets

        bars = datasets.synthetic_intraday("SPY", start="2023-05-01", days=15, seed=7)
        cfg = AlgorithmConfig().with_overrides(
            {"signals.fvg_max_active": cap, "signals.fvg_max_age_bars": max_age}
        )
        ev = detect(bars, cfg, ["FVG", "FVG_MITIGATED", "FVG_FILLED"], timeframe="1min")
        got = list(zip(ev["kind"], ev["index"], ev["anchor_index"], strict=True))
        h, low = bars["high"].to_numpy(), bars["low"].to_numpy()
        assert got == _reference_fvg(h, low, cap, max_age)


class TestSortEvents:
    @staticmethod
    def _rows(keys: list[tuple[int, int]]) -> np.ndarray:
        ev = np.full((len(keys), NCOL), np.nan)
        for r, (idx, kind) in enumerate(keys):
            ev[r, COL_INDEX], ev[r, COL_KIND], ev[r, COL_LEVEL] = idx, kind, r
        return ev

    def test_sorted_rows_are_returned_as_is(self) -> None:
        ev = self._rows([(0, 3), (0, 10), (1, 0), (1, 0), (2, 16)])
        assert sort_events(ev) is ev

    def test_unsorted_rows_are_ordered_by_index_then_kind_stably(self) -> None:
        ev = self._rows([(0, 5), (1, 5), (1, 4), (1, 5), (2, 0), (1, 4)])
        out = sort_events(ev)
        assert out[:, COL_LEVEL].tolist() == [0, 2, 5, 1, 3, 4]
