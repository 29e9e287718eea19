"""Sources: load_bars normalisation (CSV/Parquet/DuckDB), providers, yfinance adapter."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tradekit.core.clock import SimClock
from tradekit.data.sources import (
    DataFrameProvider,
    FileProvider,
    MarketDataProvider,
    YFinanceProvider,
    load_bars,
    recorded_fetch,
)
from tradekit.errors import ConfigError, DataError
from tradekit.testing import bars_from_rows

FIXTURES = Path(__file__).parent / "fixtures"
ROWS = [(10, 11, 9, 10.5, 100), (10.5, 12, 10, 11.5, 200), (11.5, 12, 11, 11.8, 150)]


def _ns(s: str) -> int:
    return int(pd.Timestamp(s, tz="UTC").value)


class TestLoadBars:
    def test_csv_with_yahoo_style_columns_and_offsets(self, tmp_path: Path) -> None:
        p = tmp_path / "spy.csv"
        p.write_text(
            "Datetime,Open,High,Low,Close,Adj Close,Volume\n"
            "2024-01-02 09:30:00-05:00,10,11,9,10.5,10.4,100\n"
            "2024-01-02 09:31:00-05:00,10.5,12,10,11.5,11.4,200\n"
        )
        df = load_bars(p)
        assert list(df.columns) == ["open", "high", "low", "close", "volume", "adj_close"]
        assert df.index[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")
        assert df.index.name == "ts" and str(df.index.tz) == "UTC"

    @pytest.mark.parametrize(
        "header",
        ["date,open,high,low,close,volume", "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME",
         "Date,Open,High,Low,Close,Volume", "timestamp,o,h,l,c,v"],
    )  # fmt: skip
    def test_daily_date_only_stamped_at_session_open(self, tmp_path: Path, header: str) -> None:
        p = tmp_path / "d.csv"
        p.write_text(header + "\n2024-07-03,10,11,9,10.5,1\n2024-07-05,10.5,12,10,11.5,2\n")
        df = load_bars(p)
        assert df.index.tolist() == [
            pd.Timestamp("2024-07-03 13:30", tz="UTC"),  # 09:30 EDT
            pd.Timestamp("2024-07-05 13:30", tz="UTC"),
        ]

    def test_naive_intraday_needs_tz(self, tmp_path: Path) -> None:
        p = tmp_path / "n.csv"
        p.write_text("time,open,high,low,close\n2024-01-02 09:30,10,11,9,10.5\n")
        with pytest.raises(DataError, match="tz=") as info:
            load_bars(p)
        assert info.value.rule == "naive_timestamp"
        df = load_bars(p, tz="America/New_York")
        assert df.index[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")
        assert df["volume"].tolist() == [0.0]  # missing volume filled

    def test_epoch_ints(self, tmp_path: Path) -> None:
        p = tmp_path / "e.csv"
        secs = _ns("2024-01-02 14:30") // 10**9
        p.write_text(
            f"ts,open,high,low,close,volume\n{secs},10,11,9,10.5,1\n{secs + 60},10,11,9,10,1\n"
        )
        df = load_bars(p)
        assert df.index[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")

    def test_parquet_with_index(self, tmp_path: Path) -> None:
        bars = bars_from_rows(ROWS)
        bars.rename(columns=str.title).to_parquet(tmp_path / "b.parquet")
        pd.testing.assert_frame_equal(
            load_bars(tmp_path / "b.parquet"), bars, check_freq=False, check_like=False
        )

    def test_duckdb_table_and_query(self, tmp_path: Path) -> None:
        db = tmp_path / "bars.duckdb"
        frame = bars_from_rows(ROWS).reset_index()
        frame.insert(0, "symbol", ["SPY", "QQQ", "SPY"])
        con = duckdb.connect(str(db))
        con.execute("CREATE TABLE bars AS SELECT * FROM frame")
        con.close()
        spy = load_bars(db, symbol="SPY")
        assert spy["close"].tolist() == [10.5, 11.8]
        q = load_bars(db, query="SELECT * FROM bars WHERE symbol = 'QQQ'")
        assert q["close"].tolist() == [11.5]
        with pytest.raises(DataError, match="symbol"):
            load_bars(db)  # two symbols, none chosen

    def test_bad_rows_raise_or_quarantine(self, tmp_path: Path) -> None:
        p = tmp_path / "bad.csv"
        p.write_text(
            "date,open,high,low,close,volume\n"
            "2024-01-02,10,11,9,10.5,1\n2024-01-03,10,9,11,10,1\n2024-01-04,10,11,9,10.5,1\n"
        )
        with pytest.raises(DataError) as info:
            load_bars(p)
        assert (info.value.row, info.value.rule) == (1, "high_lt_low")
        clean = load_bars(p, on_error="quarantine")
        assert len(clean) == 2
        assert clean.attrs["quarantine"]["reason"].tolist() == ["high_lt_low"]

    def test_unsupported_and_missing(self, tmp_path: Path) -> None:
        with pytest.raises(DataError):
            load_bars(tmp_path / "nope.csv")
        (tmp_path / "x.json").write_text("{}")
        with pytest.raises(DataError, match="unsupported"):
            load_bars(tmp_path / "x.json")
        (tmp_path / "nc.csv").write_text("date,open,high,low\n2024-01-02,1,2,0.5\n")
        with pytest.raises(DataError, match="close"):
            load_bars(tmp_path / "nc.csv")


class TestProviders:
    def test_dataframe_provider_history_and_latest(self) -> None:
        bars = bars_from_rows(ROWS)
        p = DataFrameProvider({"SPY": bars})
        assert isinstance(p, MarketDataProvider)
        h = p.history("SPY", start="2024-01-02 14:31")
        assert len(h) == 2
        last = p.latest("SPY")
        assert last is not None and last.close == 11.8 and last.symbol == "SPY"
        with pytest.raises(DataError):
            p.history("QQQ")

    def test_dataframe_provider_with_clock_hides_unclosed_bars(self) -> None:
        clock = SimClock(_ns("2024-01-02 14:31:30"))
        p = DataFrameProvider({"SPY": bars_from_rows(ROWS)}, clock=clock)
        assert len(p.history("SPY")) == 1  # 14:30 closed at 14:31; 14:31 still forming
        bar = p.latest("SPY")
        assert bar is not None and bar.ts_ns == _ns("2024-01-02 14:30")
        clock.set_time(_ns("2024-01-02 14:33"))
        assert len(p.history("SPY")) == 3
        p2 = DataFrameProvider(
            {"SPY": bars_from_rows(ROWS)}, clock=SimClock(_ns("2024-01-02 14:29"))
        )
        assert p2.latest("SPY") is None

    def test_history_resamples(self) -> None:
        minutes = bars_from_rows([ROWS[0]] * 120, start="2024-01-02 14:30")
        p = DataFrameProvider({"SPY": minutes})
        h = p.history("SPY", timeframe="1h")
        assert len(h) == 2 and list(h.columns) == ["open", "high", "low", "close", "volume"]

    def test_file_provider_directory(self, tmp_path: Path) -> None:
        bars_from_rows(ROWS).to_parquet(tmp_path / "SPY.parquet")
        p = FileProvider(tmp_path)
        assert len(p.history("SPY")) == 3
        assert p.latest("SPY") is not None
        with pytest.raises(DataError):
            p.history("QQQ")
        q = FileProvider({"X": tmp_path / "SPY.parquet"})
        assert q.history("X", end="2024-01-02 14:31").shape[0] == 1


def _recorded(name: str) -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / name, index_col=0)
    idx = pd.DatetimeIndex(pd.to_datetime(df.index, utc=True)).tz_convert("America/New_York")
    df.index = idx.rename(df.index.name)
    return df


class TestYFinance:
    def _provider(self, tf: str, now: str) -> YFinanceProvider:
        fetch = recorded_fetch(
            {("SPY", "1d"): _recorded("yf_spy_1d.csv"), ("SPY", "1m"): _recorded("yf_spy_1m.csv")}
        )
        return YFinanceProvider(tf, fetch=fetch, clock=SimClock(_ns(now)))

    def test_daily_restamped_at_session_open(self) -> None:
        df = self._provider("1D", "2024-12-05").history("SPY")
        assert len(df) == 5
        assert df.index[0] == pd.Timestamp("2024-11-26 14:30", tz="UTC")
        assert df.loc["2024-11-29", "close"].iloc[0] == 602.55
        assert "adj_close" not in df.columns

    def test_intraday_drops_forming_bar(self) -> None:
        p = self._provider("1min", "2024-12-03 20:59:30")  # 15:59:30 New York
        df = p.history("SPY")
        assert len(df) == 4
        bar = p.latest("SPY")
        assert bar is not None and bar.ts_ns == _ns("2024-12-03 20:58") and bar.close == 603.85

    def test_errors(self) -> None:
        with pytest.raises(ConfigError):
            YFinanceProvider("3h")
        with pytest.raises(DataError):
            self._provider("1D", "2024-12-05").history("QQQ")


def test_provider_protocol_runtime_check() -> None:
    assert isinstance(YFinanceProvider(fetch=recorded_fetch({})), MarketDataProvider)
    assert isinstance(FileProvider("."), MarketDataProvider)
    assert not isinstance(object(), MarketDataProvider)
