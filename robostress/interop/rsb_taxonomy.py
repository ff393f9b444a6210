"""RoboStressBench's stress taxonomy and its mapping to robostress's sub-types (the one table).

RoboStressBench records carry ``annotation.stress`` as ``{"<letter>": ["<name>", ...]}`` with the
primary letters G (geometry), M (material), V (viewpoint) and L (lighting) and 16 canonical
secondary names. robostress's 16 sub-types are the same physical stresses; only one name differs
(``non_rigid_deform`` is robostress's ``nonrigid_deformation``).
"""

from __future__ import annotations

from typing import Any

PRIMARIES = ("G", "M", "V", "L")  # RoboStressBench's order (summary keys, bucketing)
PRIMARY_DIMENSION = {"G": "geometry", "M": "material", "V": "viewpoint", "L": "lighting"}
PRIMARY_DISPLAY = {"G": "Geometry", "M": "Material", "V": "Viewpoint", "L": "Lighting"}

# (RoboStressBench letter, secondary name) -> (robostress dimension, robostress sub-type), in
# RoboStressBench's canonical order: per letter G, M, V, L, the secondaries as its summary lists them.
RSB_TO_ROBOSTRESS: dict[tuple[str, str], tuple[str, str]] = {
    ("G", "cluttered_layout"): ("geometry", "cluttered_layout"),
    ("G", "non_rigid_deform"): ("geometry", "nonrigid_deformation"),
    ("G", "occlusion"): ("geometry", "occlusion"),
    ("G", "stacked_layout"): ("geometry", "stacked_layout"),
    ("M", "complex_texture"): ("material", "complex_texture"),
    ("M", "dark_absorptive"): ("material", "dark_absorptive"),
    ("M", "low_contrast_blend"): ("material", "low_contrast_blend"),
    ("M", "specular_confusion"): ("material", "specular_confusion"),
    ("M", "transparent"): ("material", "transparent"),
    ("V", "extreme_viewpoint"): ("viewpoint", "extreme_viewpoint"),
    ("V", "small_scale"): ("viewpoint", "small_scale"),
    ("V", "truncated_out_of_frame"): ("viewpoint", "truncated_out_of_frame"),
    ("L", "global_overexposure"): ("lighting", "global_overexposure"),
    ("L", "global_underexposure"): ("lighting", "global_underexposure"),
    ("L", "local_overexposure"): ("lighting", "local_overexposure"),
    ("L", "local_underexposure"): ("lighting", "local_underexposure"),
}
ROBOSTRESS_TO_RSB: dict[tuple[str, str], tuple[str, str]] = {v: k for k, v in RSB_TO_ROBOSTRESS.items()}
CANONICAL_SECONDARIES: dict[str, tuple[str, ...]] = {
    p: tuple(name for (letter, name) in RSB_TO_ROBOSTRESS if letter == p) for p in PRIMARIES}


def to_robostress(letter: str, name: str) -> tuple[str, str]:
    """robostress (dimension, sub-type) of a RoboStressBench tag; a name outside the table keeps its
    own name under its letter's dimension."""
    return RSB_TO_ROBOSTRESS.get((letter, name), (PRIMARY_DIMENSION.get(letter, letter), name))


def to_rsb(dimension: str, subtype: str) -> tuple[str, str]:
    """RoboStressBench (letter, secondary) of a robostress sub-type; KeyError for one outside the table."""
    return ROBOSTRESS_TO_RSB[(dimension, subtype)]


def first_tag(stress: Any) -> tuple[str, str] | None:
    """The first (letter, name) of an ``annotation.stress`` value in G, M, V, L order (None: untagged).

    Only list values of the four letters count, as in RoboStressBench's bucketing."""
    if not isinstance(stress, dict):
        return None
    for letter in PRIMARIES:
        val = stress.get(letter)
        if isinstance(val, list) and val:
            return letter, str(val[0])
    return None
