"""The stress-aware agent: detect the stress, edit the image with the matching skill, reason.

It wraps any backend. VLM backends get a two-image message (original, then edited) with a line
saying what was edited; backends that read one image (``Model.reads_one_image``: the weight-free
ones and ``reader``) follow a documented rule:
they answer on the edited image when an edit was applied, else on the original. Grounding
answers given on a zoomed or de-rotated image are mapped back to the original's coordinates.
Every step is recorded in ``Response.extra['agent_trace']``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from robostress.agent.cnn import CNNDetector
from robostress.agent.detector import Detection, LearnedDetector, OracleDetector, VLMDetector
from robostress.agent.skills import (
    SKILLS,
    SKILLS_VERSION,
    SUBTYPE_SKILLS,
    Edit,
    Transform,
    exposure_factor,
    gated_skills,
)
from robostress.errors import ConfigError
from robostress.models.base import Model, Request, Response
from robostress.render.io import encode_rgb, read_rgb, write_atomic
from robostress.scoring.parse import parse_box, parse_point

MIN_CHANGE = 1.0  # mean absolute change (of 255) below which an edit is not worth showing


def _needed(skill: str, rgb: np.ndarray) -> str | None:
    """Safety rule: why an edit is unnecessary for this image (None if it may help)."""
    if skill == "exposure_linear":
        k = exposure_factor(rgb)
        if 2 ** -0.25 <= k <= 2 ** 0.25:
            return f"already well exposed (factor {k:.2f}, within a quarter stop)"
    if skill == "exposure_gamma":
        med = float(np.median(rgb.mean(-1))) / 255
        if 0.3 <= med <= 0.65:
            return f"already well exposed (median {med:.2f})"
    return None


class StressAwareAgent(Model):
    """detect -> edit -> reason, around any base model."""

    name = "stress_aware"

    def __init__(self, base: Model, work_dir: Path, *, detector: str = "learned", threshold: float | str = 0.4,
                 edit: bool = True, drop_skill: str | None = None, images: str = "auto",
                 weights: str | None = None, label: str = "agent", skills: dict[str, str] | None = None) -> None:
        if detector not in ("learned", "cnn", "oracle", "vlm"):
            raise ConfigError(f"agent detector must be 'learned', 'cnn', 'oracle' or 'vlm', got {detector!r}")
        if isinstance(threshold, str) and threshold != "fitted":
            raise ConfigError(f"agent threshold must be a number or 'fitted', got {threshold!r}")
        if drop_skill is not None:
            SKILLS.get(drop_skill)  # ConfigError naming the skills if unknown
        if images not in ("auto", "both", "edited"):
            raise ConfigError(f"agent images must be auto, both or edited, got {images!r}")
        self.skills = skill_map(skills)
        # the edited image alone, or the original and the edited one (part of the fingerprint)
        self._single = images == "edited" or (images == "auto" and base.reads_one_image)
        self.base, self.work_dir, self.detector_kind = base, Path(work_dir), detector
        self.batch_hint = base.batch_hint  # a GPU engine underneath still gets GPU-sized batches
        self.threshold, self.edit, self.drop_skill, self.images, self.label = threshold, edit, drop_skill, images, label
        self.detector: Any
        if detector == "learned":
            self.detector = LearnedDetector.load(weights) if weights else LearnedDetector.load()
        elif detector == "cnn":
            self.detector = CNNDetector.load(weights) if weights else CNNDetector.load()
        elif detector == "vlm":
            self.detector = VLMDetector(base)
        else:
            self.detector = OracleDetector()
        self.thresholds = self._thresholds(threshold)
        self._detections: dict[str, Detection] = {}
        self._cache: dict[tuple[str, str], tuple[str, Edit, float]] = {}
        self.decoded_images = 0  # images read from disk (once per distinct image per batch)

    def _thresholds(self, threshold: float | str) -> dict[str, float]:
        """The confidence each skill needs: one number for all, or the detector's own gates
        (fitted on held-out scenes of the train split, in its weights file)."""
        skills = sorted(set(self.skills.values()))
        if threshold != "fitted":
            return {k: float(threshold) for k in skills}
        fitted = getattr(self.detector, "meta", {}).get("thresholds")
        if not isinstance(fitted, dict):
            raise ConfigError(f"agent threshold 'fitted' needs a detector whose weights carry fitted gates "
                              f"(detector: cnn); {self.detector_kind!r} has none")
        # a gate depends only on the sub-types its skill answers (fit_gate): a skill the card
        # predates takes the gate of a skill answering the same ones
        groups = gated_skills()
        by_group = {groups[o]: v for o, v in fitted.items() if o in groups}
        return {k: float(fitted.get(k, by_group.get(groups.get(k), 1.01))) for k in skills}

    def _confidence(self, det: Detection, skill: str) -> float:
        """Fitted gates were fitted on the skill's confidence; one number gates the top class."""
        return skill_confidence(det, skill, self.skills) if self.threshold == "fitted" else det.confidence

    def describe(self) -> dict[str, Any]:
        """The base model plus every agent setting (part of the run fingerprint)."""
        meta = getattr(self.detector, "meta", {})
        return {"backend": self.name, "base": self.base.describe(), "detector": self.detector_kind,
                "detector_sha": meta.get("sha"), "threshold": self.threshold, "edit": self.edit,
                "drop_skill": self.drop_skill, "images": self.images, "skills": self.skills,
                "sent": "edited" if self._single else "both",
                "skills_version": SKILLS_VERSION,
                **({"thresholds": self.thresholds} if self.threshold == "fitted" else {})}

    def _detect(self, r: Request, rgb: np.ndarray) -> Detection:
        if isinstance(self.detector, OracleDetector):
            assert r.item is not None
            return self.detector.detect_item(r.item)
        if isinstance(self.detector, VLMDetector):
            return self._detections[r.images[0]]
        if r.images[0] not in self._detections:  # about 20 questions share an image: detect it once
            self._detections[r.images[0]] = self.detector.detect(rgb)
        return self._detections[r.images[0]]

    def _edited(self, path: str, rgb: np.ndarray, skill: str) -> tuple[str, Edit, float]:
        """The edited image's file, the edit (its pixels dropped once written: flat memory over
        a run) and the mean absolute change it makes."""
        key = (path, skill)
        if key not in self._cache:
            e = SKILLS.get(skill)(rgb)
            name = hashlib.sha256(f"{path}|{skill}".encode()).hexdigest()[:20] + ".png"
            out = self.work_dir / name
            if not out.exists():
                write_atomic(out, encode_rgb(e.image))
            change = float(np.abs(e.image.astype(np.int16) - rgb.astype(np.int16)).mean())
            self._cache[key] = (str(out), replace(e, image=np.zeros((0, 0, 3), np.uint8)), change)
        return self._cache[key]

    def _plan(self, r: Request, rgb: np.ndarray) -> tuple[Request, dict[str, Any], Transform | None]:
        t0 = time.perf_counter()
        det = self._detect(r, rgb)
        trace: dict[str, Any] = {"step": "detect", **det.as_dict()}
        skill = self.skills.get(det.subtype, "identity")
        why = None
        if not self.edit:
            why = "editing disabled (detect-only ablation)"
        elif det.subtype == "none" or skill == "identity":
            why = f"no edit for {det.subtype}"
        elif skill == self.drop_skill:
            why = f"skill {skill} removed (ablation)"
        elif (conf := self._confidence(det, skill)) < self.thresholds[skill]:
            why = f"detector unsure ({conf:.2f} < {self.thresholds[skill]:.2f} for {skill})"
        else:
            why = _needed(skill, rgb)
        edit_trace: dict[str, Any] = {"step": "edit", "skill": skill}
        if why is None:
            path, e, change = self._edited(r.images[0], rgb, skill)
            if change < MIN_CHANGE:
                why = f"edit changes the image too little ({change:.2f})"
            elif self._single and (moved := _points_on_edited(r, e.transform)) is None:
                why = "the question's point lies outside the edited image"
            else:
                edit_trace.update(applied=True, change=round(change, 3), image=Path(path).name, **e.info)
                if self._single:
                    new = replace(moved, images=(path,) + r.images[1:])
                    transform = e.transform
                else:
                    note = (f"The first image is the original. The second is an edited copy ({skill}) made to "
                            f"counter suspected {det.subtype.replace('_', ' ')}. Coordinates refer to the first image.\n")
                    new = replace(r, images=(r.images[0], path), prompt=note + r.prompt)
                    transform = None
                edit_trace["seconds"] = round(time.perf_counter() - t0, 4)
                return new, {"detect": trace, "edit": edit_trace}, transform
        edit_trace.update(applied=False, kept_original=why, seconds=round(time.perf_counter() - t0, 4))
        return r, {"detect": trace, "edit": edit_trace}, None

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Plan every request, answer them in one batch with the base model, map answers back."""
        if isinstance(self.detector, VLMDetector):  # one batched extra call per new image
            todo = sorted({r.images[0] for r in requests} - set(self._detections))
            self._detections.update(zip(todo, self.detector.detect_many(todo), strict=True) if todo else [])
        calls_before = getattr(self.detector, "calls", 0)
        # about 20 questions share an image: decode each image once per batch, not once per question
        decoded = {path: read_rgb(Path(path)) for path in dict.fromkeys(r.images[0] for r in requests)}
        self.decoded_images += len(decoded)
        planned = [self._plan(r, decoded[r.images[0]]) for r in requests]
        del decoded
        t = time.perf_counter()
        outs = self.base.generate([p[0] for p in planned])
        reason_s = (time.perf_counter() - t) / max(1, len(requests))
        extra_calls = 1 if isinstance(self.detector, VLMDetector) else 0  # one detection call per image
        _ = calls_before
        result = []
        for r, (new, steps, transform), out in zip(requests, planned, outs, strict=True):
            text = _map_back(r, out.text, transform) if transform is not None and out.text else out.text
            steps["reason"] = {"step": "reason", "images": len(new.images), "seconds": round(reason_s, 4),
                               "extra_model_calls": extra_calls, "mapped_back": text != out.text}
            trace = [steps["detect"], steps["edit"], steps["reason"]]
            result.append(Response(text=text, logprobs=out.logprobs, latency_s=out.latency_s + steps["edit"]["seconds"],
                                   prompt_tokens=out.prompt_tokens, completion_tokens=out.completion_tokens,
                                   error=out.error, extra={**out.extra, "agent_trace": trace}))
        return result

    def close(self) -> None:
        """Close the base model."""
        self.base.close()


def skill_map(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Which skill answers which sub-type: ``SUBTYPE_SKILLS`` with an agent preset's ``skills``
    entries (sub-type: skill) over it; unknown sub-types or skills are refused."""
    out = dict(SUBTYPE_SKILLS)
    for sub, skill in (overrides or {}).items():
        if sub not in out:
            raise ConfigError(f"agent skills: unknown sub-type {sub!r}; known: {sorted(out)}")
        SKILLS.get(str(skill))  # ConfigError naming the skills if unknown
        out[sub] = str(skill)
    return out


POINT_IN_TEXT = re.compile(r"\((\d+), (\d+)\)")  # 'at the point (361, 377)': permille, as the templates write it


def _points_on_edited(r: Request, tf: Transform) -> Request | None:
    """``r`` with every point its question names moved onto the edited image (the question speaks
    of the original's coordinates), or None if a point falls outside the edited image."""
    if r.item is None or not POINT_IN_TEXT.search(r.prompt + r.item.question):
        return r
    outside = False

    def move(m: re.Match[str]) -> str:
        nonlocal outside
        x, y = tf.to_edited(float(m.group(1)), float(m.group(2)))
        outside |= not (0 <= x <= 1000 and 0 <= y <= 1000)
        return f"({int(round(x))}, {int(round(y))})"

    prompt, question = POINT_IN_TEXT.sub(move, r.prompt), POINT_IN_TEXT.sub(move, r.item.question)
    if outside:
        return None
    return replace(r, prompt=prompt, item=r.item.model_copy(update={"question": question, "prompt": prompt}))


def skill_confidence(det: Detection, skill: str, skills: dict[str, str] | None = None) -> float:
    """How sure the detector is that ``skill`` answers the image's stress: the summed probability
    of every sub-type the skill answers (under- and overexposure both call for exposure_gamma)."""
    answered = [s for s, k in (skills or SUBTYPE_SKILLS).items() if k == skill]
    summed = sum(det.probs.get(s, 0.0) for s in answered)
    return max(det.confidence, summed) if det.subtype in answered else summed


def _map_back(r: Request, text: str, tf: Transform) -> str:
    """Grounding answers on the edited image -> the original's permille coordinates."""
    if r.item is None or r.item.format == "mc":
        return text
    if r.item.format == "box":
        p = parse_box(text)
        if p.error:
            return text
        x0, y0 = tf.to_original(p.value[0], p.value[1])
        x1, y1 = tf.to_original(p.value[2], p.value[3])
        vals = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
    else:
        p = parse_point(text)
        if p.error:
            return text
        vals = list(tf.to_original(p.value[0], p.value[1]))
    return json.dumps([int(round(min(1000.0, max(0.0, v)))) for v in vals])
