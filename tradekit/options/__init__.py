"""tradekit.options."""
