"""Version strings of the optional packages robostress adapts to (vLLM, transformers, servers)."""

from __future__ import annotations


def version_tuple(v: str) -> tuple[int, ...]:
    """``"0.10.1.1"`` -> (0, 10, 1, 1); stops at the first non-numeric part (``0.11.0rc1`` -> (0, 11))."""
    out = []
    for part in v.split("+")[0].split("."):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)
