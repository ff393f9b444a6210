"""Robustness metrics: scene-level cluster-bootstrap intervals, paired drops and flips, minimum
detectable drops, chance bands, breaking points, CE, and the typed Summary of a run."""

from robostress.metrics.interaction import interaction_cell, interactions, quads
from robostress.metrics.paired import compare, curve, pairs
from robostress.metrics.records import (
    SUMMARY_SCHEMA_VERSION,
    Bootstrap,
    Cell,
    Comparison,
    CorruptionError,
    Curve,
    Gain,
    Headline,
    HeadlineCell,
    InteractionCell,
    Interactions,
    PairedCell,
    Summary,
    WorstDimension,
)
from robostress.metrics.stats import (
    ClusterDraws,
    ClusterEstimate,
    Estimate,
    breaking_point,
    chance_band,
    cluster_bootstrap,
    cluster_bootstrap_draws,
    corruption_error,
    mean_defined,
    minimum_detectable_drop,
    paired_bootstrap,
    relative_robustness,
    wilson,
)
from robostress.metrics.summary import cell, group, summarize

__all__ = ["SUMMARY_SCHEMA_VERSION", "Bootstrap", "Cell", "ClusterDraws", "ClusterEstimate", "Comparison",
           "CorruptionError", "Curve", "Gain", "Headline", "HeadlineCell", "InteractionCell", "Interactions",
           "PairedCell", "Summary", "WorstDimension", "Estimate", "breaking_point", "cell", "chance_band",
           "cluster_bootstrap", "cluster_bootstrap_draws", "compare", "interaction_cell", "interactions", "quads", "corruption_error", "curve", "group", "mean_defined",
           "minimum_detectable_drop", "paired_bootstrap", "pairs", "relative_robustness", "summarize", "wilson"]
