"""tradekit.execution."""
