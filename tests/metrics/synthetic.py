"""A synthetic run with known structure, shared by the metrics and report tests.

20 clean items (even: recognition, odd: spatial), items 0..15 correct (clean accuracy 0.8).
- lighting/global_underexposure at severities 1..5: item i is correct iff i < 16 - 3s, except that
  item 19 (wrong when clean) is always correct: accuracy (17 - 3s) / 20, 3s flips correct->wrong
  and 1 flip wrong->correct per severity. Item 17 at s5 has a backend error.
- viewpoint/small_scale at severities 1, 3, 5 only: same outcomes as clean (no flips). Item 18
  at s5 is unparsable.
Chance is 0.25 everywhere. Clean items 2k and 2k + 1 (and all their stressed versions) belong to
scene k: 10 scenes of 2 clean-twin families each.
"""

from __future__ import annotations

from robostress.scoring.prediction import Prediction

LIGHT = ("lighting", "global_underexposure")
VIEW = ("viewpoint", "small_scale")


def pred(item: str, clean: str, dim: str, sub: str, sev: int, ok: bool, *, ability: str = "recognition",
         model: str = "m", raw: str = "A", parse_error: str | None = None, error: str | None = None,
         chance: float = 0.25) -> Prediction:
    """One multiple-choice prediction."""
    return Prediction(item_id=item, clean_item_id=clean, frame_id=item.rsplit("/", 1)[0],
                      scene_id=scene_of(clean), dimension=dim, subtype=sub, severity=sev, ability=ability,
                      qtype="q", format="mc", raw=raw, parse_error=parse_error, error=error,
                      score=float(ok), correct=ok, chance=chance, model=model)


def scene_of(clean: str) -> str:
    """Scene of a clean item id 'clean/i' (two clean items per scene); other ids are their own scene."""
    tail = clean.rsplit("/", 1)[-1]
    return f"scene{int(tail) // 2}" if tail.isdigit() else f"scene-{clean}"


def clean_id(i: int) -> str:
    """Item id of clean item ``i``."""
    return f"clean/{i}"


def synthetic(model: str = "m") -> list[Prediction]:
    """The synthetic run described in the module docstring."""
    preds = []
    for i in range(20):
        ab = "recognition" if i % 2 == 0 else "spatial"
        c = clean_id(i)
        preds.append(pred(c, c, "none", "none", 0, i < 16, ability=ab, model=model))
        for s in range(1, 6):
            ok = i < 16 - 3 * s or i == 19
            err = "timeout" if (i, s) == (17, 5) else None
            preds.append(pred(f"light/{i}/{s}", c, *LIGHT, s, ok, ability=ab, model=model, error=err,
                              raw="" if err else "A"))
        for s in (1, 3, 5):
            bad = (i, s) == (18, 5)
            preds.append(pred(f"view/{i}/{s}", c, *VIEW, s, i < 16, ability=ab, model=model,
                              raw="<script>alert(1)</script>" if bad else "A",
                              parse_error="no option letter" if bad else None))
    return preds


def reference(model: str = "ref") -> list[Prediction]:
    """A reference run on the same items: only items 0..3 correct (error 0.8 everywhere)."""
    out = []
    for p in synthetic():
        ok = int(p.item_id.split("/")[1]) < 4
        out.append(p.model_copy(update={"correct": ok, "score": float(ok), "model": model}))
    return out


# Compound runs: 6 scenes x 10 clean items, each with factor A, factor B and their compound.
# super-additive pair (lighting+viewpoint): A wrong on items 0-1, B wrong on 2-3, the compound wrong
#   on 0-5: c = 1, a = b = 0.8, ab = 0.4; additive = drop_ab - drop_a - drop_b = 0.6 - 0.2 - 0.2 = 0.2,
#   multiplicative = a * b / c - ab = 0.24, combination-only flips 0.2 (items 4, 5).
# additive pair (material+geometry): A wrong on 0-1, B wrong on 2-3, the compound wrong on 0-3:
#   ab = 0.6; additive = 0 in every resample; multiplicative = 0.64 - 0.6 = 0.04 (> 0 in every
#   resample that draws a wrong item under each factor).
COMPOUND_PAIRS = {
    "super": (("lighting", "global_underexposure", 2), ("viewpoint", "small_scale", 3), {0, 1}, {2, 3},
              {0, 1, 2, 3, 4, 5}),
    "additive": (("material", "dark_absorptive", 4), ("geometry", "occlusion", 4), {0, 1}, {2, 3}, {0, 1, 2, 3}),
}


def compound_run(model: str = "m", scenes: int = 6, families: int = 10) -> list[Prediction]:
    """Clean, single-factor and compound predictions of ``COMPOUND_PAIRS`` (see above)."""
    def mk(item: str, clean: str, scene: str, dim: str, sub: str, sev: int, ok: bool,
           factors: tuple[str, str] | None = None) -> Prediction:
        return Prediction(item_id=item, clean_item_id=clean, factor_item_ids=factors, frame_id=item.rsplit("/", 1)[0],
                          scene_id=scene, dimension=dim, subtype=sub, severity=sev, ability="recognition",
                          qtype="q", format="mc", raw="A", score=float(ok), correct=ok, chance=0.25, model=model)

    out = []
    for s in range(scenes):
        sc = f"s{s}"
        for f in range(families):
            key = f"q{f}"
            clean = f"{sc}/clean/{key}"
            out.append(mk(clean, clean, sc, "none", "none", 0, True))
            for (da, ta, sa), (db, tb, sb), wa, wb, wab in COMPOUND_PAIRS.values():
                ia, ib = f"{sc}/{ta}/s{sa}/{key}", f"{sc}/{tb}/s{sb}/{key}"
                out.append(mk(ia, clean, sc, da, ta, sa, f not in wa))
                out.append(mk(ib, clean, sc, db, tb, sb, f not in wb))
                out.append(mk(f"{sc}/{ta}/s{sa}+{tb}/s{sb}/{key}", clean, sc, f"{da}+{db}", f"{ta}+{tb}",
                              max(sa, sb), f not in wab, (ia, ib)))
    return out
