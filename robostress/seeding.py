"""Explicit, derived randomness: every draw comes from (run seed, stable key)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed derived from ``seed`` and any stable keys (ids, names, indices)."""
    h = hashlib.sha256(repr((int(seed),) + tuple(str(k) for k in keys)).encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


def rng(seed: int, *keys: object) -> np.random.Generator:
    """A numpy Generator seeded from ``derive_seed(seed, *keys)``."""
    return np.random.default_rng(derive_seed(seed, *keys))


def latin_draw(values: Sequence[T], index: int, seed: int, *keys: object) -> T:
    """The value of item ``index`` in a seeded Latin-square walk over ``values``: every run of
    ``len(values)`` consecutive indices (aligned to multiples of it) sees each value once."""
    k = len(values)
    block = rng(seed, *keys, "latin", k, index // k).permutation(k)
    return values[int(block[index % k])]
