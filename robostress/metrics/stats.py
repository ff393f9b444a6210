"""Statistics of robustness: a two-stage (scene, then clean-twin family) cluster bootstrap, the
minimum detectable drop, Wilson intervals (items treated as independent: labelled as such wherever
shown), breaking points and ImageNet-C corruption error. Pure functions on numbers; no Prediction
objects here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from robostress.errors import DataError

Z95 = 1.959963984540054
Z80_POWER = 0.8416212335729143  # one-sided normal quantile of 80 % power
MDD_FACTOR = Z95 + Z80_POWER  # 2.80: minimum detectable effect in standard errors
BOOTSTRAP_RESAMPLES = 2000
_MAX_DRAW_CELLS = 4_000_000  # resamples x distinct clusters drawn per chunk (bounds memory)


class Estimate(NamedTuple):
    """A point estimate with its 95% interval."""

    value: float
    lo: float
    hi: float


@dataclass(frozen=True)
class ClusterEstimate:
    """A mean over items (or pairs) with its two-stage cluster-bootstrap 95% interval."""

    value: float  # mean over items: accuracy, or mean paired difference
    lo: float  # 2.5th percentile of the bootstrap means
    hi: float  # 97.5th percentile of the bootstrap means
    se: float  # standard deviation of the bootstrap means (the bootstrap standard error)
    n: int  # items (or pairs)
    n_scenes: int  # distinct scenes: the top-level resampled unit
    n_families: int  # distinct clean-twin families: the second-stage resampled unit


def cluster_bootstrap(values: Sequence[float], scenes: Sequence[object], families: Sequence[object], *,
                      seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> ClusterEstimate:
    """Mean of ``values`` with a 95% percentile interval from a two-stage cluster bootstrap.

    Items are not independent: every question about one scene shares its objects and layout, and
    every stressed version of a clean item shares that item. Each resample therefore draws the
    scenes with replacement, then, inside every drawn copy of a scene, that scene's clean-twin
    families with replacement; a drawn family brings all its items. The statistic is the ratio
    mean (sum of drawn values / number of drawn items). Scenes and families are put in sorted
    order of their labels first, so the draw does not depend on the input order.

    Args:
        values: one outcome per item (0/1 correct) or per pair (clean minus stressed).
        scenes: the scene label of each item.
        families: the clean-twin family label of each item (its clean item's id); a label is
            local to its scene.
        seed: seed of the numpy Generator.
        resamples: bootstrap resamples.

    Raises:
        DataError: empty, non-finite or mismatched input.
    """
    x = _checked(values, resamples)
    draws = _draws(x[:, None], scenes, families, seed, resamples)
    means = draws.means[:, 0]
    lo, hi = np.percentile(means, [2.5, 97.5])
    return ClusterEstimate(float(x.mean()) + 0.0, float(lo) + 0.0, float(hi) + 0.0,
                           float(means.std()) + 0.0, len(x), draws.n_scenes, draws.n_families)


@dataclass(frozen=True)
class ClusterDraws:
    """Bootstrap means of several outcomes of the same items, drawn together (one resample draws
    the same scenes and families for every column), so any function of them has an interval."""

    means: np.ndarray  # resamples x columns: each column's mean in each resample
    n_scenes: int  # distinct scenes: the top-level resampled unit
    n_families: int  # distinct clean-twin families: the second-stage resampled unit


def cluster_bootstrap_draws(values: np.ndarray, scenes: Sequence[object], families: Sequence[object], *,
                            seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> ClusterDraws:
    """The two-stage cluster bootstrap of ``cluster_bootstrap`` over an items x columns array:
    each resample's mean of every column (e.g. clean, factor A, factor B and compound outcomes of
    the same questions, whose interaction is a function of the four means). With one column
    it draws exactly what ``cluster_bootstrap`` draws.

    Raises:
        DataError: empty, non-finite or mismatched input.
    """
    x = np.asarray(values, float)
    if x.ndim != 2 or x.shape[1] < 1:
        raise DataError(f"a multi-column bootstrap needs an items x columns array, got shape {x.shape}")
    _checked(x.reshape(-1), resamples)
    return _draws(x, scenes, families, seed, resamples)


def _draws(x: np.ndarray, scenes: Sequence[object], families: Sequence[object], seed: int,
           resamples: int) -> ClusterDraws:
    if len(scenes) != len(x) or len(families) != len(x):
        raise DataError(f"{len(scenes)} scene and {len(families)} family labels for {len(x)} values")
    by_scene = _family_totals(x, scenes, families)
    means = _two_stage_means(np.random.default_rng(seed), by_scene, resamples)
    return ClusterDraws(means, len(by_scene), int(sum(int(f) for _, f in by_scene)))


def minimum_detectable_drop(se: float) -> float:
    """Smallest true paired drop that a cell detects with 80% power at two-sided alpha 0.05.

    ``MDD = (z_0.975 + z_0.80) * SE = 2.80 * SE``, where SE is the cell's scene-level bootstrap
    standard error of the paired drop (its observed variance at its own n). A smaller true drop
    is more likely than not to go unnoticed (its interval would still contain 0). With SE = 0 (no
    discordant pairs) the variance is not estimable and the MDD is 0: report it as unknown.
    """
    if not math.isfinite(se) or se < 0:
        raise DataError(f"standard error must be finite and >= 0, got {se}")
    return MDD_FACTOR * float(se)


def _checked(values: Sequence[float] | np.ndarray, resamples: int) -> np.ndarray:
    x = np.asarray(values, float)
    if x.ndim != 1 or len(x) == 0:
        raise DataError(f"a bootstrap needs a non-empty 1-D sequence of values, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DataError("a bootstrap got a non-finite outcome")
    if resamples < 1:
        raise DataError(f"resamples must be >= 1, got {resamples}")
    return x


def _family_totals(x: np.ndarray, scenes: Sequence[object],
                   families: Sequence[object]) -> list[tuple[np.ndarray, int]]:
    """Per scene (sorted by label): its families as distinct (sums, size) kinds, a K x (C + 2)
    array of each of the C columns' sum, the size and how many of the scene's families are of
    that kind; and the family count. ``x``: items, or items x C columns."""
    x2 = x[:, None] if x.ndim == 1 else x
    _, s_code = np.unique(np.asarray([str(s) for s in scenes]), return_inverse=True)
    f_labels, f_code = np.unique(np.asarray([str(f) for f in families]), return_inverse=True)
    fam, inv = np.unique(s_code * len(f_labels) + f_code, return_inverse=True)
    sums = np.stack([np.bincount(inv, weights=x2[:, j]) for j in range(x2.shape[1])], 1)
    sizes = np.bincount(inv).astype(float)
    scene_of = fam // len(f_labels)
    out = []
    for s in np.unique(scene_of):
        kinds, mult = np.unique(np.column_stack([sums[scene_of == s], sizes[scene_of == s]]), axis=0,
                                return_counts=True)
        out.append((np.column_stack([kinds, mult]), int(mult.sum())))
    return out


def _two_stage_means(g: np.random.Generator, by_scene: list[tuple[np.ndarray, int]],
                     resamples: int) -> np.ndarray:
    """Bootstrap means (resamples x columns): scene counts ~ Multinomial(S, 1/S); the c copies of
    a scene with F families draw c * F families uniformly, i.e. Multinomial(c * F, kind
    multiplicity / F) counts over its distinct (sums, size) kinds (exact: a family matters only
    through its kind)."""
    n_scenes = len(by_scene)
    n_cols = by_scene[0][0].shape[1] - 2
    counts = g.multinomial(n_scenes, np.full(n_scenes, 1.0 / n_scenes), size=resamples)
    num, den = np.zeros((resamples, n_cols)), np.zeros(resamples)
    for j, (kinds, n_fam) in enumerate(by_scene):
        c = counts[:, j] * int(n_fam)
        w = c[:, None] if len(kinds) == 1 else g.multinomial(c, kinds[:, -1] / n_fam)
        for col in range(n_cols):  # one matrix-vector product per column: the sums of one column
            num[:, col] += w @ kinds[:, col]  # are those of a one-column draw, to the last bit
        den += w @ kinds[:, n_cols]
    return num / den[:, None]


def chance_band(chances: Sequence[float], z: float = Z95) -> tuple[float, float]:
    """Range that a uniformly random answerer's accuracy falls in with 95% probability.

    Random answers are drawn independently per item, so the number of hits is Poisson-binomial
    with per-item success probabilities ``chances``. The band is its exact central interval: the
    lowest and highest hit counts that keep each tail's probability at most ``1 - Phi(z)`` (2.5 %
    for z = 1.96), divided by the number of items. The distribution is computed exactly (a
    truncated convolution) whenever that costs under ~5e7 operations, which covers every rare-event
    cell (box chance is often under 0.1 %, where a normal approximation puts one lucky hit outside
    a band it belongs in); larger cells use the normal approximation, accurate there. Items are
    independent by construction (unlike a model's answers), so no cluster resampling is needed.
    """
    p = np.asarray(chances, float)
    if p.ndim != 1 or len(p) == 0 or ((p < 0) | (p > 1)).any():
        raise DataError("chance_band needs a non-empty sequence of probabilities in [0, 1]")
    n, mean, var = len(p), float(p.sum()), float((p * (1 - p)).sum())
    tail = 0.5 * math.erfc(z / math.sqrt(2))
    k_max = min(n, int(math.ceil(mean + 12 * math.sqrt(var) + 30)))
    if n * (k_max + 1) > 50_000_000:
        half = z * math.sqrt(var) / n
        return max(0.0, mean / n - half), min(1.0, mean / n + half)
    pmf = np.zeros(k_max + 1)
    pmf[0] = 1.0
    for q in p:  # add one item: P(k) <- P(k) (1 - q) + P(k - 1) q; mass beyond k_max is < 1e-30
        pmf[1:] = pmf[1:] * (1 - q) + pmf[:-1] * q
        pmf[0] *= 1 - q
    cdf = np.cumsum(pmf)
    eps = 1e-12  # rounding in the sums must not move a quantile
    lo = int(np.searchsorted(cdf, tail - eps, side="right"))  # P(X < lo) <= tail
    survival = 1.0 - cdf  # P(X > k)
    hi = int(np.argmax(survival <= tail + eps)) if (survival <= tail + eps).any() else k_max
    return lo / n, min(hi, n) / n


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
    """Mean of ``b - a`` over pairs with a 95% percentile-bootstrap interval at ONE level.

    Summaries use ``cluster_bootstrap`` (scenes, then families); this single-level version is kept
    for callers whose units are known to be independent and to show, in tests, what ignoring the
    scene level costs. Pairs are resampled with replacement; with ``clusters`` whole clusters are resampled instead
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
