"""tradekit.data."""
