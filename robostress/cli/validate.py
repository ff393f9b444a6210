"""Check a command's config before any work starts; every user mistake becomes one ConfigError line.

``preflight`` composes the config the way Hydra will (also for every value of a ``-m`` sweep) and
turns composition errors into one line naming the key, the bad value and what is allowed;
``check`` then runs on the composed config (also from inside each entry point): required values,
interpolations, the ranges and choices of ``robostress.conf.schema`` and each command's own
checks (files that must exist, presets that must be known), each with the next command to run.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    OmegaConfBaseException,
    ValidationError,
)

from robostress.catalog import catalog_entry
from robostress.cli.groups import build_config
from robostress.conf.catalog_source import GROUPS
from robostress.conf.schema import SCHEMAS
from robostress.errors import ConfigError, DataError

MISSING_HINTS = {  # required key -> what to give
    "model.name": "the model's name, e.g. model.name=Qwen/Qwen2.5-VL-7B-Instruct (as `vllm serve` or the API names it)",
    "model.path": "a local model folder, e.g. run `robostress make-tiny-vlm` and pass model.path=models/tiny-llava",
    "benchmark_dir": "a built benchmark, e.g. benchmark_dir=benchmarks/mini (run `robostress build` first)",
}
PRESETS = ("mini", "standard", "tiny", "train")  # conf/benchmark options a missing folder may be named after


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "invalid configuration")


def _owner(config: str, parent: str) -> Any:
    """The schema dataclass of node ``parent`` (``""``: the command's own), or None."""
    cls: Any = SCHEMAS.get(config)
    for part in parent.split(".") if parent else []:
        cls = typing.get_type_hints(cls).get(part) if dataclasses.is_dataclass(cls) else None
    return cls if dataclasses.is_dataclass(cls) else None


def _keys(config: str, parent: str) -> list[str]:
    cls = _owner(config, parent)
    return [f.name for f in dataclasses.fields(cls)] if cls is not None else []


def _expected(config: str, key: str) -> str:
    """What ``key`` takes, in words (from its type in the schema)."""
    parent, _, name = key.rpartition(".")
    cls = _owner(config, parent)
    hint = typing.get_type_hints(cls).get(name) if cls is not None else None
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = typing.get_origin(hint) is typing.Union and len(args) == 1
    base = args[0] if optional else hint
    names: dict[Any, str] = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    what = names.get(base) or ("a list, e.g. [1,2]" if typing.get_origin(base) is list else "a valid value")
    return what + (" or null" if optional else "")


def explain(exc: BaseException, config: str, command: str) -> str:
    """One line for a Hydra composition error of ``robostress <command>``."""
    cause = exc.__cause__ or exc.__context__  # merging a group option chains its error implicitly
    origin = re.match(r"In '([^']+)'", str(exc))
    where = f" (in {origin.group(1)})" if origin else ""
    if isinstance(exc, MissingConfigException):
        m = re.search(r"Could not find '([^']+)/([^']+)'", str(exc))
        if m:
            group, name = m.groups()
            opts = ", ".join(exc.options or [])
            folder = {"model": "./agents/models/", "agent": "./agents/", "renderer": "./renderers/"}.get(group)
            extra = f" (or add {folder}{name}.yaml in the working directory)" if folder else ""
            return f"unknown {group} {name!r}; choose one of: {opts}{extra}"
        return _first_line(str(exc))
    if isinstance(exc, OverrideParseException):
        return f"cannot parse the command line: {_first_line(str(exc))}"
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and cause.full_key:
        key = str(cause.full_key)
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        known = _keys(config, parent)
        close = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
        hint = f"; did you mean {(parent + '.' if parent else '') + close[0]!r}?" if close else \
            f"; `robostress {command} --help` lists the keys (add a new one with +{key}=...)"
        return f"unknown key {key!r}{where} for `robostress {command}`{hint}"
    if isinstance(cause, ValidationError) and cause.full_key:
        key = str(cause.full_key)
        return f"{key}={cause.value!r}{where} is not allowed: {key} must be {_expected(config, key)}"
    text = str(exc)
    m = re.search(r"Could not (?:override|delete from config) '([^']+)'. No match in the defaults list", text)
    if m:
        return f"`robostress {command}` has no group {m.group(1)!r}; `robostress {command} --help` lists its groups"
    m = re.search(r"Ambiguous value for argument '([^']+)'", text)
    if m:
        return f"{m.group(1)} is a sweep over several values: add -m (--multirun) to run one job per value"
    return _first_line(text)


def compose(config: str, overrides: list[str], command: str, hydra_config: bool = False) -> DictConfig:
    """The config Hydra would compose (ConfigError with one line if it cannot)."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("robostress.conf", version_base="1.3", job_name=command):
            return hydra_compose(config_name=config, overrides=overrides, return_hydra_config=hydra_config)
    except (HydraException, OmegaConfBaseException, ValueError) as e:
        raise ConfigError(explain(e, config, command)) from None


def sweep_variants(overrides: list[str]) -> list[list[str]]:
    """Override lists that together give every value of every sweep (``a=1,2 b=x,y``: 1 x, 2 x, 1 y)."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as e:
        raise ConfigError(f"cannot parse the command line: {_first_line(str(e))}") from None
    values: list[list[str]] = []
    for o in parsed:
        vals = [str(o.input_line)]
        if o.is_sweep_override():
            try:
                vals = [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
            except Exception:  # glob sweeps and the like are left to Hydra's sweeper
                vals = []
        values.append(vals)
    base = [v[0] for v in values if v]
    out = [base]
    for i, vals in enumerate(values):
        for v in vals[1:]:
            variant = list(base)
            variant[sum(1 for w in values[:i] if w)] = v
            out.append(variant)
    return out


def preflight(config: str, command: str, overrides: list[str], multirun: bool) -> None:
    """Compose and check every job the command line describes; ConfigError on the first mistake.

    Every job's values are checked before any job's files, so a bad value in a sweep is reported
    even where the benchmark is not built yet.
    """
    cfgs = []
    for variant in sweep_variants(overrides) if multirun else [overrides]:
        cfg = compose(config, variant, command, hydra_config=True)
        choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
        with open_dict(cfg):
            del cfg["hydra"]
        check(config, cfg, command, hooks=False)
        _check_like_presets(cfg, choices if isinstance(choices, dict) else {})
        cfgs.append(cfg)
    for cfg in cfgs:
        check(config, cfg, command)


def _check_like_presets(cfg: DictConfig, choices: dict[Any, Any]) -> None:
    """Model and agent keys keep the type of the chosen preset's value (``model.seed=abc`` is not an integer).

    These groups have no schema (each backend takes its own keys); the preset file is the typed example.
    """
    for group in ("model", "agent"):
        if group not in cfg or not choices.get(group):
            continue
        path = catalog_entry(GROUPS[group][0], str(choices[group]), sub=GROUPS[group][1])
        example = yaml.safe_load(path.read_text()) or {}
        values = OmegaConf.to_container(cfg[group], resolve=True)
        assert isinstance(values, dict)
        for key, default in example.items() if isinstance(example, dict) else ():
            value, want = values.get(key), None
            if isinstance(default, bool):
                want = "true or false" if not isinstance(value, bool) else None
            elif isinstance(default, int):
                want = "an integer" if isinstance(value, bool) or not isinstance(value, int) else None
            elif isinstance(default, float):
                want = "a number" if isinstance(value, bool) or not isinstance(value, (int, float)) else None
            if want:
                raise ConfigError(f"{group}.{key}={value!r} is not allowed: {group}.{key} must be {want} "
                                  f"(as in {group}={choices[group]}: {key}: {default})")


def check(config: str, cfg: DictConfig, command: str, hooks: bool = True) -> None:
    """Required values, interpolations, ranges and choices, then (``hooks``) the command's own checks."""
    missing = _missing(OmegaConf.to_container(cfg, resolve=False))
    if missing:
        key = missing[0]
        raise ConfigError(f"{key} is required: give {MISSING_HINTS.get(key, f'{key}=<value>')}")
    try:
        OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or "a value"
        raise ConfigError(f"cannot resolve {key}: {_first_line(getattr(e, 'msg', str(e)))}") from None
    cls = SCHEMAS.get(config)
    if cls is not None:
        _check_fields(cls, cfg, "")
    hook = HOOKS.get(config) if hooks else None
    if hook is not None:
        hook(cfg)


def _missing(node: Any, prefix: str = "") -> list[str]:
    """Keys whose value is ``???`` (read without resolving: an interpolation may point at one)."""
    if isinstance(node, dict):
        return [k for key, v in node.items() for k in _missing(v, f"{prefix}{key}.")]
    return [prefix[:-1]] if node == "???" else []


def _check_fields(cls: Any, node: Any, prefix: str) -> None:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    extra = [str(k) for k in node if k not in known]
    if extra:  # `+key=value` adds keys the schema does not have
        close = difflib.get_close_matches(extra[0], sorted(known), n=1)
        raise ConfigError(f"unknown key {prefix + extra[0]!r}" + (f"; did you mean {prefix + close[0]!r}?" if close else
                          f"; the keys are: {', '.join(prefix + k for k in sorted(known))}"))
    for f in dataclasses.fields(cls):
        key, value = prefix + f.name, node[f.name]
        if dataclasses.is_dataclass(hints[f.name]):
            _check_fields(hints[f.name], value, key + ".")
            continue
        meta, allowed = f.metadata, None
        if value is None or isinstance(value, (DictConfig, ListConfig)) or not meta:
            continue
        if meta.get("choices") and value not in meta["choices"]:
            allowed = "one of " + ", ".join(meta["choices"])
        elif meta.get("min") is not None and value < meta["min"]:
            allowed = f">= {meta['min']}" + (f" and <= {meta['max']}" if meta.get("max") is not None else "")
        elif meta.get("max") is not None and value > meta["max"]:
            allowed = f"<= {meta['max']}" + (f" and >= {meta['min']}" if meta.get("min") is not None else "")
        if allowed:
            raise ConfigError(f"{key}={value!r} is not allowed: {key} must be {allowed} ({meta['help']})")


def _value(v: Any) -> str:
    return "[" + ",".join(map(str, v)) + "]" if isinstance(v, (list, ListConfig)) else str(v)


def _need_benchmark(path: str, key: str, exports: bool = False) -> None:
    """DataError naming the build command when ``path`` holds no built benchmark (nor, with
    ``exports``, an export folder of ``robostress export``, which is checked when it is loaded)."""
    p = Path(path)
    if (p / "manifest.json").is_file() or (exports and (p / "export.json").is_file()):
        return
    if p.is_dir() and any(p.iterdir()):
        raise DataError(f"{key}={path}: the benchmark build was interrupted (no manifest.json); "
                        f"rerun the same `robostress build` to resume")
    preset = p.name if p.name in PRESETS else "mini"
    out = "" if p.name in PRESETS and p.parent == Path("benchmarks") else f" out_dir={path}"
    raise DataError(f"{key}={path}: no benchmark there (manifest.json is missing); "
                    f"run `robostress build benchmark={preset}{out}` first")


def _build_checks(cfg: DictConfig) -> None:
    from robostress.scene.family import load_family  # deferred: keeps `robostress --help` fast

    bad = [s for s in cfg.benchmark.severities if not 1 <= s <= 5]
    if bad:
        raise ConfigError(f"benchmark.severities={_value(cfg.benchmark.severities)} is not allowed: severities are "
                          f"stressed levels 1..5 (the clean twin, 0, is always built); {bad[0]} is not one")
    shard, num = (cfg.shard, cfg.num_shards) if "shard" in cfg else (0, 1)
    if not 0 <= shard < num:
        raise ConfigError(f"shard={shard} is not allowed: shard must be in 0..{num - 1} (num_shards={num})")
    build_config(cfg.benchmark, cfg.renderer, shard, num).validate()
    load_family(str(cfg.benchmark.family))


def _run_checks(cfg: DictConfig) -> None:
    from robostress.evaluate.main_job import preset  # deferred: keeps `robostress --help` fast

    _build_checks(cfg)
    presets = (("main_model", [cfg.main_model], "model"), ("sanity_models", list(cfg.sanity_models), "model"),
               ("agents", [a for a in cfg.agents if a != "none"], "agent"))
    args = OmegaConf.to_container(cfg.main_model_args) if cfg.get("main_model_args") else {}
    for key, names, kind in presets:
        for n in names:
            try:
                preset(kind, str(n), args if key == "main_model" else None)  # type: ignore[arg-type]
            except ConfigError as e:
                raise ConfigError(f"{key}: {e}") from None


def _eval_checks(cfg: DictConfig) -> None:
    if not 0 <= cfg.shard < cfg.num_shards:
        raise ConfigError(f"shard={cfg.shard} is not allowed: shard must be in 0..{cfg.num_shards - 1} "
                          f"(num_shards={cfg.num_shards})")
    if "backend" not in cfg.model:
        raise ConfigError("model needs a 'backend': pick a preset, e.g. model=classical or model=vllm")
    _need_benchmark(str(cfg.benchmark_dir), "benchmark_dir", exports=True)
    if cfg.reference_run and not (Path(cfg.reference_run) / "predictions.jsonl").is_file():
        raise DataError(f"reference_run={cfg.reference_run}: no predictions.jsonl there; run "
                        f"`robostress eval model=classical benchmark_dir={cfg.benchmark_dir}` first")


def _train_detector_checks(cfg: DictConfig) -> None:
    _build_checks(cfg)
    if cfg.eval_benchmark:
        _need_benchmark(str(cfg.eval_benchmark), "eval_benchmark")
    if cfg.kind == "cnn" and not cfg.train_benchmarks:
        raise ConfigError("kind=cnn trains on built train-split benchmarks: give train_benchmarks=[benchmarks/train-prior]")
    for i, path in enumerate(cfg.train_benchmarks if cfg.kind == "cnn" else ()):
        _need_benchmark(str(path), f"train_benchmarks[{i}]")


def _leakage_checks(cfg: DictConfig) -> None:
    from robostress.scene.family import load_family  # deferred: keeps `robostress --help` fast

    if cfg.benchmark_dir is not None:
        _need_benchmark(str(cfg.benchmark_dir), "benchmark_dir")
    if cfg.benchmark_dir is None or cfg.learner in ("logreg", "all"):  # logreg fits on the family's train scenes
        load_family(str(cfg.family))


HOOKS: dict[str, Callable[[DictConfig], None]] = {
    "build": _build_checks, "run": _run_checks, "eval": _eval_checks, "train_detector": _train_detector_checks,
    "contact_sheet": lambda cfg: _need_benchmark(str(cfg.benchmark_dir), "benchmark_dir"),
    "export": lambda cfg: _need_benchmark(str(cfg.benchmark_dir), "benchmark_dir"),
    "audit": lambda cfg: _need_benchmark(str(cfg.benchmark_dir), "benchmark_dir"), "leakage": _leakage_checks,
}
