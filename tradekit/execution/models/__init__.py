"""Pluggable execution models: slippage, commission and fills (STYLE.md §C).

Each family has a one-method Protocol, small frozen dataclass implementations, a shorthand
coercion (:func:`as_slippage`, :func:`as_commission`) and a registry resolving
``{"kind": ...}`` configs.
"""

from tradekit.execution.models.commission import (
    CommissionModel,
    FixedPlusPercentCommission,
    FunctionCommission,
    NoCommission,
    PercentCommission,
    PerContractCommission,
    PerShareCommission,
    as_commission,
)
from tradekit.execution.models.fill import BarPathFillModel, FillModel, FillResult
from tradekit.execution.models.registry import (
    COMMISSION_MODELS,
    FILL_MODELS,
    SLIPPAGE_MODELS,
    Registry,
)
from tradekit.execution.models.slippage import (
    FixedBpsSlippage,
    FunctionSlippage,
    HalfSpreadSlippage,
    NoSlippage,
    SlippageModel,
    VolumeSlippage,
    as_slippage,
)

__all__ = [
    "COMMISSION_MODELS",
    "FILL_MODELS",
    "SLIPPAGE_MODELS",
    "BarPathFillModel",
    "CommissionModel",
    "FillModel",
    "FillResult",
    "FixedBpsSlippage",
    "FixedPlusPercentCommission",
    "FunctionCommission",
    "FunctionSlippage",
    "HalfSpreadSlippage",
    "NoCommission",
    "NoSlippage",
    "PerContractCommission",
    "PerShareCommission",
    "PercentCommission",
    "Registry",
    "SlippageModel",
    "VolumeSlippage",
    "as_commission",
    "as_slippage",
]
