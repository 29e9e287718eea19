"""Cross-check of the FVG detector with smartmoneyconcepts (SIGNALS.md §6.3) on EURUSD hourly."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.data import datasets
from tradekit.signals.detectors import detect

pytest.importorskip("backtesting")


@pytest.fixture(scope="module")
def eurusd() -> pd.DataFrame:
    return datasets.eurusd_hourly()


@pytest.fixture(scope="module")
def smc_fvg(eurusd: pd.DataFrame) -> pd.DataFrame:
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a banner on import
        smc_mod = pytest.importorskip("smartmoneyconcepts")
    ohlc = eurusd[["open", "high", "low", "close", "volume"]].reset_index(drop=True)
    out = smc_mod.smc.fvg(ohlc)
    return out[out["FVG"].notna()]


def _ours(bars: pd.DataFrame, colour: bool) -> pd.DataFrame:
    cfg = AlgorithmConfig().with_overrides({"signals.fvg_require_middle_color": colour})
    ev = detect(bars, cfg, ["FVG", "FVG_MITIGATED"], timeframe="1h")
    gaps = ev[ev["kind"] == "FVG"].set_index("anchor_index")
    mit = ev[ev["kind"] == "FVG_MITIGATED"].set_index("anchor_index")["index"]
    gaps = gaps.assign(mitigated=mit.reindex(gaps.index).fillna(0).astype(np.int64))
    assert (gaps["index"] == gaps.index + 1).all()  # emitted one bar after smc's row
    return gaps


class TestSmcCrossCheck:
    def test_with_middle_colour_the_sets_are_identical(
        self, eurusd: pd.DataFrame, smc_fvg: pd.DataFrame
    ) -> None:
        ours = _ours(eurusd, colour=True)
        assert len(smc_fvg) > 100
        assert list(ours.index) == list(smc_fvg.index)
        np.testing.assert_array_equal(ours["direction"].to_numpy(), smc_fvg["FVG"].to_numpy())
        np.testing.assert_array_equal(ours["top"].to_numpy(), smc_fvg["Top"].to_numpy())
        np.testing.assert_array_equal(ours["bottom"].to_numpy(), smc_fvg["Bottom"].to_numpy())
        np.testing.assert_array_equal(
            ours["mitigated"].to_numpy(), smc_fvg["MitigatedIndex"].to_numpy().astype(np.int64)
        )
        assert (ours["mitigated"] == 0).any() and (ours["mitigated"] > 0).any()

    def test_default_is_a_superset_whose_extras_have_a_counter_coloured_middle(
        self, eurusd: pd.DataFrame, smc_fvg: pd.DataFrame
    ) -> None:
        ours = _ours(eurusd, colour=False)
        extra = ours.index.difference(smc_fvg.index)
        assert set(smc_fvg.index) <= set(ours.index) and len(extra) > 0
        o = eurusd["open"].to_numpy()[extra]
        c = eurusd["close"].to_numpy()[extra]
        d = ours.loc[extra, "direction"].to_numpy()
        assert np.all(d * (c - o) <= 0)  # coloured against the gap, or a doji
