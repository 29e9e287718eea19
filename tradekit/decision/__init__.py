"""tradekit.decision."""
