"""tradekit.store."""
