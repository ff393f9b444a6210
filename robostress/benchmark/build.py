"""Build a benchmark: sample scenes, stress them, render (through the cache), write the directory.

Layout (docs/usage.md, On disk): manifest.json, scenes.jsonl, frames.jsonl, items.jsonl, skipped.jsonl,
dropped.jsonl, images/, masks/, depth/, free/. The manifest is written last: a folder without
one is an interrupted build, and rerunning the same command resumes it (rendered frames come
back from the render cache instantly).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from robostress.benchmark.manifest import (
    MANIFEST_SCHEMA_VERSION,
    SIDE_SCHEMA_VERSION,
    content_hash,
    identity_hash,
    write_jsonl,
)
from robostress.core.records import CLEAN, StressRecord
from robostress.errors import ConfigError, LayoutError
from robostress.lock import RunLock
from robostress.questions import PROMPT_VERSION, generate_items
from robostress.questions.item import ITEM_SCHEMA_VERSION
from robostress.render.cache import FILES, RenderCache, cache_key
from robostress.render.frame import FRAME_SCHEMA_VERSION, Frame, FrameArrays
from robostress.render.gt import amodal_mask
from robostress.render.io import (
    depth_to_mm,
    encode_rgb,
    encode_u16,
    read_rgb,
    read_u16,
    sha256,
    write_atomic,
)
from robostress.render.renderer import Renderer, RenderSettings, frame_objects
from robostress.scene.assets import asset_catalog, load_asset
from robostress.scene.family import load_family
from robostress.scene.plan import PLAN_SCHEMA_VERSION, ScenePlan
from robostress.scene.sample import sample_scene, scene_id
from robostress.scene.scenery import environment_manifest
from robostress.seeding import derive_seed
from robostress.stress.base import all_stresses, apply_stress, check_severity
from robostress.stress.compound import CompoundDesign, apply_compound
from robostress.stress.measures import MeasureInput, measure
from robostress.stress.purity import check_purity

log = logging.getLogger(__name__)
GENERATOR_VERSION = "g10"  # g10: household questions: open_closed and open_first about articulated objects, wrong options from the family's own catalog, option weights and acceptance factors fitted for household too (lab items byte for byte g9's); g9: colour-by-point, next_action, on and move_first questions kept by acceptance factors fitted on the train split, so an offered kind is the truth one time in k whatever the point's place or the kinds named (robostress/questions/acceptance.py); g8: count only plainly visible instances, placement relative to named objects (an exact small region), next_action with three options, goal in mirrored pairs, move_first one wrong option per kind; g7: nearest, count, move_first and existence draw by weights calibrated on the train split too (one table, weights/options.json), move_first offers only what would fit on top; g6: 'on' draws its wrong kinds by weights calibrated on the train split (a kind offered in proportion to how often it is the truth), a scene's own bowl that could hold the subject is offered; g5: lab objects inside containers (frying pan, basket) and 'on' asks 'on or in'; move_first wrong options that would fit on the base (absent catalogue objects when too few); nearest answer drawn first among objects with three clearly farther, no frying pans; colour questions kept while a print covers less than half the object, a print colour never names an object; g4: featured colours, stacks and multiples always in view, count/colour/existence answers balanced; g3: stacks and designed multiples in lab scenes, answers drawn over them; g2: balanced truths and letters
FRAME_META_VERSION = "m2"  # part of the render cache key: bump when cached per-frame meta (realised
# measures, object GT) changes for the same pixels; m2: photometric contrast, measures of lab scenes
SUBDIRS = {"image": "images", "mask": "masks", "depth": "depth", "free": "free"}


@dataclass
class BuildConfig:
    """What to build. Every field is part of the manifest."""

    name: str = "mini"
    family: str = "tabletop"
    num_scenes: int = 3
    seed: int = 0
    subtypes: list[str] | str = "all"
    severities: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    render: RenderSettings = field(default_factory=RenderSettings)
    questions: bool = True
    shard: int = 0
    num_shards: int = 1
    compound: CompoundDesign | None = None  # compound frames beside the single-factor ones (None: none)

    def validate(self) -> None:
        """ConfigError on out-of-range values (checked before any work starts)."""
        if self.num_scenes < 1:
            raise ConfigError(f"num_scenes must be >= 1, got {self.num_scenes}")
        for s in self.severities:
            check_severity(s)
        if 0 in self.severities:
            raise ConfigError("severities lists stressed levels 1..5; the clean twin (0) is always built")
        if not 0 <= self.shard < self.num_shards:
            raise ConfigError(f"shard must be in 0..{self.num_shards - 1}, got {self.shard}")
        names = self.subtype_names()
        if self.compound is not None:
            missing = sorted(self.compound.needed_severities() - set(self.severities))
            if missing:
                raise ConfigError(f"compound severities {missing} are not among the build's severities "
                                  f"{self.severities}: a compound needs its single-factor twins")
            extra = sorted({t for ts in self.compound.subtypes.values() for t in ts} - set(names))
            if extra:
                raise ConfigError(f"compound sub-types {extra} are not among the build's sub-types")

    def subtype_names(self) -> list[str]:
        """The sub-types to build, in taxonomy order (ConfigError for unknown names)."""
        known = [s.subtype for s in all_stresses()]
        if self.subtypes == "all":
            return known
        names = [self.subtypes] if isinstance(self.subtypes, str) else list(self.subtypes)
        for n in names:
            if n not in known:
                raise ConfigError(f"unknown stress sub-type {n!r}; choose from: {', '.join(known)}")
        return [k for k in known if k in names]


@dataclass
class RenderedFrame:
    """A frame of the build with its plan and a way to get its pixel arrays."""

    plan: ScenePlan
    frame: Frame
    arrays: FrameArrays | None = None
    noise_ref: Any = None  # a clean frame's NoiseRef, for matching its stressed twins' noise


def frame_id(scene_id: str, record: StressRecord) -> str:
    """``<scene>/clean``, ``<scene>/<subtype>/s<severity>`` or, for a compound, its two factors'
    ``<subtype>/s<severity>`` joined by '+' in taxonomy order."""
    if record.severity == 0:
        return f"{scene_id}/clean"
    if record.factors is not None:
        a, b = record.factors
        return f"{scene_id}/{a.subtype}/s{a.severity}+{b.subtype}/s{b.severity}"
    return f"{scene_id}/{record.subtype}/s{record.severity}"


def _stem(fid: str) -> str:
    return fid.replace("/", "__")


def _checked(clean: ScenePlan, plan: ScenePlan, rec: StressRecord) -> tuple[ScenePlan, StressRecord]:
    """(plan, rec), after checking that a realised stress changed only what its dimensions own."""
    if rec.skipped is None:
        bad = check_purity(rec.dimension, clean, plan)
        if bad:
            raise AssertionError(f"{rec.subtype} s{rec.severity} changed fields it does not own: {bad}")
    return plan, rec


class Builder:
    """Builds one benchmark directory; reusable across scenes."""

    def __init__(self, cfg: BuildConfig, out_dir: Path, cache_dir: Path) -> None:
        cfg.validate()
        self.cfg = cfg
        self.out = Path(out_dir)
        self.cache = RenderCache(cache_dir)
        self.renderer = Renderer(cfg.render)
        self.stats: Counter[str] = Counter()
        self.ordinals: dict[str, int] = {}  # scene id -> position in the benchmark (set by scenes())
        self.scene_skips: list[dict[str, Any]] = []  # scenes that could not be laid out (set by scenes())
        self.skip_ordinals: dict[str, int] = {}  # their ids -> positions (set by scenes())

    def _check_writable(self) -> None:
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            probe = self.out / ".write_probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise ConfigError(f"cannot write to the output folder {self.out}: {e.strerror}") from e

    def scenes(self) -> list[ScenePlan]:
        """Sample the clean scene plans of this shard: scene ``i`` goes to shard ``i % num_shards``,
        so shards differ by at most one scene (every scene has the same stress jobs) and each
        holds every question-balance position of the Latin-square draws in turn."""
        n, k = self.cfg.num_shards, self.cfg.shard
        self.scene_skips, self.skip_ordinals = [], {}
        plans = {i: self._sample(i) for i in range(self.cfg.num_scenes) if i % n == k}
        self.ordinals = {p.scene_id: i for i, p in plans.items() if p}  # balanced question draws use them
        if plans and not self.ordinals:
            raise LayoutError(f"scene family {self.cfg.family!r}: no scene of this shard could be laid out "
                              f"({self.scene_skips[0]['skipped']})")
        return [p for p in plans.values() if p is not None]

    def _sample(self, index: int) -> ScenePlan | None:
        """Scene ``index``, or None (its reason kept in ``scene_skips``) if it cannot be laid out: one
        unlucky scene skips itself, with its reason, instead of stopping a long build."""
        try:
            return sample_scene(self.cfg.family, self.cfg.seed, index)
        except LayoutError as e:
            sid = scene_id(load_family(self.cfg.family).name, self.cfg.seed, index)
            self.skip_ordinals[sid] = index
            log.warning("scene %s skipped: %s", sid, e)
            self.scene_skips.append({"schema_version": SIDE_SCHEMA_VERSION, "frame_id": f"{sid}/clean",
                                     **CLEAN.model_copy(update={"skipped": f"the scene could not be laid out: {e}"})
                                     .model_dump(mode="json")})
            return None

    def jobs(self, clean: ScenePlan) -> Iterator[tuple[ScenePlan, StressRecord]]:
        """(plan, record) for the clean twin, every requested stress of one scene and then its
        compounds (``BuildConfig.compound``, rotated by the scene's position in the benchmark)."""
        yield clean, CLEAN
        for sub in self.cfg.subtype_names():
            for sev in self.cfg.severities:
                yield _checked(clean, *apply_stress(clean, sub, sev))
        if self.cfg.compound is not None:
            for a, b in self.cfg.compound.jobs(self.ordinals.get(clean.scene_id, 0)):
                yield _checked(clean, *apply_compound(clean, a, b))

    def render_frame(self, plan: ScenePlan, record: StressRecord, clean: RenderedFrame | None,
                     seed: int, factors: tuple[RenderedFrame, RenderedFrame] | None = None) -> RenderedFrame:
        """Render (or fetch from the cache) one frame and export its files. A compound frame
        needs its two rendered single-factor twins (``factors``, in taxonomy order): each
        factor's measure is realised against the other factor's frame."""
        fid = frame_id(plan.scene_id, record)
        refs = "".join(f.plan.to_json() for f in factors) if factors else ""  # a compound's measures read them
        key = cache_key(plan.to_json() + (clean.plan.to_json() if clean else "") + refs,
                        {**self.renderer.describe(), "frame_meta": FRAME_META_VERSION}, seed)
        meta = self.cache.get(key)
        arrays = None
        ref = None
        if meta is None:
            out = self.renderer.render_twin(plan, seed, self._noise_ref(clean, seed) if clean else None)
            arrays, ref = out.arrays, out.ref
            files = {"image": encode_rgb(arrays.rgb), "mask": encode_u16(arrays.ids),
                     "depth": encode_u16(depth_to_mm(arrays.depth)), "free": encode_u16(arrays.free)}
            realised = self._realise(plan, arrays, record, clean, factors)
            meta = {"hashes": {k: sha256(v) for k, v in files.items()},
                    "objects": [o.model_dump(mode="json") for o in frame_objects(plan, arrays)],
                    "id_map": {str(k): v for k, v in arrays.id_map.items()}, "realised": realised,
                    "noise": out.noise}
            self.cache.put(key, files, meta)
            self.stats["rendered"] += 1
        else:
            self.stats["cached"] += 1
        paths = {}
        for name in FILES:
            rel = f"{SUBDIRS[name]}/{_stem(fid)}.png"
            self.cache.export(key, name, self.out / rel)
            paths[name] = rel
        frame = Frame(frame_id=fid, scene_id=plan.scene_id,
                      clean_frame_id=clean.frame.frame_id if clean else fid,
                      factor_frame_ids=(factors[0].frame.frame_id, factors[1].frame.frame_id) if factors else None,
                      stress=_with_realised(record, meta["realised"]),
                      plan_hash=plan.content_hash(), width=self.cfg.render.width,
                      height=self.cfg.render.height, hashes=meta["hashes"], id_map=meta["id_map"],
                      objects=tuple(meta["objects"]), render={**self.renderer.describe(), "seed": seed,
                                                              "cache_key": key, "noise": meta.get("noise")},
                      **paths)
        return RenderedFrame(plan, frame, arrays, ref)

    def _noise_ref(self, clean: RenderedFrame, seed: int) -> Any:
        """The clean twin's noise reference (re-rendered, identically, if it came from the cache)."""
        if clean.noise_ref is None:
            clean.noise_ref = self.renderer.render_twin(clean.plan, seed).ref
        return clean.noise_ref

    def _realise(self, plan: ScenePlan, arrays: FrameArrays, record: StressRecord, clean: RenderedFrame | None,
                 factors: tuple[RenderedFrame, RenderedFrame] | None = None) -> float | list[float] | None:
        """The realised measure; for a compound, each factor's, measured against the frame of the
        other factor alone (the compound differs from it by exactly this factor)."""
        if record.factors is not None and factors is not None:
            return [round(float(measure(str(f.measure), MeasureInput(plan, arrays, other.plan, self.arrays(other)))), 6)
                    for f, other in zip(record.factors, factors[::-1], strict=True)]
        if record.measure is None or clean is None:
            return None
        return round(float(measure(record.measure, MeasureInput(plan, arrays, clean.plan,
                                                                self.arrays(clean)))), 6)

    def arrays(self, rf: RenderedFrame) -> FrameArrays:
        """Pixel arrays of a frame, loaded from the benchmark folder if not in memory."""
        if rf.arrays is None:
            f = rf.frame
            ids = read_u16(self.out / f.mask)
            arrays = FrameArrays(rgb=read_rgb(self.out / f.image), ids=ids,
                                 depth=read_u16(self.out / f.depth).astype("float32") / 1000.0,
                                 free=read_u16(self.out / f.free),
                                 id_map={int(k): v for k, v in f.id_map.items()})
            for o in rf.plan.objects:
                arrays.amodal[o.id], arrays.amodal_total[o.id] = amodal_mask(rf.plan, o, f.width, f.height)
            rf.arrays = arrays
        return rf.arrays

    def build(self, progress: bool = True) -> dict[str, Any]:
        """Build the whole benchmark (the folder locked meanwhile); returns the manifest."""
        self._check_writable()
        with RunLock(self.out):
            for d in (self.out, *(self.out / s for s in SUBDIRS.values())):
                for tmp in d.glob(".*.tmp"):  # left by a killed build; never referenced
                    tmp.unlink(missing_ok=True)
            return self._build(progress)

    def _build(self, progress: bool) -> dict[str, Any]:
        t0 = time.perf_counter()
        manifest_path = self.out / "manifest.json"
        if manifest_path.exists():
            manifest_path.unlink()  # the folder is incomplete until the new manifest is written
        plans = self.scenes()
        n_stress = len(self.cfg.subtype_names()) * len(self.cfg.severities)
        n_stress += self.cfg.compound.frames_per_scene() if self.cfg.compound is not None else 0
        frames: list[Frame] = []
        skipped: list[dict[str, Any]] = list(self.scene_skips)
        items: list[Any] = []
        dropped: list[Any] = []
        bar = tqdm(total=len(plans) * (1 + n_stress), unit="frame", desc="build", disable=not progress,
                   mininterval=1.0)
        for clean_plan in plans:
            seed = derive_seed(self.cfg.seed, clean_plan.scene_id, "render")
            clean: RenderedFrame | None = None
            scene_frames: list[RenderedFrame] = []
            by_id: dict[str, RenderedFrame] = {}
            for plan, rec in self.jobs(clean_plan):
                factors = None
                if rec.factors is not None and rec.skipped is None:
                    factors, rec = _factor_frames(plan.scene_id, rec, by_id)
                if rec.skipped is not None:
                    skipped.append({"schema_version": SIDE_SCHEMA_VERSION, "frame_id": frame_id(plan.scene_id, rec),
                                    **rec.model_dump(mode="json")})
                    self.stats["skipped"] += 1
                else:
                    rf = self.render_frame(plan, rec, clean, seed, factors)
                    by_id[rf.frame.frame_id] = rf
                    clean = clean or rf
                    scene_frames.append(rf)
                    frames.append(rf.frame)
                bar.set_postfix(rendered=self.stats["rendered"], cached=self.stats["cached"],
                                skipped=self.stats["skipped"], refresh=False)
                bar.update(1)
            if self.cfg.questions:
                its, drs = self._questions(scene_frames)
                items += its
                dropped += drs
        bar.close()
        write_jsonl(self.out / "scenes.jsonl", [p.model_dump(mode="json") for p in plans])
        write_jsonl(self.out / "frames.jsonl", [f.model_dump(mode="json") for f in frames])
        order = {**self.ordinals, **self.skip_ordinals}  # records in scene order, as merge expects
        skipped.sort(key=lambda r: order[r["frame_id"].split("/")[0]])
        write_jsonl(self.out / "skipped.jsonl", skipped)
        write_jsonl(self.out / "items.jsonl", [i.model_dump(mode="json") for i in items])
        write_jsonl(self.out / "dropped.jsonl", [{"schema_version": SIDE_SCHEMA_VERSION, **d.model_dump(mode="json")}
                                                  for d in dropped])
        manifest = self._manifest(plans, frames, skipped, items, dropped)
        manifest["identity"] = identity_hash(self.out, frames)
        manifest["files"] = {n: sha256((self.out / n).read_bytes()) for n in
                             ("scenes.jsonl", "frames.jsonl", "items.jsonl", "skipped.jsonl", "dropped.jsonl")}
        manifest["build_seconds"] = round(time.perf_counter() - t0, 2)
        manifest["render_stats"] = dict(self.stats)
        write_atomic(manifest_path, json.dumps(manifest, indent=2, sort_keys=True).encode())
        return manifest

    def _questions(self, scene_frames: list[RenderedFrame]) -> tuple[list[Any], list[Any]]:
        clean = scene_frames[0]
        twins = [(rf.plan, rf.frame, self.arrays(rf)) for rf in scene_frames]
        out = generate_items(clean.plan, clean.frame, twins, self.cfg.seed,
                             self.ordinals.get(clean.plan.scene_id))
        for rf in scene_frames:
            rf.arrays = None  # free memory: items are computed for this scene
        return out

    def recipe(self) -> dict[str, Any]:
        """What decides this build's content besides the scenes' code: the manifest's ``versions``
        (but the prompt version, which the items carry), ``config`` and ``renderer``, as JSON values."""
        cfg = self.cfg
        return json.loads(json.dumps({
            "versions": {"generator": GENERATOR_VERSION, "plan": PLAN_SCHEMA_VERSION,
                         "frame": FRAME_SCHEMA_VERSION, "item": ITEM_SCHEMA_VERSION},
            "config": {"family": cfg.family, "num_scenes": cfg.num_scenes, "seed": cfg.seed,
                       "subtypes": cfg.subtype_names(), "severities": cfg.severities,
                       "questions": cfg.questions, "shard": cfg.shard, "num_shards": cfg.num_shards,
                       **({"compound": cfg.compound.describe()} if cfg.compound is not None else {})},
            "renderer": self.renderer.describe()}))

    def up_to_date(self, manifest: dict[str, Any]) -> bool:
        """Whether a folder with ``manifest`` was built from this recipe (config, renderer settings
        and versions, the prompt version included): a changed preset, renderer or question
        generator is never mistaken for a finished build."""
        r = self.recipe()
        versions = dict(manifest.get("versions") or {})
        prompt = versions.pop("prompt", None)
        return (versions == r["versions"] and manifest.get("config") == r["config"]
                and manifest.get("renderer") == r["renderer"]
                and (prompt == PROMPT_VERSION if self.cfg.questions else True))

    def _manifest(self, plans: list[ScenePlan], frames: list[Frame], skipped: list[dict[str, Any]],
                  items: list[Any], dropped: list[Any]) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        for f in frames:
            counts[f"{f.stress.dimension}/{f.stress.subtype}/s{f.stress.severity}"] += 1
        prompt_version = items[0].prompt_version if items else None
        recipe = self.recipe()
        return {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "name": self.cfg.name,
            "content_hash": content_hash(self.out, ["scenes.jsonl", "frames.jsonl", "items.jsonl"],
                                         frames),
            "versions": {**recipe["versions"], "prompt": prompt_version},
            "config": recipe["config"],
            "renderer": recipe["renderer"],
            "assets": _asset_provenance(plans),
            **environment_manifest(plans),  # (issue 24) only where scenes name an environment
            "counts": {"scenes": len(plans), "frames": len(frames), "skipped": len(skipped),
                       "skipped_scenes": len(self.scene_skips),
                       "items": len(items), "dropped": len(dropped),
                       "frames_by_stress": dict(sorted(counts.items()))},
        }


def _factor_frames(scene: str, rec: StressRecord, by_id: dict[str, RenderedFrame]
                   ) -> tuple[tuple[RenderedFrame, RenderedFrame] | None, StressRecord]:
    """A compound's two rendered single-factor twins, or its record skipped if one was not rendered."""
    assert rec.factors is not None
    ids = [frame_id(scene, f) for f in rec.factors]
    missing = [i for i in ids if i not in by_id]
    if missing:
        why = f"its single-factor twin {missing[0].split('/', 1)[1]} was not rendered (skipped)"
        return None, rec.model_copy(update={"skipped": why})
    return (by_id[ids[0]], by_id[ids[1]]), rec


def _with_realised(record: StressRecord, realised: float | list[float] | None) -> StressRecord:
    """``record`` with its realised measure (a compound: each factor's, in its factor record)."""
    if record.factors is not None and isinstance(realised, list):
        a, b = (f.model_copy(update={"realised": r}) for f, r in zip(record.factors, realised, strict=True))
        return record.model_copy(update={"factors": (a, b)})
    return record.model_copy(update={"realised": realised})


def _asset_provenance(plans: list[ScenePlan]) -> dict[str, dict[str, str]]:
    """Source package, version, path, licence and content hash of every real asset a scene or
    its stresses may show (stresses draw clutter and stacks from the whole catalog)."""
    if not any(o.asset for p in plans for o in p.objects):
        return {}

    return {a: load_asset(a).provenance for a in sorted(asset_catalog().assets)}
