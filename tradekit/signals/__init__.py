"""tradekit.signals."""
