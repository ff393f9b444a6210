"""The typed summary of one run: frozen records that the metrics hand to the report, the CLI and
the leaderboard, and that serialise to exactly the summary.json of schema version 3.

Records are frozen dataclasses (``robostress.metrics.serial.Record``: ``to_dict``/``from_dict``);
sequences are tuples and groups are mappings (typed read-only) named 'a/b/c' (the group-by keys
joined by '/'), in sorted order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robostress.errors import DataError
from robostress.metrics.serial import Record, json_key

SUMMARY_SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Cell(Record):
    """Accuracy of one group of items with its scene-level bootstrap interval, chance and failure rates."""

    n: int
    """Items in the group."""
    n_scenes: int
    """Distinct scenes: the top-level resampled unit."""
    n_families: int
    """Distinct clean-twin families: the second-stage resampled unit."""
    correct: int
    """Items answered correctly."""
    accuracy: float | None
    """Micro accuracy over items (None for an empty group)."""
    ci95: tuple[float, float]
    """95% two-stage cluster-bootstrap interval of the accuracy ([0, 1] for an empty group)."""
    se: float | None
    """Bootstrap standard error of the accuracy."""
    wilson95_items_independent: tuple[float, float]
    """Wilson 95% interval treating items as independent (shown only where labelled as such)."""
    mean_score: float | None
    """Mean per-item score (IoU for boxes)."""
    chance: float | None
    """Mean per-item chance of a random answerer."""
    chance_band95: tuple[float, float] | None
    """Range a random answerer's accuracy falls in with 95% probability."""
    unparsable_rate: float | None
    """Share of answers that could not be parsed."""
    error_rate: float | None
    """Share of items without an answer (backend error)."""


@dataclass(frozen=True)
class PairedCell(Record):
    """Stressed items against their clean twins: the paired drop, its MDD and the flips."""

    n_pairs: int
    """(clean twin, stressed item) pairs."""
    n_scenes: int
    """Distinct scenes of the pairs."""
    n_clean_twins: int
    """Distinct clean twins (families) of the pairs."""
    clean_accuracy: float
    """Accuracy of the clean twins, one per pair."""
    stressed_accuracy: float
    """Accuracy of the stressed items."""
    drop: float
    """clean_accuracy - stressed_accuracy (positive = worse under stress)."""
    drop_ci95: tuple[float, float]
    """95% two-stage cluster-bootstrap interval of the drop."""
    drop_se: float
    """Bootstrap standard error of the drop."""
    mdd: float
    """Minimum detectable drop: 2.80 x drop_se (0 when not estimable)."""
    flip_correct_to_wrong: float
    """Share of pairs whose clean twin is right and stressed item wrong."""
    flip_wrong_to_correct: float
    """Share of pairs whose clean twin is wrong and stressed item right."""
    relative_robustness: float | None
    """stressed_accuracy / clean_accuracy (None when clean accuracy is 0)."""


@dataclass(frozen=True)
class Curve(Record):
    """Severity curve of a group of pairs: the clean point and each severity with its interval."""

    severities: tuple[int, ...]
    """Measured severities, increasing."""
    accuracy: tuple[float, ...]
    """Accuracy at each severity."""
    n: tuple[int, ...]
    """Items at each severity."""
    n_scenes: tuple[int, ...]
    """Scenes at each severity."""
    ci95: tuple[tuple[float, float], ...]
    """95% scene-bootstrap interval at each severity."""
    clean: float
    """Accuracy of the clean twins (one per pair)."""
    clean_n_twins: int
    """Distinct clean twins."""
    clean_n_scenes: int
    """Scenes of the clean twins."""
    clean_ci95: tuple[float, float]
    """95% scene-bootstrap interval of the clean point."""
    chance: float
    """Mean chance of the stressed items."""
    breaking_point: float | None
    """Severity where accuracy falls halfway from clean to chance (None: never, or clean <= chance)."""


@dataclass(frozen=True)
class Bootstrap(Record):
    """How the summary's intervals were computed."""

    resamples: int
    """Bootstrap resamples per interval."""
    interval: str
    """Kind of interval."""
    resampled_unit: str
    """What each resample draws."""
    mdd: str
    """Definition of the minimum detectable drop."""


@dataclass(frozen=True)
class WorstDimension(Record):
    """The dimension with the lowest stressed accuracy (micro): the number an aggregate hides."""

    dimension: str
    """Its name."""
    accuracy: float
    """Its stressed accuracy."""
    ci95: tuple[float, float]
    """95% scene-bootstrap interval of that accuracy."""
    n: int
    """Its stressed items."""
    n_scenes: int
    """Its scenes."""
    metric: str
    """The metric it is worst in."""


@dataclass(frozen=True)
class CorruptionError(Record):
    """ImageNet-C corruption error against a reference run on the shared stressed items."""

    reference_model: str
    """The reference run's model."""
    n_items: int
    """Stressed items both runs answered."""
    per_subtype: Mapping[str, float | None]
    """CE per 'dimension/sub-type' (None when the reference makes no error)."""
    mce_per_dimension: Mapping[str, float | None] = field(metadata=json_key("mCE_per_dimension"))
    """Mean CE over each dimension's sub-types."""
    mce: float | None = field(metadata=json_key("mCE"))
    """Mean CE over all sub-types."""
    undefined_subtypes: tuple[str, ...]
    """Sub-types whose CE is undefined."""


@dataclass(frozen=True)
class InteractionCell(Record):
    """Whether two factors interact: a compound's paired drop against the additive and the
    multiplicative prediction from its two single-factor drops, on the same questions.

    Every number is over quadruples: a compound item with its clean twin and its two single-factor
    twin items, all four answered. Intervals resample scenes, then clean-twin families, drawing the
    four outcomes of a quadruple together (``robostress.metrics.stats.cluster_bootstrap_draws``).
    An interaction is positive when the combination hurts more than predicted.
    """

    n_quads: int
    """Compound items with their clean twin and both single-factor twins answered."""
    n_scenes: int
    """Distinct scenes of the quadruples."""
    n_clean_twins: int
    """Distinct clean twins (families)."""
    clean_accuracy: float
    """Accuracy of the clean twins."""
    a_accuracy: float
    """Accuracy under the first factor alone (taxonomy order)."""
    b_accuracy: float
    """Accuracy under the second factor alone."""
    compound_accuracy: float
    """Accuracy under both factors at once."""
    drop_a: float
    """clean - a."""
    drop_b: float
    """clean - b."""
    drop_compound: float
    """clean - compound."""
    drop_compound_ci95: tuple[float, float]
    """95% interval of the compound's drop."""
    additive: float
    """drop_compound - (drop_a + drop_b): positive = super-additive."""
    additive_ci95: tuple[float, float]
    """95% interval of ``additive``."""
    additive_se: float
    """Bootstrap standard error of ``additive``."""
    additive_mdi: float
    """Minimum detectable additive interaction: 2.80 x additive_se (0 when not estimable)."""
    multiplicative: float | None
    """drop_compound - (clean - clean x (a / clean) x (b / clean)): the observed drop against the
    product of the two accuracy ratios; positive = super-multiplicative (None when clean is 0)."""
    multiplicative_ci95: tuple[float, float] | None
    """95% interval of ``multiplicative`` (over resamples whose clean accuracy is not 0)."""
    additive_flag: str
    """'super-additive' or 'sub-additive' where the interval excludes 0, else 'not detected'."""
    multiplicative_flag: str
    """'super-multiplicative', 'sub-multiplicative' or 'not detected' (likewise)."""
    combination_only_flips: float
    """Share of quadruples right on the clean twin and under each factor alone, wrong under both."""


@dataclass(frozen=True)
class Interactions(Record):
    """The interaction analysis of a run's compound items (absent from summary.json without them)."""

    n_compound: int
    """Compound items in the run."""
    n_quads: int
    """Of them, those with the clean twin and both single-factor twins answered."""
    by_pair: Mapping[str, InteractionCell]
    """Per dimension pair, e.g. 'lighting+viewpoint' (its sub-type and severity pairs pooled)."""
    by_subtype_pair: Mapping[str, InteractionCell]
    """Per dimension pair/sub-type pair, e.g. 'lighting+viewpoint/global_underexposure+small_scale'."""


@dataclass(frozen=True)
class Summary(Record):
    """The summary of one run (summary.json): cells, roll-ups, paired analyses, curves and CE.

    Group mappings are keyed by the group-by values joined by '/', in sorted order: by_cell and
    paired_by_cell by 'dimension/subtype/severity/ability', by_subtype by 'dimension/subtype', ...
    """

    schema_version: int
    """Version of this layout (SUMMARY_SCHEMA_VERSION)."""
    model: str
    """The run's model label."""
    seed: int
    """Seed of the bootstraps."""
    n_predictions: int
    """Predictions summarised."""
    n_clean: int
    """Clean items (severity 0)."""
    n_stressed: int
    """Stressed items."""
    n_pairs: int
    """Stressed items paired with their clean twin."""
    n_unpaired_stressed: int
    """Stressed items whose clean twin is absent."""
    bootstrap: Bootstrap
    """How intervals were computed."""
    clean: Cell
    """All clean items."""
    stressed_micro: Cell
    """All stressed items (micro over items)."""
    by_cell: Mapping[str, Cell]
    """Stressed items per dimension/subtype/severity/ability."""
    by_dimension: Mapping[str, Cell]
    """Stressed items per dimension."""
    by_dimension_severity: Mapping[str, Cell]
    """Stressed items per dimension/severity."""
    by_subtype: Mapping[str, Cell]
    """Stressed items per dimension/subtype."""
    by_subtype_severity: Mapping[str, Cell]
    """Stressed items per dimension/subtype/severity."""
    by_ability_clean: Mapping[str, Cell]
    """Clean items per ability."""
    by_ability_stressed: Mapping[str, Cell]
    """Stressed items per ability."""
    by_dimension_ability: Mapping[str, Cell]
    """Stressed items per dimension/ability."""
    by_format_clean: Mapping[str, Cell]
    """Clean items per answer format."""
    by_format_stressed: Mapping[str, Cell]
    """Stressed items per answer format."""
    paired_by_dimension: Mapping[str, PairedCell]
    """Paired drops per dimension."""
    paired_by_subtype: Mapping[str, PairedCell]
    """Paired drops per dimension/subtype."""
    paired_by_subtype_severity: Mapping[str, PairedCell]
    """Paired drops per dimension/subtype/severity."""
    paired_by_ability: Mapping[str, PairedCell]
    """Paired drops per ability."""
    paired_by_dimension_ability: Mapping[str, PairedCell]
    """Paired drops per dimension/ability."""
    paired_by_cell: Mapping[str, PairedCell]
    """Paired drops per dimension/subtype/severity/ability."""
    curves_by_dimension: Mapping[str, Curve]
    """Severity curves per dimension."""
    curves_by_subtype: Mapping[str, Curve]
    """Severity curves per dimension/subtype."""
    curves_by_dimension_ability: Mapping[str, Curve]
    """Severity curves per dimension/ability."""
    stressed_macro_over_subtypes: float | None
    """Mean of the sub-types' stressed accuracies (no interval)."""
    macro_by_dimension: Mapping[str, float | None]
    """Per dimension, the mean of its sub-types' stressed accuracies."""
    stressed_macro_over_dimensions: float | None
    """Mean of macro_by_dimension."""
    worst_dimension: WorstDimension | None
    """The dimension with the lowest stressed accuracy (None without stressed items)."""
    corruption_error: CorruptionError | None = field(default=None, metadata={"omit_none": True})
    """CE against a reference run (absent from the JSON when no reference was given)."""
    interaction: Interactions | None = field(default=None, metadata={"omit_none": True})
    """Compound items against their single-factor twins (absent without compound items; these
    items are in none of the groups above, which hold single-factor stresses only)."""

    @classmethod
    def from_dict(cls, data: Any, where: str = "summary") -> Summary:
        """Read a summary.json object, refusing another schema version.

        Raises:
            DataError: another schema version, or a missing, unknown or mistyped key.
        """
        version = data.get("schema_version") if isinstance(data, Mapping) else None
        if version != SUMMARY_SCHEMA_VERSION:
            raise DataError(f"{where}: summary schema version {version!r} is not the supported "
                            f"{SUMMARY_SCHEMA_VERSION}; re-summarise the run's predictions with this robostress")
        return super().from_dict(data, where)

    def headline(self) -> Headline:
        """The numbers of this summary that a comparison and a leaderboard show."""
        def est(c: Cell) -> HeadlineCell:
            return HeadlineCell(n=c.n, n_scenes=c.n_scenes, accuracy=c.accuracy, ci95=c.ci95)

        return Headline(clean=est(self.clean), stressed=est(self.stressed_micro),
                        stressed_macro_over_subtypes=self.stressed_macro_over_subtypes,
                        by_dimension={d: est(c) for d, c in self.by_dimension.items()},
                        worst_dimension=self.worst_dimension)

    def to_json(self) -> str:
        """summary.json's text: indented, keys sorted, no NaN."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, allow_nan=False)

    @classmethod
    def read(cls, path: Path) -> Summary:
        """Read a summary.json file.

        Raises:
            DataError: the file is missing, not JSON or not a summary of this schema version.
        """
        try:
            data = json.loads(Path(path).read_text())
        except OSError as e:
            raise DataError(f"cannot read summary {path}: {e.strerror or e}") from None
        except ValueError as e:
            raise DataError(f"{path} is not valid JSON ({e})") from None
        return cls.from_dict(data, str(path))


@dataclass(frozen=True)
class HeadlineCell(Record):
    """An accuracy with its interval and sizes: one number of a headline."""

    n: int
    """Items."""
    n_scenes: int
    """Scenes resampled."""
    accuracy: float | None
    """Micro accuracy (None without items)."""
    ci95: tuple[float, float]
    """95% two-stage cluster-bootstrap interval."""


@dataclass(frozen=True)
class Headline(Record):
    """A run's headline numbers, shown by comparisons (compare.json) and leaderboards (entry scores)."""

    clean: HeadlineCell
    """Clean items."""
    stressed: HeadlineCell
    """Stressed items (micro)."""
    stressed_macro_over_subtypes: float | None
    """Mean of the sub-types' stressed accuracies."""
    by_dimension: Mapping[str, HeadlineCell]
    """Stressed items per dimension."""
    worst_dimension: WorstDimension | None
    """The dimension with the lowest stressed accuracy."""


@dataclass(frozen=True)
class Gain(Record):
    """Paired gain of one run over another on the items both answered."""

    n: int
    """Items both runs answered."""
    n_scenes: int
    """Their scenes."""
    base: float
    """Accuracy of the base run."""
    other: float
    """Accuracy of the other run."""
    gain: float
    """other - base."""
    gain_ci95: tuple[float, float]
    """95% two-stage cluster-bootstrap interval of the gain."""
    gain_se: float
    """Bootstrap standard error of the gain."""
    mdd: float
    """Minimum detectable gain: 2.80 x gain_se."""
    helped: float
    """Share of items the other run got right and the base wrong."""
    hurt: float
    """Share of items the other run got wrong and the base right."""


@dataclass(frozen=True)
class Comparison(Record):
    """Paired gains of one run over a base run (e.g. an agent over its model), overall and per group."""

    base_model: str
    """The base run's model."""
    other_model: str
    """The other run's model."""
    n_only_in_base: int
    """Items only the base run answered."""
    n_only_in_other: int
    """Items only the other run answered."""
    overall: Gain
    """All shared items."""
    by_dimension: Mapping[str, Gain]
    """Per dimension ('none': the clean items)."""
    by_subtype: Mapping[str, Gain]
    """Per dimension/subtype."""
    by_subtype_severity: Mapping[str, Gain]
    """Per dimension/subtype/severity."""
