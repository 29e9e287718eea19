"""tradekit.execution.models."""
