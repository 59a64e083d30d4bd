"""Deterministic, vectorised random streams.

Every draw names its stream (``"persons:gender"``); the stream's initializer is
a hash of (seed, name), so adding a draw somewhere never shifts the values of
another.  Uniforms come from Arrow's seeded generator (``pyarrow.compute.random``),
which keeps the generator free of a numpy dependency.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import polars as pl
import pyarrow.compute as pc


class Rng:
    """Named random streams for one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _initializer(self, stream: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}:{stream}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 1

    def py(self, stream: str) -> random.Random:
        """A scalar generator for per-plant code."""
        return random.Random(self._initializer(stream))

    def uniform(self, stream: str, n: int) -> pl.Series:
        """n floats in [0, 1)."""
        if n == 0:
            return pl.Series(stream, [], dtype=pl.Float64)
        return pl.Series(stream, pc.random(n, initializer=self._initializer(stream)))

    def integers(self, stream: str, n: int, low: int, high: int) -> pl.Series:
        """n integers in [low, high) as Int64."""
        u = self.uniform(stream, n)
        return ((u * (high - low)).floor().cast(pl.Int64) + low).clip(low, high - 1).rename(stream)

    def choice(self, stream: str, n: int, values: Sequence, weights: Sequence[float] | None = None) -> pl.Series:
        """n picks from values (optionally weighted)."""
        values = list(values)
        if weights is None:
            weights = [1.0] * len(values)
        total = float(sum(weights))
        cuts, acc = [], 0.0
        for w in weights[:-1]:
            acc += w / total
            cuts.append(acc)
        u = self.uniform(stream, n)
        idx = pl.Series(cuts, dtype=pl.Float64).search_sorted(u, side="right")
        return pl.Series(values).gather(idx).rename(stream)
