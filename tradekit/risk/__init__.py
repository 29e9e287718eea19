"""tradekit.risk."""
