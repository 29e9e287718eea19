"""The engines against the real MarketDataService (the MarketView protocol seam)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.enums import DecisionAction
from tradekit.core.events import Setup
from tradekit.data.calendar import get_calendar
from tradekit.data.market import MarketDataService
from tradekit.decision import DecisionEngine, MarketView, OptionsDecisionEngine, OptionsMarketView
from tradekit.options.chain import SyntheticChainProvider
from tradekit.testing import StaticAccount

TS = int(pd.Timestamp("2024-01-08 10:00", tz="America/New_York").value)


def vix_series() -> pd.Series:
    days = get_calendar("XNYS").sessions("2023-01-03", "2024-01-05").index
    idx = pd.DatetimeIndex(days).tz_localize("America/New_York") + pd.Timedelta(hours=16)
    level = 18.0 + 6.0 * np.sin(np.arange(len(idx)) / 15.0)
    return pd.Series(level, index=idx.tz_convert("UTC"))


def setup(tf: str) -> Setup:
    return Setup(
        "s" + tf,
        "SPY",
        tf,
        TS,
        0,
        1,
        470.0,
        468.0,
        476.0,
        478.0,
        480.0,
        7.5,
        7.5,
        4,
        ("FVG", "BOS", "VOLUME_SURGE", "CHOCH"),
    )


def test_service_satisfies_the_protocols() -> None:
    svc = MarketDataService(vix=vix_series())
    assert isinstance(svc, MarketView) and isinstance(svc, OptionsMarketView)


def test_vix_from_the_service_at_bar_time() -> None:
    svc = MarketDataService(vix=vix_series())
    eng = DecisionEngine(
        AlgorithmConfig(), account=StaticAccount(), market=svc, calendar=get_calendar("XNYS")
    )
    d = eng.decide(setup("1min"))
    gate = d.gates[1]
    assert gate.passed and gate.observed == svc.vix(TS)
    assert (
        DecisionEngine(
            AlgorithmConfig(),
            account=StaticAccount(),
            market=MarketDataService(),
            calendar=get_calendar("XNYS"),
        )
        .decide(setup("1min"))
        .action
        is DecisionAction.SKIP
    )


def test_options_engine_with_service_chain_and_iv_rank() -> None:
    prov = SyntheticChainProvider(lambda sym, ts: 470.0, 0.15)
    svc = MarketDataService(vix=vix_series(), chain_provider=prov)
    eng = OptionsDecisionEngine(
        AlgorithmConfig(), account=StaticAccount(), market=svc, calendar=get_calendar("XNYS")
    )
    d = eng.decide(setup("1h"))
    ivr = svc.iv_rank("SPY", TS)
    assert ivr is not None and d.score_breakdown["iv_rank"] == ivr
    assert d.legs and d.gates[2].name == "option_quality"


def test_no_chain_provider_denies_cleanly() -> None:
    eng = OptionsDecisionEngine(
        AlgorithmConfig(),
        account=StaticAccount(),
        market=MarketDataService(vix=vix_series()),
        calendar=get_calendar("XNYS"),
    )
    d = eng.decide(setup("1h"))
    assert d.action is DecisionAction.SKIP and "no option chain" in (d.block_reason or "")
