"""``robostress --help`` (the commands, one line each) and ``robostress COMMAND --help`` (only the
groups and keys that command reads, with their current values and what they take)."""

from __future__ import annotations

import dataclasses
import importlib
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from robostress.cli.validate import compose
from robostress.conf.catalog_source import group_options
from robostress.conf.schema import SCHEMAS

GROUP_DIRS = {"model": "./agents/models/", "agent": "./agents/", "renderer": "./renderers/"}


def summary(mod: ModuleType) -> str:
    """A command's one-line description: its ``HELP``, else its docstring's first line."""
    return str(getattr(mod, "HELP", None) or (mod.__doc__ or "").strip().splitlines()[0])


def top_help(commands: dict[str, str]) -> str:
    """The command list."""
    lines = ["usage: robostress [COMMAND] [GROUP=OPTION ...] [KEY=VALUE ...] [-m] [--help]", "",
             "commands (no command: run):"]
    for name, path in commands.items():
        lines.append(f"  {name:<16}{summary(importlib.import_module(path))}")
    lines += ["", "`robostress COMMAND --help` lists the command's groups and keys; values are Hydra overrides,",
              "-m (--multirun) sweeps comma-separated values (model=oracle,random)."]
    return "\n".join(lines)


def _options(group: str) -> list[str]:
    if group == "benchmark":
        return sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / "benchmark").glob("*.yaml"))
    return group_options(group)


def _value(v: Any) -> str:
    """A value as it is written on the command line (true, null, [1,2], {a: 1})."""
    if isinstance(v, bool) or v is None:
        return {True: "true", False: "false", None: "null"}[v]
    if isinstance(v, list):
        return "[" + ",".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def _key_lines(cls: Any, node: DictConfig, prefix: str, groups: set[str]) -> list[str]:
    out = []
    values = OmegaConf.to_container(node, resolve=False)
    assert isinstance(values, dict)
    hints = typing.get_type_hints(cls) if cls is not None else {}
    fields = {f.name: f for f in dataclasses.fields(cls)} if cls is not None else {}
    for key in map(str, node):
        if key in groups:
            continue
        raw = values[key]
        f = fields.get(str(key))
        doc = f.metadata.get("help", "") if f is not None else ""
        if f is not None and dataclasses.is_dataclass(hints.get(str(key))):  # a block of keys, e.g. rsb.parser
            out += _key_lines(hints[str(key)], node[key], f"{prefix}{key}.", set())
            continue
        out.append(f"  {f'{prefix}{key}={_value(raw)}':<40} {doc}".rstrip())
    return out


def command_help(cmd: str, module: str, overrides: list[str]) -> str:
    """Help of ``robostress <cmd>`` composed with ``overrides`` (so ``model=vllm --help`` shows vllm's keys)."""
    mod = importlib.import_module(module)
    config = getattr(mod, "CONFIG", None)
    head = [f"usage: robostress {cmd} [GROUP=OPTION ...] [KEY=VALUE ...] [-m]", "", summary(mod), ""]
    if config is None:
        return "\n".join(head)
    cfg = compose(config, [o for o in overrides if not o.startswith("-")], cmd, hydra_config=True)
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    assert isinstance(choices, dict)
    cls = SCHEMAS.get(config)
    groups = [g for g in ("benchmark", "renderer", "model", "agent") if g in cfg]
    lines = list(head)
    if groups:
        lines.append("groups (GROUP=OPTION; ./agents, ./renderers of the working directory are searched first):")
        for g in groups:
            lines.append(f"  {g:<10} {choices.get(g)!s:<12} choose from: {', '.join(_options(g))}")
        lines.append("")
    with open_dict(cfg):
        del cfg["hydra"]
    lines.append("keys (KEY=VALUE):")
    lines += _key_lines(cls, cfg, "", set(groups))
    hints = typing.get_type_hints(cls) if cls is not None else {}
    for g in groups:
        lines += ["", f"{g}={choices.get(g)} keys ({g}.KEY=VALUE):"]
        sub = hints.get(g)
        lines += _key_lines(sub if dataclasses.is_dataclass(sub) else None, cfg[g], f"{g}.", set())
    return "\n".join(lines)
