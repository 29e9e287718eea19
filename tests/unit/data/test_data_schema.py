"""validate_bars: every rule of the bar contract, in raise and quarantine mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.data.schema import (
    BAR_COLUMNS,
    RULES,
    bars_to_arrays,
    infer_bar_duration_ns,
    validate_bars,
)
from tradekit.errors import DataError
from tradekit.testing import bars_from_rows

GOOD = (10.0, 11.0, 9.0, 10.5, 100.0)


def frame(rows: list[tuple[float, ...]], times: list[str] | None = None) -> pd.DataFrame:
    if times is None:
        return bars_from_rows(rows, validate=False)
    return bars_from_rows(rows, index=times, validate=False)


BAD_ROWS = {
    "non_finite": (10.0, float("nan"), 9.0, 10.5, 100.0),
    "non_positive_price": (0.0, 11.0, 0.0, 10.5, 100.0),
    "high_lt_low": (10.0, 9.0, 11.0, 10.0, 100.0),
    "open_outside_range": (12.0, 11.0, 9.0, 10.5, 100.0),
    "close_outside_range": (10.0, 11.0, 9.0, 8.5, 100.0),
    "negative_volume": (10.0, 11.0, 9.0, 10.5, -1.0),
}


class TestRowRules:
    @pytest.mark.parametrize("rule", sorted(BAD_ROWS))
    def test_raise_names_row_and_rule(self, rule: str) -> None:
        df = frame([GOOD, GOOD, BAD_ROWS[rule], GOOD])
        with pytest.raises(DataError) as info:
            validate_bars(df)
        assert info.value.row == 2
        assert info.value.rule == rule
        assert "2024-01-02 14:32:00" in str(info.value)

    @pytest.mark.parametrize("rule", sorted(BAD_ROWS))
    def test_quarantine_sets_row_aside(self, rule: str) -> None:
        df = frame([GOOD, GOOD, BAD_ROWS[rule], GOOD])
        clean, bad = validate_bars(df, on_error="quarantine")
        assert len(clean) == 3
        assert bad["reason"].tolist() == [rule]
        assert bad["position"].tolist() == [2]
        assert bad.index[0] == df.index[2]

    def test_inf_is_non_finite(self) -> None:
        df = frame([GOOD, (10.0, float("inf"), 9.0, 10.5, 1.0)])
        with pytest.raises(DataError, match="non_finite"):
            validate_bars(df)

    def test_first_failing_rule_wins(self) -> None:
        # NaN volume and a negative price: non_finite comes first in RULES
        df = frame([(-1.0, 11.0, 9.0, 10.5, float("nan"))])
        _, bad = validate_bars(df, on_error="quarantine")
        assert bad["reason"].tolist() == ["non_finite"]

    def test_future_timestamp_uses_given_now(self) -> None:
        df = frame([GOOD, GOOD, GOOD])
        now = int(df.index[1].value)
        clean, bad = validate_bars(df, on_error="quarantine", now_ns=now)
        assert bad["reason"].tolist() == ["future_timestamp"]
        assert len(clean) == 2
        assert len(validate_bars(df)) == 3  # no clock, no future rule

    def test_nat_timestamp(self) -> None:
        df = frame([GOOD, GOOD], times=["2024-01-02 14:30", "NaT"])
        with pytest.raises(DataError) as info:
            validate_bars(df)
        assert info.value.rule == "nat_timestamp"


class TestOrdering:
    def test_identical_duplicates_dropped_silently_and_counted(self) -> None:
        df = frame(
            [GOOD, GOOD, GOOD], times=["2024-01-02 14:30", "2024-01-02 14:30", "2024-01-02 14:31"]
        )
        out = validate_bars(df)
        assert len(out) == 2
        assert out.attrs["n_duplicates_dropped"] == 1

    def test_conflicting_duplicate_keeps_first(self) -> None:
        other = (10.0, 12.0, 9.0, 11.0, 5.0)
        times = ["2024-01-02 14:30", "2024-01-02 14:30", "2024-01-02 14:31"]
        df = frame([GOOD, other, GOOD], times=times)
        with pytest.raises(DataError) as info:
            validate_bars(df)
        assert (info.value.row, info.value.rule) == (1, "duplicate_conflict")
        clean, bad = validate_bars(df, on_error="quarantine")
        assert clean["high"].tolist() == [11.0, 11.0]
        assert bad["high"].tolist() == [12.0]

    def test_out_of_order_rows(self) -> None:
        times = ["2024-01-02 14:30", "2024-01-02 14:32", "2024-01-02 14:31", "2024-01-02 14:33"]
        df = frame([GOOD] * 4, times=times)
        with pytest.raises(DataError) as info:
            validate_bars(df)
        assert (info.value.row, info.value.rule) == (2, "out_of_order")
        clean, bad = validate_bars(df, on_error="quarantine")
        assert clean.index.is_monotonic_increasing and clean.index.is_unique
        assert bad["position"].tolist() == [2]

    def test_bad_row_does_not_become_order_reference(self) -> None:
        # a NaN row stamped far in the future must not push later good rows out of order
        times = ["2024-01-02 14:30", "2030-01-01", "2024-01-02 14:31"]
        df = frame([GOOD, BAD_ROWS["non_finite"], GOOD], times=times)
        clean, bad = validate_bars(df, on_error="quarantine")
        assert len(clean) == 2
        assert bad["reason"].tolist() == ["non_finite"]


class TestFrameRules:
    def test_naive_index_rejected(self) -> None:
        df = frame([GOOD])
        df.index = df.index.tz_localize(None)
        for mode in ("raise", "quarantine"):
            with pytest.raises(DataError) as info:
                validate_bars(df, on_error=mode)  # type: ignore[call-overload]
            assert info.value.rule == "naive_timestamp"

    def test_non_utc_rejected_unless_converted(self) -> None:
        df = frame([GOOD, GOOD])
        ny = df.tz_convert("America/New_York")
        with pytest.raises(DataError, match="tz_convert") as info:
            validate_bars(ny)
        assert info.value.rule == "non_utc"
        out = validate_bars(ny, convert_tz=True)
        assert out.index.equals(df.index)
        assert str(out.index.tz) == "UTC"

    def test_missing_and_non_numeric_columns(self) -> None:
        df = frame([GOOD])
        with pytest.raises(DataError) as info:
            validate_bars(df.drop(columns="volume"))
        assert info.value.rule == "missing_column"
        bad = df.astype({"open": object})
        bad.loc[bad.index[0], "open"] = "ten"
        with pytest.raises(DataError) as info:
            validate_bars(bad)
        assert info.value.rule == "dtype"

    def test_not_a_datetime_index(self) -> None:
        df = frame([GOOD]).reset_index(drop=True)
        with pytest.raises(DataError) as info:
            validate_bars(df)
        assert info.value.rule == "index_type"

    def test_bad_on_error(self) -> None:
        with pytest.raises(DataError):
            validate_bars(frame([GOOD]), on_error="ignore")  # type: ignore[call-overload]


class TestOutput:
    def test_dtypes_unit_name_and_extra_columns(self) -> None:
        idx = pd.DatetimeIndex(["2024-01-02 14:30", "2024-01-02 14:31"], tz="UTC").as_unit("us")
        df = pd.DataFrame(
            {"open": [1, 2], "high": [2, 3], "low": [1, 1], "close": [2, 2], "volume": [5, 6],
             "note": ["a", "b"]},
            index=idx,
        )  # fmt: skip
        out = validate_bars(df)
        assert list(out.columns[:5]) == list(BAR_COLUMNS)
        assert all(out[c].dtype == np.float64 for c in BAR_COLUMNS)
        assert out.index.unit == "ns" and out.index.name == "ts"
        assert out["note"].tolist() == ["a", "b"]

    def test_input_not_modified(self) -> None:
        df = frame([GOOD, BAD_ROWS["high_lt_low"]])
        before = df.copy()
        validate_bars(df, on_error="quarantine")
        pd.testing.assert_frame_equal(df, before)

    def test_bars_to_arrays(self) -> None:
        df = bars_from_rows([GOOD, GOOD])
        ts, o, h, lo, c, v = bars_to_arrays(df)
        assert ts.dtype == np.int64 and ts[1] - ts[0] == 60_000_000_000
        for a in (o, h, lo, c, v):
            assert a.dtype == np.float64 and a.flags.c_contiguous
        assert h.tolist() == [11.0, 11.0]

    def test_infer_duration(self) -> None:
        minute = 60_000_000_000
        ts = np.array([0, 1, 2, 3, 10, 11, 12], dtype=np.int64) * minute
        assert infer_bar_duration_ns(ts) == minute
        with pytest.raises(DataError):
            infer_bar_duration_ns(np.array([5], dtype=np.int64))


row_strategy = st.tuples(
    st.sampled_from([1.0, 2.0, 3.0, -1.0, 0.0, float("nan")]),
    st.sampled_from([1.0, 2.0, 3.0, float("inf")]),
    st.sampled_from([0.5, 1.0, 2.0, 3.5]),
    st.sampled_from([1.0, 2.0, 3.0]),
    st.sampled_from([0.0, 10.0, -5.0]),
    st.integers(0, 6),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=30))
def test_quarantine_partition_and_contract(rows: list[tuple[float, ...]]) -> None:
    base = pd.Timestamp("2024-01-02 14:30", tz="UTC")
    times = [base + pd.Timedelta(minutes=r[5]) for r in rows]
    df = frame([r[:5] for r in rows], times=[str(t.tz_localize(None)) for t in times])
    clean, bad = validate_bars(df, on_error="quarantine")
    # every input row is clean, quarantined or a counted exact duplicate
    assert len(clean) + len(bad) + clean.attrs["n_duplicates_dropped"] == len(df)
    assert set(bad["reason"]) <= set(RULES)
    # the clean part satisfies the contract: re-validating raises nothing and changes nothing
    again = validate_bars(clean)
    pd.testing.assert_frame_equal(again, clean)
    assert clean.index.is_monotonic_increasing and clean.index.is_unique
    if len(bad):
        with pytest.raises(DataError) as info:
            validate_bars(df)
        assert info.value.row == int(bad["position"].min())
