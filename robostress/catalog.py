"""Locate the user-editable catalogs (scenes/, renderers/, agents/, leaderboards/).

Each catalog is searched in the working directory first (``./scenes``, ``./renderers``,
``./agents``, ``./leaderboards``), then in the package: a user adds a scene family or a model
preset as a YAML file beside their runs, without touching site-packages, and a file of the same
name in the working directory shadows the packaged one. The packaged catalogs are the top-level
folders of the repository, reached through the symbolic links in ``robostress/_catalog/``; a
wheel copies them there as package data. (Looking next to the package instead would pick up
unrelated top-level packages such as the OpenAI Agents SDK's ``agents``.)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from robostress.errors import ConfigError

CATALOGS = ("scenes", "renderers", "agents", "leaderboards")
_PKG = Path(__file__).resolve().parent


def _check_name(name: str) -> None:
    if name not in CATALOGS:
        raise ConfigError(f"unknown catalog {name!r}; choose one of: {', '.join(CATALOGS)}")


def yaml_problem(e: Exception) -> str:
    """A YAML parse error in one line: what is wrong and where (``mapping values are not allowed, line 2``)."""
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    mark = getattr(e, "problem_mark", None)
    return f"{problem}, line {mark.line + 1} column {mark.column + 1}" if mark is not None else str(problem)


def catalog_dir(name: str) -> Path:
    """The packaged directory of catalog ``name`` (the fallback behind the working directory's)."""
    _check_name(name)
    root = _PKG / "_catalog" / name
    if not root.is_dir():
        raise ConfigError(f"catalog folder {name!r} is missing from this robostress installation ({root})")
    return root


def catalog_dirs(name: str, sub: str = "") -> list[Path]:
    """Where catalog ``name`` (optionally its sub-folder ``sub``) is searched, in order.

    ``./<name>/<sub>`` of the working directory comes first when it exists, then the package's.
    """
    pkg = catalog_dir(name) / sub
    local = Path.cwd() / name / sub
    dirs = [local] if local.is_dir() and not _same_dir(str(local), str(pkg)) else []
    return dirs + [pkg]


@lru_cache(maxsize=256)
def _same_dir(a: str, b: str) -> bool:
    """Whether two folder paths resolve to the same folder (remembered: resolving walks every
    link of both paths, and scene sampling asks tens of thousands of times per run)."""
    return Path(a).resolve() == Path(b).resolve()


def catalog_file(name: str, relpath: str) -> Path:
    """``relpath`` inside catalog ``name``: the working directory's copy if present, else the package's."""
    dirs = catalog_dirs(name)
    for d in dirs:
        if (d / relpath).is_file():
            return d / relpath
    return dirs[-1] / relpath


def catalog_names(name: str, sub: str = "", suffix: str = ".yaml") -> list[str]:
    """Sorted entry names (file stems) of catalog ``name``/``sub`` over every searched folder."""
    return sorted({p.stem for d in catalog_dirs(name, sub) for p in d.glob(f"*{suffix}") if p.is_file()})


def catalog_entry(name: str, entry: str, suffix: str = ".yaml", sub: str = "") -> Path:
    """Path of ``entry`` in catalog ``name`` (working directory first); ConfigError listing the entries if absent."""
    if not entry or "/" in entry or "\\" in entry or entry.startswith("."):
        raise ConfigError(f"invalid {name} entry name {entry!r}")
    for d in catalog_dirs(name, sub):
        path = d / f"{entry}{suffix}"
        if path.is_file():
            return path
    kind = "model preset" if (name, sub) == ("agents", "models") else name[:-1]
    where = f"./{name}/{sub + '/' if sub else ''}"
    raise ConfigError(f"unknown {kind} {entry!r}; choose one of: {', '.join(catalog_names(name, sub, suffix))} "
                      f"(or add {where}{entry}{suffix} in the working directory)")
