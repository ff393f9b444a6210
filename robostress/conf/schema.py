# ruff: noqa: UP045 - OmegaConf 2.3 reads Optional[...] annotations, not X | None
"""Typed schemas of the CLI configs, registered in Hydra's ConfigStore.

Every primary config (``conf/<command>.yaml``) starts from one of these dataclasses
(``defaults: [schema_<command>, ...]``), so Hydra checks types while composing and rejects keys
that do not exist. What a type cannot say (ranges, choices) sits in each field's metadata and is
checked by ``robostress.cli.validate`` before any work starts; the same metadata gives the help
text of ``robostress <command> --help``. Model and agent presets stay open mappings: each backend
takes its own keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

SAMPLERS = ("orthogonal", "multijitter", "ldsampler", "stratified", "independent")  # render.renderer
DENOISERS = ("oidn",)  # render.renderer (null: none)
VARIANTS = ("auto", "cuda_ad_rgb", "llvm_ad_rgb", "scalar_rgb")  # render.variant, plus auto


def doc(help: str, *, min: float | None = None, max: float | None = None,  # noqa: A002
        choices: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Field metadata: the help line and the allowed range or choices."""
    return {"help": help, "min": min, "max": max, "choices": choices}


def opt(default: Any, help: str, **kw: Any) -> Any:  # noqa: A002
    """A dataclass field with ``default`` and ``doc(help, **kw)`` metadata."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=doc(help, **kw))
    return field(default=default, metadata=doc(help, **kw))


@dataclass
class CompoundSchema:
    """The ``compound:`` block of a benchmark preset (robostress.stress.compound.CompoundDesign)."""

    pairs: Any = opt("all", "'all' or dimension pairs, e.g. [[lighting,viewpoint],[material,geometry]]")
    severities: Any = opt([[3, 3]], "severity pairs [A, B] built for each scene's sub-type pair, e.g. [[2,2],[4,4]]")
    seed: int = opt(0, "seed of the Latin-square rotation of sub-type pairs over scenes", min=0)


@dataclass
class BenchmarkSchema:
    """A benchmark preset (``benchmark=mini|standard|tiny|train``)."""

    name: str = opt(MISSING, "benchmark name: its folder is benchmarks/<name>, its runs runs/<name>")
    family: str = opt(MISSING, "scene family: scenes/<family>.yaml (working directory first)")
    num_scenes: int = opt(MISSING, "number of scenes", min=1, max=100000)
    seed: int = opt(0, "seed of the scene draws", min=0)
    subtypes: Any = opt("all", "'all' or a list of stress sub-types, e.g. [occlusion,global_underexposure]")
    severities: list[int] = opt([1, 2, 3, 4, 5], "stressed levels to build (1..5; the clean twin is always built)")
    width: int = opt(256, "image width in px", min=8, max=4096)
    height: int = opt(256, "image height in px", min=8, max=4096)
    questions: bool = opt(True, "generate question items (false: frames only)")
    compound: Optional[CompoundSchema] = opt(None, "compound frames: two factors at once (null: none)")


@dataclass
class RendererSchema:
    """A renderer preset (``renderer=auto|llvm|cuda|scalar|preview``)."""

    variant: str = opt("auto", "Mitsuba variant", choices=VARIANTS)
    sampler: str = opt("multijitter", "Mitsuba sampler", choices=SAMPLERS)
    spp: int = opt(2, "samples per pixel per pass", min=1, max=65536)
    max_depth: int = opt(8, "path length", min=2, max=1024)
    passes: int = opt(2, "independent passes per frame (their spread is the noise estimate)", min=2, max=64)
    noise_ratio: Optional[float] = opt(1.15, "max stressed/clean 8-bit noise on the matched pixel sets (null: off)",
                                       min=1.0)
    spp_ladder: list[float] = opt([1, 1.5, 2, 3, 4, 6, 8], "pass multiples tried for a noisy stressed frame "
                                  "(x passes: whole pass counts)")
    denoise: Optional[str] = opt("oidn", "denoise each pass (Intel Open Image Denoise; null: raw passes)",
                                 choices=DENOISERS)
    denoise_quality: str = opt("fast", "Open Image Denoise quality", choices=("fast", "balanced", "high"))
    match: list[str] = opt(["unchanged", "whole", "target"],
                           "pixel sets whose noise is matched to the clean twin's (unchanged, whole, target)")


@dataclass
class BuildSchema:
    """``robostress build``."""

    benchmark: BenchmarkSchema = MISSING
    renderer: RendererSchema = MISSING
    out_dir: str = opt(MISSING, "where the benchmark is written")
    cache_dir: str = opt(MISSING, "render cache (shared by builds)")
    shard: int = opt(0, "this process's shard (0..num_shards-1)", min=0)
    num_shards: int = opt(1, "number of shards", min=1, max=100000)
    progress: bool = opt(True, "show progress bars")


@dataclass
class RunSchema:
    """``robostress`` (the main job)."""

    benchmark: BenchmarkSchema = MISSING
    renderer: RendererSchema = MISSING
    out_dir: str = opt(MISSING, "where the benchmark is built (reused when up to date)")
    cache_dir: str = opt(MISSING, "render cache (shared by builds)")
    runs_dir: str = opt(MISSING, "run folders: runs/<benchmark>/<label>, the report beside them")
    main_model: str = opt("classical", "model preset the report is about (agents/models/<name>.yaml)")
    sanity_models: list[str] = opt([], "model presets run beside it as sanity rows")
    agents: list[str] = opt([], "agent presets wrapped around main_model (agents/<name>.yaml)")
    skill_ablations: bool = opt(True, "also run the agent with each edit skill removed in turn")
    ablation_reuse: bool = opt(True, "ablations ask only the items the removed skill touched; the rest "
                               "copy the full agent's answers (same request)")
    main_model_args: dict[str, Any] = field(
        default_factory=lambda: {"name": None, "base_url": None, "path": None},
        metadata=doc("values for the main model's preset (name, base_url, path; others with +main_model_args.KEY=)"))
    retry_failed: bool = opt(False, "ask again only the items whose answer was a backend error")
    batch_size: int = opt(32, "items per model call", min=1, max=100000)
    shard: int = opt(0, "this process's shard (0..num_shards-1)", min=0)
    num_shards: int = opt(1, "number of shards", min=1, max=100000)
    progress: bool = opt(True, "show progress bars")


@dataclass
class EvalSchema:
    """``robostress eval``."""

    model: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)
    benchmark_dir: str = opt("benchmarks/mini", "the built benchmark to evaluate")
    run_dir: Optional[str] = opt(None, "run folder (null: runs/<benchmark name>/<model label><agent suffix>)")
    batch_size: int = opt(16, "items per model call", min=1, max=100000)
    max_tokens: int = opt(64, "longest reply, in tokens", min=1, max=1000000)
    limit: Optional[int] = opt(None, "evaluate only the first N items (null: all)", min=1)
    shard: int = opt(0, "this process's shard (0..num_shards-1)", min=0)
    num_shards: int = opt(1, "number of shards", min=1, max=100000)
    progress: bool = opt(True, "show progress bars")
    report: bool = opt(True, "write summary.json, report.md and report.html")
    reference_run: Optional[str] = opt(None, "run folder of the CE reference model (the main job uses reader, or classical without torch) on the same benchmark")
    retry_failed: bool = opt(False, "ask again only the items whose answer was a backend error")
    allow_damaged: bool = opt(False, "evaluate a benchmark that fails `robostress verify` (the report says so)")
    verify_cache: Optional[str] = opt(None, "folder of verify's size+mtime hash cache (null: $ROBOSTRESS_CACHE/verify)")
    dataset_cache: str = opt(MISSING, "where an exported benchmark (benchmark_dir=<export>) is rebuilt for evaluation")


@dataclass
class ExportSchema:
    """``robostress export``."""

    benchmark_dir: str = opt(MISSING, "the built benchmark to export")
    out_dir: str = opt(MISSING, "a new folder for the Hugging Face datasets export")
    shard_mb: int = opt(512, "start a new Parquet shard after this many MB of PNG bytes", min=1, max=1000000)
    verify_cache: Optional[str] = opt(None, "verify's size+mtime hash cache (null: $ROBOSTRESS_CACHE/verify)")
    format: str = opt("hf", "hf: a Hugging Face datasets folder; rsb: RoboStressBench's dataset layout",
                      choices=("hf", "rsb"))
    mask_format: str = opt("png", "format=rsb: the point items' mask images (png lossless, or jpg)",
                           choices=("png", "jpg"))


@dataclass
class RsbOptions:
    """``robostress rsb``'s scoring options (``rsb.*``)."""

    parser: str = opt("lenient", "lenient: RoboStressBench's own reply parser; strict: robostress's "
                      "(both are reported side by side)", choices=("lenient", "strict"))


@dataclass
class RsbSchema:
    """``robostress rsb``."""

    model: dict[str, Any] = field(default_factory=dict)
    dataset_dir: str = opt(MISSING, "a dataset folder in RoboStressBench's layout (manifest.jsonl, records, images)")
    run_dir: Optional[str] = opt(None, "run folder (null: runs/rsb-<dataset folder name>/<model label>)")
    dataset_version: Optional[str] = opt(None, "dataset_version of submission.json (null: \"1.0\", as RoboStressBench writes)")
    rsb: RsbOptions = field(default_factory=RsbOptions)
    batch_size: int = opt(16, "samples per model call", min=1, max=100000)
    max_tokens: int = opt(64, "longest reply, in tokens", min=1, max=1000000)
    limit: Optional[int] = opt(None, "evaluate only the first N samples (null: all)", min=1)
    progress: bool = opt(True, "show progress bars")
    retry_failed: bool = opt(False, "ask again only the samples whose answer was a backend error")


@dataclass
class VerifySchema:
    """``robostress verify``."""

    benchmark_dir: str = opt(MISSING, "the built benchmark to check")
    against: Optional[str] = opt(None, "another build: the same benchmark (plans, items, truth, masks)? "
                                 "per-frame pixel agreement (max, mean |a-b|, PSNR)")
    full: bool = opt(False, "hash every file again, ignoring the size+mtime hash cache")
    cache_dir: str = opt(MISSING, "folder of the size+mtime hash cache")


@dataclass
class MergeSchema:
    """``robostress merge``."""

    shards: list[str] = opt([], "build shard folders to merge (robostress build ... shard=K num_shards=N)")
    runs: list[str] = opt([], "eval shard run folders to merge (robostress eval ... shard=K num_shards=N)")
    out_dir: str = opt(MISSING, "a new folder for the merged benchmark or run")
    benchmark_dir: Optional[str] = opt(None, "runs: the benchmark they evaluated (null: the path in run.json)")
    reference_run: Optional[str] = opt(None, "runs: run folder of the CE reference model (the main job uses reader, or classical without torch)")
    report: bool = opt(True, "runs: write summary.json, report.md and report.html")
    verify_cache: Optional[str] = opt(None, "shards: verify's size+mtime hash cache (null: $ROBOSTRESS_CACHE/verify)")


@dataclass
class ContactSheetSchema:
    """``robostress contact-sheet``."""

    benchmark_dir: str = opt(MISSING, "the built benchmark")
    out_dir: str = opt(MISSING, "where the sheets are written")


@dataclass
class TinyVlmSchema:
    """``robostress make-tiny-vlm``."""

    out_dir: str = opt("models/tiny-llava", "where the model is written")
    seed: int = opt(0, "seed of the random weights", min=0)


@dataclass
class TrainDetectorSchema:
    """``robostress train-detector``."""

    benchmark: BenchmarkSchema = MISSING
    renderer: RendererSchema = MISSING
    work_dir: str = opt(MISSING, "where the train split is built")
    cache_dir: str = opt(MISSING, "render cache (shared by builds)")
    out: Optional[str] = opt(None, "the detector weights file (.npz; null: the shipped file of `kind`)")
    kind: str = opt("features", "features (statistics + logistic regression, builds the train split) or cnn",
                    choices=("features", "cnn"))
    train_benchmarks: list[str] = opt([], "kind=cnn: built train-split benchmarks to train on (the train preset's seed)")
    epochs: int = opt(60, "kind=cnn: training epochs", min=1)
    eval_benchmark: Optional[str] = opt(None, "a built benchmark to evaluate the detector on (null: none)")
    eval_out: Optional[str] = opt(None, "where the evaluation is written (null: <out>.eval)")
    progress: bool = opt(True, "show progress bars")


@dataclass
class AuditSchema:
    """``robostress audit``."""

    benchmark_dir: str = opt(MISSING, "the built benchmark to audit")


@dataclass
class LeakageSchema:
    """``robostress leakage``."""

    benchmark_dir: Optional[str] = opt(None, "a built benchmark to measure (null: sample scenes of `family` instead)")
    clean_only: bool = opt(False, "benchmark_dir: only the clean twins' items")
    family: str = opt("lab_tabletop", "sampled: scene family (scenes/<family>.yaml, working directory first)")
    train_scenes: int = opt(150, "sampled: train scenes the prior is fitted on", min=1, max=100000)
    test_scenes: int = opt(150, "sampled: held-out clean scenes it is scored on", min=1, max=100000)
    learner: str = opt("none", "also score text-only attackers: logreg (logistic regression on question and option "
                       "words, fitted on the train scenes), reader_blind (the reader's text-only twin), all (both)",
                       choices=("none", "logreg", "reader_blind", "all"))


@dataclass
class CalibrateSchema:
    """``robostress calibrate``."""

    num_scenes: int = opt(1000, "train scenes of each family the option weights and acceptance factors are "
                          "fitted on", min=1, max=100000)
    families: list[str] = opt(["lab_tabletop"], "scene families fitted (scenes/<family>.yaml); the tables' "
                              "entries of the families not named are kept as they are")
    out: Optional[str] = opt(None, "where the table is written (null: the shipped robostress/questions/weights/options.json)")
    progress: bool = opt(True, "show progress bars")


SCHEMAS: dict[str, type] = {  # primary config name -> schema
    "build": BuildSchema, "run": RunSchema, "eval": EvalSchema, "contact_sheet": ContactSheetSchema,
    "tiny_vlm": TinyVlmSchema, "train_detector": TrainDetectorSchema, "verify": VerifySchema,
    "rsb": RsbSchema,
    "merge": MergeSchema, "export": ExportSchema, "audit": AuditSchema, "leakage": LeakageSchema,
    "calibrate": CalibrateSchema,
}


def register() -> None:
    """Store every schema as ``schema_<config name>`` (idempotent)."""
    cs = ConfigStore.instance()
    for name, cls in SCHEMAS.items():
        cs.store(name=f"schema_{name}", node=cls)
