"""Shared type aliases (the ``tp`` of vectorbt): import these instead of re-spelling them."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ArrayLike: TypeAlias = npt.ArrayLike
#: Nanoseconds since the Unix epoch, UTC. Every timestamp inside tradekit is one of these.
TimestampNs: TypeAlias = int
FloatOrArray: TypeAlias = "float | FloatArray"
