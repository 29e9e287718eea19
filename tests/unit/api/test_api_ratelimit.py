"""Token buckets: burst, refill rate, Retry-After, independent keys, bounded memory."""

from __future__ import annotations

import pytest

from tradekit.api.ratelimit import RateLimiter


def test_burst_then_refill_at_the_rate() -> None:
    t = [0.0]
    lim = RateLimiter(rate=2.0, burst=4, clock=lambda: t[0])
    assert [lim.acquire("a") for _ in range(4)] == [0.0] * 4
    wait = lim.acquire("a")
    assert wait == pytest.approx(0.5)
    assert RateLimiter.retry_after(wait) == 1
    t[0] = 0.5
    assert lim.acquire("a") == 0.0
    assert lim.acquire("a") > 0
    t[0] = 100.0  # refills to the burst, never beyond
    assert [lim.acquire("a") for _ in range(4)] == [0.0] * 4
    assert lim.acquire("a") > 0


def test_keys_are_independent_and_memory_is_bounded() -> None:
    t = [0.0]
    lim = RateLimiter(rate=1.0, burst=1, clock=lambda: t[0], max_keys=3)
    assert lim.acquire("a") == 0.0 and lim.acquire("a") > 0
    assert lim.acquire("b") == 0.0
    for k in "cdefg":
        lim.acquire(k)
    assert len(lim._buckets) == 3


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (float("nan"), 1), (1.0, 0)])
def test_bad_settings(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate, burst)
