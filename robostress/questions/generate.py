"""Question sets of scenes, realised on every frame and paired across clean/stressed twins.

The question set of a scene is chosen ONCE, on its clean twin (``plan_questions``): every
registered question type proposes questions (drawing the truth value it asks about first, see
``robostress.questions.base``), questions undefined on the clean twin are left out, and each
multiple-choice question gets its final option order, with the correct letter drawn per
question type from a Latin square over (scene ordinal, question of the type), so each letter
is correct equally often for every type, within a scene and across consecutive scenes. Each
question is then *realised* on every frame of the scene (``realise``): same text and option
order, truth recomputed on that frame's plan and ground truth, or dropped with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from robostress.errors import DataError
from robostress.questions import acceptance, grounding, planning, recognition, spatial, state  # noqa: F401 (register)
from robostress.questions.base import QUESTION_TYPES, Drop, FrameContext, QuestionSpec, Slots
from robostress.questions.item import ABILITIES, LETTERS, DroppedItem, Item
from robostress.questions.templates import PROMPT_VERSION, prompt
from robostress.render.frame import Frame, FrameArrays
from robostress.scene.plan import ScenePlan
from robostress.seeding import rng

NOT_ON_CLEAN = "undefined on the clean twin"


def plan_questions(clean_plan: ScenePlan, clean_frame: Frame, seed: int,
                   arrays: FrameArrays | None = None, ordinal: int | None = None,
                   records: list[tuple[str, acceptance.Record]] | None = None) -> list[QuestionSpec]:
    """The question set of a scene, chosen on its clean twin (deterministic in seed and scene id).

    Args:
        clean_plan: the clean ScenePlan that was rendered.
        clean_frame: its Frame record (severity 0).
        seed: the benchmark's question seed.
        arrays: the clean frame's arrays; when given, grounding questions undefined on the
            clean twin are left out here too (else ``generate_items`` leaves them out).
        ordinal: the scene's position in its benchmark (``Builder`` passes it): balanced draws
            are then uniform over any run of consecutive scenes; without it a stable hash of the
            scene id stands in (uniform within a scene, random across scenes).
        records: when given, every question a fitted acceptance would decide on is kept and its
            (type, ``acceptance.Record``) appended here (``robostress.evaluate.calibrate``
            fits the acceptance from them, ``robostress.questions.acceptance``).

    Returns:
        Specs grouped by ability (in ``ABILITIES`` order); multiple-choice options in their
        final order.
    """
    if clean_frame.stress.severity != 0 or clean_frame.frame_id != clean_frame.clean_frame_id:
        raise DataError(f"plan_questions needs the clean twin; frame {clean_frame.frame_id} is stressed "
                        f"({clean_frame.stress.subtype} s{clean_frame.stress.severity})")
    _check_pair(clean_plan, clean_frame)
    ctx = FrameContext(clean_plan, clean_frame, arrays, Slots.of(seed, clean_plan.scene_id, ordinal))
    specs: list[QuestionSpec] = []
    for name in QUESTION_TYPES:  # each type draws from its own stream: adding one moves no other
        specs += QUESTION_TYPES.get(name).propose(ctx, rng(seed, clean_plan.scene_id, "questions", name))
    specs.sort(key=lambda s: ABILITIES.index(s.ability))
    keys = [s.key for s in specs]
    if len(keys) != len(set(keys)):
        raise AssertionError(f"duplicate question keys in {clean_plan.scene_id}: {keys}")
    return _balance(specs, ctx, rng(seed, clean_plan.scene_id, "answer-slots"),
                    lambda key: float(rng(seed, clean_plan.scene_id, "acceptance", key).random()), records)


def _kept(s: QuestionSpec, ctx: FrameContext, right: str, draw: Callable[[str], float],
          records: list[tuple[str, acceptance.Record]] | None) -> bool:
    """Whether a question survives its type's fitted acceptance (``robostress.questions.acceptance``)."""
    key = QUESTION_TYPES.get(s.qtype).acceptance_key(s, ctx, right)
    if key is None:
        return True
    if records is not None:
        records.append((s.qtype, key))
        return True
    entry = acceptance.entry_for(ctx.plan.family, s.qtype)
    return entry is None or draw(s.key) < acceptance.acceptance(entry, key)


def _balance(specs: list[QuestionSpec], ctx: FrameContext, g: np.random.Generator,
             draw: Callable[[str], float], records: list[tuple[str, acceptance.Record]] | None) -> list[QuestionSpec]:
    """Leave out questions undefined on the clean twin and those their type's fitted acceptance
    leaves out (``_kept``); put each clean answer in a balanced slot (per question type and option
    count), the wrong options around it in a seeded order. A question left out by its acceptance
    still takes its slot and its order draw, so every other question, and every kept one, is
    exactly what it would be without the acceptance (g9's items are g8's, less those left out);
    the letters of the kept questions stay balanced in expectation (the acceptance never sees
    them), no longer exactly per run of scenes."""
    asked: Counter[tuple[str, int]] = Counter()
    out = []
    for s in specs:
        qt = QUESTION_TYPES.get(s.qtype)
        if s.format != "mc":
            if ctx.arrays is None or qt.defined(s, ctx):
                out.append(s)
            continue
        try:
            right = qt.truth(s, ctx)
        except Drop:
            continue
        if right not in s.options or len(set(s.options)) != len(s.options):
            raise AssertionError(f"{s.key}: clean answer {right!r} must be one of distinct options {s.options}")
        n = len(s.options)
        slot = ctx.slots.draw(f"letter/{s.qtype}", asked[(s.qtype, n)], n)
        asked[(s.qtype, n)] += 1
        wrong = [o for o in s.options if o != right]
        wrong = [wrong[i] for i in g.permutation(len(wrong))]
        if not _kept(s, ctx, right, draw, records):  # after its draws: what is kept is as it was
            continue
        opts = (*wrong[:slot], right, *wrong[slot:])
        out.append(QuestionSpec(s.key, s.ability, s.qtype, s.format, s.question, opts, s.subjects, s.params))
    return out


def _check_pair(plan: ScenePlan, frame: Frame) -> None:
    if plan.scene_id != frame.scene_id:
        raise DataError(f"plan of scene {plan.scene_id} given with frame {frame.frame_id} of scene {frame.scene_id}")


def realise(spec: QuestionSpec, plan: ScenePlan, frame: Frame, arrays: FrameArrays | None = None,
            prompt_version: str = PROMPT_VERSION) -> Item | DroppedItem:
    """The item of ``spec`` on one frame, or why it is dropped there.

    Args:
        spec: a question from ``plan_questions`` of this frame's scene.
        plan: the ScenePlan this frame rendered (clean or stressed).
        frame: the Frame record.
        arrays: the frame's arrays (needed by grounding questions; DataError without them).
        prompt_version: must be ``PROMPT_VERSION`` (ConfigError otherwise).
    """
    _check_pair(plan, frame)
    text = prompt(spec.format, spec.question, spec.options, prompt_version)
    try:
        truth = QUESTION_TYPES.get(spec.qtype).truth(spec, FrameContext(plan, frame, arrays))
        if spec.format == "mc" and truth not in spec.options:
            raise Drop(f"the answer ({truth}) is not among the options")
    except Drop as e:
        return DroppedItem(frame_id=frame.frame_id, key=spec.key, reason=str(e))
    mc = spec.format == "mc"
    return Item(item_id=f"{frame.frame_id}/{spec.key}", key=spec.key, frame_id=frame.frame_id,
                scene_id=frame.scene_id, clean_item_id=f"{frame.clean_frame_id}/{spec.key}", image=frame.image,
                factor_item_ids=_factor_items(frame, spec.key),
                dimension=frame.stress.dimension, subtype=frame.stress.subtype, severity=frame.stress.severity,
                ability=spec.ability, qtype=spec.qtype, format=spec.format,  # type: ignore[arg-type]
                question=spec.question, prompt=text, options=spec.options,
                answer=LETTERS[spec.options.index(truth)] if mc else None,
                truth={"option": truth} if mc else truth, prompt_version=prompt_version)


def _factor_items(frame: Frame, key: str) -> tuple[str, str] | None:
    """A compound frame's item ``key`` on each of its two single-factor twins."""
    if frame.factor_frame_ids is None:
        return None
    a, b = frame.factor_frame_ids
    return f"{a}/{key}", f"{b}/{key}"


def generate_items(clean_plan: ScenePlan, clean_frame: Frame,
                   frames: Sequence[tuple[ScenePlan, Frame, FrameArrays | None]], seed: int,
                   ordinal: int | None = None) -> tuple[list[Item], list[DroppedItem]]:
    """Items of every frame of one scene, clean twin first.

    ``frames`` holds (plan, frame, arrays) of the scene's frames and must include the clean
    frame. A stressed item is kept only when its clean twin item exists, so every stressed item
    has its pair; otherwise it is dropped as undefined on the clean twin. ``ordinal`` is the
    scene's position in its benchmark (see ``plan_questions``).
    """
    clean = [f for f in frames if f[1].frame_id == clean_frame.frame_id]
    if not clean:
        raise DataError(f"generate_items: the clean frame {clean_frame.frame_id} is not among the frames")
    specs = plan_questions(clean_plan, clean_frame, seed, clean[0][2], ordinal)
    items: list[Item] = []
    dropped: list[DroppedItem] = []
    clean_keys: set[str] = set()
    rest = [f for f in frames if f[1].frame_id != clean_frame.frame_id]
    for plan, frame, arrays in [clean[0], *rest]:
        if frame.scene_id != clean_frame.scene_id:
            raise DataError(f"frame {frame.frame_id} is not of scene {clean_frame.scene_id}")
        is_clean = frame.frame_id == clean_frame.frame_id
        for s in specs:
            r = realise(s, plan, frame, arrays)
            if isinstance(r, Item) and not is_clean and s.key not in clean_keys:
                r = DroppedItem(frame_id=frame.frame_id, key=s.key, reason=NOT_ON_CLEAN)
            if isinstance(r, Item):
                items.append(r)
                clean_keys |= {s.key} if is_clean else set()
            else:
                dropped.append(r)
    return items, dropped
