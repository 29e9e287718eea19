"""tradekit.runtime."""
