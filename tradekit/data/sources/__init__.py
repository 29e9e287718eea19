"""tradekit.data.sources."""
