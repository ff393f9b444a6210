"""Statistics of robustness: Wilson intervals, a paired (cluster) bootstrap, breaking points and
ImageNet-C corruption error. Pure functions on numbers; no Prediction objects here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from robostress.errors import DataError

Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
_MAX_DRAW_CELLS = 4_000_000  # resamples x distinct clusters drawn per chunk (bounds memory)


class Estimate(NamedTuple):
    """A point estimate with its 95% interval."""

    value: float
    lo: float
    hi: float


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n`` (no continuity correction).

    Args:
        k: successes (may be fractional, e.g. ``accuracy * n``).
        n: trials; ``n == 0`` gives the uninformative interval (0, 1).
        z: normal quantile (1.96 for 95%).
    """
    if n < 0 or k < 0 or k > n + 1e-9:
        raise DataError(f"Wilson interval needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = min(1.0, k / n)
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, clusters: Sequence[object] | None = None,
                     seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> Estimate:
    """Mean of ``b - a`` over pairs with a 95% percentile-bootstrap interval.

    Pairs are resampled with replacement; with ``clusters`` whole clusters are resampled instead
    (pairs that share a clean twin are not independent: its outcome is reused by every stressed
    version). Resampling K clusters uniformly only matters through how often each *distinct*
    (sum of differences, size) cluster is drawn, so with few distinct clusters (0/1 outcomes) the
    draws are multinomial counts over them: exact, and O(resamples x distinct) instead of
    O(resamples x K); with many (continuous scores) cluster indices are resampled directly.

    Args:
        a: outcomes of the reference side (e.g. clean twin correct: 0/1).
        b: outcomes of the other side, same order and length.
        clusters: optional cluster label per pair.
        seed: seed of the numpy Generator.
        resamples: bootstrap resamples.
    """
    x = np.asarray(b, float) - np.asarray(a, float)
    if x.ndim != 1 or len(a) != len(b):
        raise DataError(f"paired bootstrap needs two equal-length 1-D sequences, got {len(a)} and {len(b)}")
    if len(x) == 0:
        raise DataError("paired bootstrap needs at least one pair")
    if not np.isfinite(x).all():
        raise DataError("paired bootstrap got a non-finite outcome")
    if resamples < 1:
        raise DataError(f"resamples must be >= 1, got {resamples}")
    if clusters is None:
        sums, sizes = x, np.ones_like(x)
    else:
        if len(clusters) != len(x):
            raise DataError(f"{len(clusters)} cluster labels for {len(x)} pairs")
        _, inv = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
        sums, sizes = np.bincount(inv, weights=x), np.bincount(inv).astype(float)
    g = np.random.default_rng(seed)
    kinds, mult = np.unique(np.stack([sums, sizes], axis=1), axis=0, return_counts=True)
    means = (_draw_multinomial if len(kinds) * 16 <= len(sums) else _draw_indices)(
        g, sums, sizes, kinds, mult, resamples)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return Estimate(float(x.mean()) + 0.0, float(lo) + 0.0, float(hi) + 0.0)


def _draw_multinomial(g: np.random.Generator, sums: np.ndarray, sizes: np.ndarray, kinds: np.ndarray,
                      mult: np.ndarray, resamples: int) -> np.ndarray:
    """Bootstrap means from multinomial counts over distinct clusters (few distinct kinds)."""
    chunk = max(1, _MAX_DRAW_CELLS // len(kinds))
    out = []
    for start in range(0, resamples, chunk):
        w = g.multinomial(len(sums), mult / mult.sum(), size=min(chunk, resamples - start)).astype(float)
        out.append((w @ kinds[:, 0]) / (w @ kinds[:, 1]))
    return np.concatenate(out)


def _draw_indices(g: np.random.Generator, sums: np.ndarray, sizes: np.ndarray, kinds: np.ndarray,
                  mult: np.ndarray, resamples: int) -> np.ndarray:
    """Bootstrap means from resampled cluster indices (many distinct kinds, e.g. IoU scores)."""
    k = len(sums)
    order = np.lexsort((sizes, sums))  # canonical order: the draw must not depend on input order
    sums, sizes = sums[order], sizes[order]
    chunk = max(1, _MAX_DRAW_CELLS // k)
    out = []
    for start in range(0, resamples, chunk):
        idx = g.integers(0, k, (min(chunk, resamples - start), k))
        out.append(sums[idx].sum(axis=1) / sizes[idx].sum(axis=1))
    return np.concatenate(out)


def breaking_point(severities: Sequence[float], accuracy: Sequence[float], clean: float,
                   chance: float) -> float | None:
    """Severity at which accuracy first falls halfway from ``clean`` to ``chance``.

    The curve starts at (0, clean) and is linearly interpolated between measured severities.

    Args:
        severities: increasing stressed severities (> 0) with a measurement.
        accuracy: accuracy at each severity.
        clean: accuracy on the clean twins (severity 0).
        chance: accuracy of uniform guessing.

    Returns:
        The interpolated severity, or None if the curve never falls that far (report '>5') or
        if there is nothing to fall (clean <= chance).
    """
    if len(severities) != len(accuracy):
        raise DataError(f"{len(severities)} severities but {len(accuracy)} accuracies")
    xs = [0.0] + [float(s) for s in severities]
    if any(x1 <= x0 for x0, x1 in zip(xs, xs[1:], strict=False)):
        raise DataError(f"severities must be positive and increasing, got {list(severities)}")
    if clean <= chance:
        return None
    level = 0.5 * (clean + chance)
    ys = [float(clean)] + [float(a) for a in accuracy]
    for i in range(1, len(xs)):
        if ys[i] <= level:  # ys[i-1] > level, else the previous step returned
            return xs[i - 1] + (ys[i - 1] - level) / (ys[i - 1] - ys[i]) * (xs[i] - xs[i - 1])
    return None


def corruption_error(errors: Sequence[float], ref_errors: Sequence[float]) -> float | None:
    """ImageNet-C corruption error: sum over severities of a model's error over the reference's.

    Args:
        errors: E_{s,c} = 1 - accuracy of the model at each severity s of one sub-type c.
        ref_errors: the reference model's errors at the same severities.

    Returns:
        CE_c, or None when the reference makes no error at all (the ratio is undefined).
    """
    if len(errors) != len(ref_errors):
        raise DataError(f"CE needs errors at the same severities: {len(errors)} vs {len(ref_errors)}")
    if any(not 0.0 <= e <= 1.0 for e in [*errors, *ref_errors]):
        raise DataError("CE errors must lie in [0, 1]")
    den = float(sum(ref_errors))
    return float(sum(errors)) / den if den > 0 else None


def mean_defined(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None (None if there are none): mCE, macro averages."""
    vals = [float(v) for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def relative_robustness(stressed: float | None, clean: float | None) -> float | None:
    """Stressed accuracy / clean accuracy (None when clean accuracy is 0 or unknown)."""
    if stressed is None or not clean:
        return None
    return float(stressed) / float(clean)
