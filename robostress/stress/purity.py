"""Purity: a stressed plan differs from its clean twin only in fields its dimension owns (a compound:
its two dimensions)."""

from __future__ import annotations

import re
from typing import Any

from robostress.core.records import COMPOUND_JOIN
from robostress.scene.plan import ScenePlan

# Regular expressions over changed paths (see changed_paths) that each dimension may touch.
DIMENSION_OWNS: dict[str, tuple[str, ...]] = {
    "material": (r"objects\[[^+\]]+\]\.material(\..*)?", r"supports\[[^\]]+\]\.material(\..*)?"),
    "lighting": (r"lights(\[.*)?", r"casters(\[.*)?"),
    "viewpoint": (r"camera(\..*)?",),
    "geometry": (r"objects\[\+[^\]]+\]",
                 r"objects\[[^+\]]+\]\.(position|yaw_deg|tipped|support_id)",
                 r"objects\[[^+\]]+\]\.deformation(\..*)?"),
}


def _keyed(xs: list[Any]) -> dict[str, Any] | None:
    if xs and all(isinstance(x, dict) and "id" in x for x in xs):
        return {str(x["id"]): x for x in xs}
    return None


def _diff(a: Any, b: Any, path: str, out: set[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a or k not in b:
                out.add(p)
            else:
                _diff(a[k], b[k], p, out)
    elif isinstance(a, list) and isinstance(b, list):
        ka, kb = _keyed(a), _keyed(b)
        if ka is not None and kb is not None or (not a and kb) or (not b and ka):
            ka, kb = ka or {}, kb or {}
            for k in sorted(set(ka) | set(kb)):
                if k not in ka:
                    out.add(f"{path}[+{k}]")
                elif k not in kb:
                    out.add(f"{path}[-{k}]")
                else:
                    _diff(ka[k], kb[k], f"{path}[{k}]", out)
        elif a != b:
            out.add(path)
    elif a != b:
        out.add(path)


def changed_paths(clean: ScenePlan, stressed: ScenePlan) -> set[str]:
    """Paths that differ, e.g. 'objects[obj02].material.albedo_scale', 'objects[+occ_obj02]'."""
    out: set[str] = set()
    _diff(clean.model_dump(mode="json"), stressed.model_dump(mode="json"), "", out)
    return out


def check_purity(dimension: str, clean: ScenePlan, stressed: ScenePlan) -> list[str]:
    """Changed paths the dimension does not own (empty when the stress is pure). A compound's
    dimension ('lighting+viewpoint') owns what each of its dimensions owns, and nothing else."""
    owns = [re.compile(p) for d in dimension.split(COMPOUND_JOIN) for p in DIMENSION_OWNS[d]]
    return sorted(p for p in changed_paths(clean, stressed) if not any(o.fullmatch(p) for o in owns))
