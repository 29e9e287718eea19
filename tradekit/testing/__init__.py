"""tradekit.testing."""
