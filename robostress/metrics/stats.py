"""Statistics of robustness: Wilson intervals, paired bootstrap, breaking point, corruption error."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (returns (0, 1) for n = 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, seed: int = 0,
                     resamples: int = 2000) -> tuple[float, float, float]:
    """Mean of b - a over pairs and its 95% percentile-bootstrap interval (pairs resampled)."""
    x = np.asarray(b, float) - np.asarray(a, float)
    if len(x) == 0:
        return 0.0, 0.0, 0.0
    g = np.random.default_rng(seed)
    idx = g.integers(0, len(x), (resamples, len(x)))
    means = x[idx].mean(axis=1)
    return float(x.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def breaking_point(severities: Sequence[float], accuracy: Sequence[float], clean: float,
                   chance: float) -> float | None:
    """Severity where accuracy first falls halfway from clean to chance (linear interpolation).

    ``severities``/``accuracy`` exclude the clean point, which is (0, clean). None if the
    curve never falls that far (reported as '>5').
    """
    level = clean - 0.5 * (clean - chance)
    if clean <= chance:
        return None
    xs = [0.0] + [float(s) for s in severities]
    ys = [float(clean)] + [float(a) for a in accuracy]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True), zip(xs[1:], ys[1:], strict=True), strict=False):
        if y1 <= level < y0 or (y1 <= level and y0 <= level):
            if y0 == y1:
                return x0
            return x0 + (y0 - level) / (y0 - y1) * (x1 - x0)
    return None


def corruption_error(errors: Sequence[float], ref_errors: Sequence[float]) -> float | None:
    """ImageNet-C CE: sum of a model's errors over severities / the reference model's sum."""
    den = float(sum(ref_errors))
    return float(sum(errors)) / den if den > 0 else None
