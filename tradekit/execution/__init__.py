"""Paper execution: orders, fill/slippage/commission models, the paper broker and exit plans."""

from tradekit.execution.base import Quote, QuoteSource
from tradekit.execution.broker import PaperBroker
from tradekit.execution.exits import ExitPlan
from tradekit.execution.orders import (
    OrderRequest,
    OrderState,
    order_id_for,
    order_request_from_decision,
    validate_request,
)

__all__ = [
    "ExitPlan",
    "OrderRequest",
    "OrderState",
    "PaperBroker",
    "Quote",
    "QuoteSource",
    "order_id_for",
    "order_request_from_decision",
    "validate_request",
]
