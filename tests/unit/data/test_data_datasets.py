"""Shipped datasets: loading, timestamps at the session open, adjustment, EURUSD."""

from __future__ import annotations

import pandas as pd
import pytest

from tradekit.data import datasets
from tradekit.data.calendar import get_calendar
from tradekit.data.schema import validate_bars
from tradekit.errors import DataError


def test_list_names_all_shipped_files() -> None:
    assert datasets.list() == ["aapl", "aapl_2019", "goog", "ibm", "msft"]


@pytest.mark.parametrize("name", ["aapl", "goog", "ibm", "msft", "aapl_2019"])
def test_load_is_valid_and_stamped_at_session_open(name: str) -> None:
    df = datasets.load(name)
    validate_bars(df)
    opens, _ = get_calendar().session_open_close(df.index.asi8)
    assert (opens == df.index.asi8).all()
    assert df.attrs["synthetic"] is False and df.attrs["dataset"] == name


def test_known_values_and_ranges() -> None:
    raw = datasets.load("aapl", adjusted=False)
    assert len(raw) == 3270
    first = raw.iloc[0]
    assert (first["open"], first["close"]) == (118.56, 130.31)
    assert raw.index[0] == pd.Timestamp("2000-03-01 14:30", tz="UTC")  # 09:30 EST
    summer = raw.loc["2012-07-02"].index[0]
    assert summer == pd.Timestamp("2012-07-02 13:30", tz="UTC")  # 09:30 EDT
    assert len(datasets.load("aapl_2019")) == 1509


def test_adjusted_removes_split_gap() -> None:
    raw = datasets.load("aapl", adjusted=False)["close"]
    adj = datasets.load("aapl")["close"]
    # AAPL split 2:1 on 2005-02-28
    raw_jump = raw.loc["2005-02-28"].iloc[0] / raw.loc["2005-02-25"].iloc[0]
    adj_jump = adj.loc["2005-02-28"].iloc[0] / adj.loc["2005-02-25"].iloc[0]
    assert raw_jump < 0.55
    assert 0.95 < adj_jump < 1.05


def test_info_and_unknown_name() -> None:
    meta = datasets.info("ibm")
    assert meta["rows"] == 3270 and meta["licence"] == "public domain"
    with pytest.raises(DataError):
        datasets.load("nope")


def test_missing_file_is_a_clear_error(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKIT_DATA_DIR", str(tmp_path))
    assert set(datasets.list()) <= {"aapl_2019"}  # read from the installed package, not a file
    with pytest.raises(DataError, match="convert_sample_data"):
        datasets.load("aapl")


def test_eurusd_hourly() -> None:
    pytest.importorskip("backtesting")
    df = datasets.eurusd_hourly()
    assert len(df) == 5000
    assert str(df.index.tz) == "UTC"
    assert df.index[0] == pd.Timestamp("2017-04-19 09:00", tz="UTC")
