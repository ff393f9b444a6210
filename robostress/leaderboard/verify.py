"""Verify a submission bundle against a board: schema versions, the board's benchmark (its identity,
so that a run on a rebuild made on another machine counts; docs/integrity.md), every
item exactly once, size limits, no pickles, no path leaving the bundle; scores are always
recomputed from the raw answers against the board's benchmark, and a claimed score that differs
from the recomputed one is flagged.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError, DataError
from robostress.evaluate.runner import MAX_RAW_CHARS, RUN_SCHEMA_VERSION
from robostress.leaderboard.bundle import (
    BundleFiles,
    Limits,
    Refused,
    check_layout,
    jsonl_records,
    read_json,
)
from robostress.metrics import Headline, summarize
from robostress.questions.item import Item
from robostress.scoring import score
from robostress.scoring.prediction import PREDICTION_SCHEMA_VERSION, Prediction

log = logging.getLogger(__name__)
BOARD_SCHEMA_VERSION = 1
CARD_SCHEMA_VERSION = 1
CARD_FIELDS = {"schema_version": int, "name": str, "organisation": str, "url": str, "license": str,
               "parameters": str, "description": str, "claimed": dict}
CARD_MAX_CHARS = 2000
CLAIMS = {"clean_accuracy": ("clean", "accuracy"), "stressed_accuracy": ("stressed", "accuracy")}
CLAIM_TOLERANCE = 0.0005  # a claim is a rounded number: half of 0.1 percentage point
MAX_ID_CHARS = 256


@dataclass(frozen=True)
class Board:
    """A leaderboard folder: ``leaderboards/<name>/board.yaml`` and its entries."""

    root: Path
    name: str
    title: str
    benchmark_name: str
    benchmark_hash: str  # the content hash of the build the board was made on (its pixels)
    limits: Limits
    benchmark_identity: str | None = None  # plans, items, truth, masks: what a rebuild anywhere reproduces

    @property
    def entries_dir(self) -> Path:
        """Accepted entries, one folder each."""
        return self.root / "entries"


def load_board(root: Path) -> Board:
    """Read ``board.yaml`` (ConfigError naming what is wrong)."""
    path = Path(root) / "board.yaml"
    if not path.is_file():
        raise ConfigError(f"{root} is not a leaderboard (no board.yaml)")
    try:
        data = yaml.safe_load(path.read_text()) or {}
        if data.get("schema_version") != BOARD_SCHEMA_VERSION:
            raise ConfigError(f"{path}: unknown schema_version {data.get('schema_version')!r} "
                              f"(this robostress reads {BOARD_SCHEMA_VERSION})")
        lim = data.get("limits") or {}
        ident = data["benchmark"].get("identity")
        return Board(Path(root), str(data["name"]), str(data.get("title", data["name"])),
                     str(data["benchmark"]["name"]), str(data["benchmark"]["content_hash"]),
                     Limits(**{k: int(v) for k, v in lim.items()}), None if ident is None else str(ident))
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as e:
        raise ConfigError(f"{path} is not a valid board file ({type(e).__name__}: {e})") from e


@dataclass
class Verdict:
    """The outcome of verifying one bundle."""

    ok: bool
    reason: str | None = None  # why the bundle was refused (one line)
    flags: list[str] = field(default_factory=list)  # accepted, but shown with a flag
    card: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    scores: Headline | None = None  # recomputed headline numbers
    predictions: list[Prediction] = field(default_factory=list)  # rescored


def check_card(card: dict[str, Any]) -> dict[str, Any]:
    """Model-card fields: known keys of the right type, bounded text, numeric claims."""
    if card.get("schema_version") != CARD_SCHEMA_VERSION:
        raise Refused(f"model_card.json: unknown schema_version {card.get('schema_version')!r} "
                      f"(expected {CARD_SCHEMA_VERSION})")
    for k, v in card.items():
        if k not in CARD_FIELDS:
            raise Refused(f"model_card.json: unknown field {k[:40]!r}; known: {', '.join(CARD_FIELDS)}")
        if not isinstance(v, CARD_FIELDS[k]) or isinstance(v, bool):
            raise Refused(f"model_card.json: {k} must be a {CARD_FIELDS[k].__name__}")
        if isinstance(v, str) and (len(v) > CARD_MAX_CHARS or not v.strip()):
            raise Refused(f"model_card.json: {k} must be 1..{CARD_MAX_CHARS} characters")
    if "name" not in card:
        raise Refused("model_card.json: name is required")
    for k, v in (card.get("claimed") or {}).items():
        if k not in CLAIMS:
            raise Refused(f"model_card.json: unknown claim {k[:40]!r}; known: {', '.join(CLAIMS)}")
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) or not 0 <= v <= 1:
            raise Refused(f"model_card.json: claimed {k} must be a number in [0, 1]")
    return card


def check_run(run: dict[str, Any], board: Board) -> dict[str, Any]:
    """run.json: known schema and the board's benchmark."""
    if run.get("schema_version") != RUN_SCHEMA_VERSION:
        raise Refused(f"run.json: unknown schema_version {run.get('schema_version')!r} (expected {RUN_SCHEMA_VERSION})")
    bench = run.get("benchmark")
    bench = bench if isinstance(bench, dict) else {}
    got, ident = bench.get("content_hash"), bench.get("identity")
    if board.benchmark_identity is not None and ident == board.benchmark_identity:
        return run  # the board's benchmark, rebuilt anywhere (its pixels may differ by render noise)
    if got != board.benchmark_hash:
        want = board.benchmark_identity or board.benchmark_hash
        have = ident if board.benchmark_identity is not None and ident else got
        raise Refused(f"run.json: benchmark hash {str(have)[:16]!r} is not the board's "
                      f"{want[:16]!r} ({board.benchmark_name}); evaluate on that benchmark")
    return run


def rescore(files: BundleFiles, board: Board, bench: Benchmark) -> tuple[list[Prediction], int]:
    """Every item exactly once, each answer scored afresh from its raw text; returns the rescored
    predictions (benchmark order) and how many submitted scores differed from the recomputed ones."""
    items: dict[str, Item] = {i.item_id: i for i in bench.items}
    seen: dict[str, dict[str, Any]] = {}
    for n, rec in jsonl_records(files.predictions, board.limits.max_file_bytes):
        if rec.get("schema_version") != PREDICTION_SCHEMA_VERSION:
            raise Refused(f"predictions line {n}: unknown schema_version {rec.get('schema_version')!r} "
                          f"(expected {PREDICTION_SCHEMA_VERSION})")
        iid = rec.get("item_id")
        if not isinstance(iid, str) or len(iid) > MAX_ID_CHARS:
            raise Refused(f"predictions line {n}: item_id must be a string")
        if iid not in items:
            raise Refused(f"predictions line {n}: item {iid[:80]!r} is not in the board's benchmark")
        if iid in seen:
            raise Refused(f"predictions line {n}: item {iid[:80]!r} is duplicated")
        if not isinstance(rec.get("raw"), str) or (rec.get("error") is not None and not isinstance(rec["error"], str)):
            raise Refused(f"predictions line {n}: raw must be a string and error a string or null")
        seen[iid] = rec
    missing = [i for i in items if i not in seen]
    if missing:
        raise Refused(f"{len(missing)} of {len(items)} items have no prediction (first: {missing[0]!r})")
    mask = functools.lru_cache(maxsize=32)(bench.mask)  # items come frame by frame
    models = {str(r.get("model", ""))[:200] for r in seen.values()}
    label = sorted(models)[0] if len(models) == 1 else "submission"
    out, differ = [], 0
    for iid, item in items.items():
        rec = seen[iid]
        raw, error = rec["raw"][:MAX_RAW_CHARS], rec.get("error")
        s = score(item, raw, mask)
        ok = bool(s.correct) and error is None
        val = float(s.score) if error is None else 0.0
        if rec.get("correct") != ok or not _close(rec.get("score"), val):
            differ += 1
        out.append(Prediction(
            item_id=iid, clean_item_id=item.clean_item_id, factor_item_ids=item.factor_item_ids,
            frame_id=item.frame_id, scene_id=item.scene_id,
            dimension=item.dimension, subtype=item.subtype, severity=item.severity, ability=item.ability,
            qtype=item.qtype, format=item.format, raw=raw, parsed=s.parsed,
            parse_error=None if error else s.parse_error, score=val, correct=ok, chance=float(s.chance),
            details=dict(s.details), error=error[:500] if error else None, model=label))
    return out, differ


def _close(a: Any, b: float) -> bool:
    return isinstance(a, int | float) and not isinstance(a, bool) and abs(float(a) - b) <= 1e-6


def check_benchmark(bench: Benchmark, board: Board) -> None:
    """DataError unless ``bench`` is the board's benchmark: the same identity (plans, items,
    truth, masks) where the board names one, else the same content hash."""
    if board.benchmark_identity is not None:
        if bench.identity == board.benchmark_identity:
            if bench.content_hash != board.benchmark_hash:
                log.info("benchmark %s is board %r's benchmark (identity %s); its pixels differ from the "
                         "board's build by render noise (`robostress verify ... against=...` measures it)",
                         bench.root, board.name, board.benchmark_identity[:12])
            return
        have = bench.identity[:12] if bench.identity else "a build without an identity (rebuild it)"
        raise DataError(f"benchmark folder {bench.root} has identity {have}, but board {board.name!r} is for "
                        f"{board.benchmark_identity[:12]}; pass the board's benchmark as benchmark_dir")
    if bench.content_hash != board.benchmark_hash:
        raise DataError(f"benchmark folder {bench.root} is {bench.content_hash[:12]}, but board {board.name!r} "
                        f"is for {board.benchmark_hash[:12]}; pass the board's benchmark as benchmark_dir")


def verify(bundle: Path, board: Board, bench: Benchmark, resamples: int = 2000) -> Verdict:
    """Verify ``bundle`` against ``board`` (whose benchmark is ``bench``); never raises for a bad
    bundle: the verdict carries the reason."""
    check_benchmark(bench, board)
    try:
        files = check_layout(bundle, board.limits)
        run = check_run(read_json(files.files["run.json"], "run.json"), board)
        card = check_card(read_json(files.files["model_card.json"], "model_card.json"))
        preds, differ = rescore(files, board, bench)
    except Refused as e:
        return Verdict(False, e.reason)
    scores = summarize(preds, resamples=resamples).headline()
    flags = [f"{differ} of {len(preds)} submitted per-item scores differ from the recomputed ones"] if differ else []
    for k, v in (card.get("claimed") or {}).items():
        got = getattr(getattr(scores, CLAIMS[k][0]), CLAIMS[k][1])
        if got is None or abs(float(v) - got) > CLAIM_TOLERANCE:
            flags.append(f"claimed {k} {100 * float(v):.1f}% differs from the recomputed "
                         f"{'n/a' if got is None else f'{100 * got:.1f}%'}")
    return Verdict(True, None, flags, card, run, scores, preds)
