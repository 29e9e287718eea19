"""tradekit.portfolio."""
