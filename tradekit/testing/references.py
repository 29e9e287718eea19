"""Plain NumPy formulations that kernel tests compare the numba kernels against.

* :func:`hash_uniform_numpy`: the splitmix64 finaliser of
  :func:`tradekit.options.nb.hash_uniform_nb` (per-contract sizes of synthetic chains), written
  with wrapping uint64 array arithmetic.
"""

from __future__ import annotations

import numpy as np

from tradekit._typing import FloatArray

__all__ = ["hash_uniform_numpy"]


def hash_uniform_numpy(seed: int, *cols: np.ndarray) -> FloatArray:
    """Uniforms in [0, 1) from integer columns, one splitmix64 round per column, seeded by
    ``seed`` (taken modulo 2**64)."""
    h = np.full(len(cols[0]), np.uint64(seed & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in cols:
            h ^= c.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6))
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
    out: FloatArray = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out
