"""tradekit.options: Black-Scholes-Merton pricing, SSVI surfaces, chains and strike selection.

Units everywhere (ARCHITECTURE.md): time to expiry in years (ACT/365), vol as a decimal; the
pricing API returns vega per 1.00 vol and theta per year (:func:`theta_per_day` and
:func:`vega_per_point` convert); chains and structures carry the trader's units (theta per
day, vega per vol point) and structures multiply by the contract multiplier (100).

Examples
--------
>>> from tradekit.options import generate_chain, select_long_option
>>> from tradekit.config import AlgorithmConfig
>>> from tradekit.core.enums import TimeframeClass
>>> chain = generate_chain("SPY", 1_718_721_000_000_000_000, 545.0, 0.14, max_dte=60)
>>> params = AlgorithmConfig().options.classes[TimeframeClass.SWING]
>>> select_long_option(chain, -1, params).kind
'long_put'
"""

from tradekit.options.base import CHAIN_COLUMNS, right_code
from tradekit.options.calendar import ExpirySet, expiry_set, opex_dates, third_friday
from tradekit.options.chain import (
    ChainProvider,
    OptionChain,
    SyntheticChainProvider,
    generate_chain,
    strike_grid,
    tick_sizes,
)
from tradekit.options.pricing import (
    Greeks,
    bsm_price,
    implied_vol,
    price_greeks,
    theta_per_day,
    vega_per_point,
)
from tradekit.options.selection import eligible_rows, select_long_option, select_vertical
from tradekit.options.structures import STRUCTURE_KINDS, Structure, long_option, vertical
from tradekit.options.surface import SSVIParams, SSVISurface
from tradekit.options.volatility import (
    daily_last,
    iv_percentile,
    iv_percentile_last,
    iv_rank,
    iv_rank_last,
    vix_series,
)

__all__ = [
    "CHAIN_COLUMNS",
    "STRUCTURE_KINDS",
    "ChainProvider",
    "ExpirySet",
    "Greeks",
    "OptionChain",
    "SSVIParams",
    "SSVISurface",
    "Structure",
    "SyntheticChainProvider",
    "bsm_price",
    "daily_last",
    "eligible_rows",
    "expiry_set",
    "generate_chain",
    "implied_vol",
    "iv_percentile",
    "iv_percentile_last",
    "iv_rank",
    "iv_rank_last",
    "long_option",
    "opex_dates",
    "price_greeks",
    "right_code",
    "select_long_option",
    "select_vertical",
    "strike_grid",
    "theta_per_day",
    "third_friday",
    "tick_sizes",
    "vega_per_point",
    "vertical",
    "vix_series",
]
