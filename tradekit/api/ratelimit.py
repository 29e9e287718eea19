"""Per-token rate limiting: one token bucket per API token.

A bucket holds up to ``burst`` requests and refills at ``rate`` requests per second. A request
takes one unit; when the bucket is empty it is refused and the caller is told how long to wait
(``Retry-After``, whole seconds, at least 1). The kill switch never goes through a bucket: an
operator must always be able to stop the trader.

Examples
--------
>>> t = [0.0]
>>> limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: t[0])
>>> [limiter.acquire("k") for _ in range(3)]
[0.0, 0.0, 1.0]
>>> t[0] = 1.0
>>> limiter.acquire("k")
0.0
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token buckets keyed by an identity (the API token).

    Parameters
    ----------
    rate:
        Refill rate, requests per second (> 0).
    burst:
        Bucket capacity, requests (>= 1): how many may come at once after a quiet spell.
    clock:
        Monotonic seconds (default :func:`time.monotonic`).
    max_keys:
        Buckets kept; the least recently used beyond this are forgotten (full again), which
        bounds memory when many invalid identities are tried.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1024,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of requests/s, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)

    def acquire(self, key: str) -> float:
        """Take one request from ``key``'s bucket.

        Returns
        -------
        float
            ``0.0`` when allowed; otherwise the seconds until one request is available.
        """
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)  # re-inserted: most recently used last
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        if len(self._buckets) > self._max_keys:
            del self._buckets[next(iter(self._buckets))]
        return wait

    @staticmethod
    def retry_after(wait_s: float) -> int:
        """The ``Retry-After`` header value (whole seconds, >= 1) of a refusal."""
        return max(1, math.ceil(wait_s))
