"""A Hydra config source over the catalogs: the ``model``, ``agent`` and ``renderer`` groups.

Hydra's file sources map a group to a folder of the same name under one root; robostress's
groups live in catalogs that a user may also keep in the working directory
(``./agents/models`` for ``model``, ``./agents`` for ``agent``, ``./renderers`` for ``renderer``),
searched before the package (``robostress.catalog``). Primary configs add this source with
``hydra.searchpath: [catalog://robostress]``. Only the YAML files directly in each folder are
options, so ``agents/models`` is not mistaken for an ``agent/models`` group.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from omegaconf import OmegaConf

from robostress.catalog import catalog_dirs, catalog_names, yaml_problem
from robostress.errors import ConfigError

GROUPS: dict[str, tuple[str, str]] = {  # Hydra group -> (catalog, sub-folder)
    "model": ("agents", "models"),
    "agent": ("agents", ""),
    "renderer": ("renderers", ""),
}


def group_options(group: str) -> list[str]:
    """The options of ``group`` over the working directory's catalog and the package's."""
    return catalog_names(*GROUPS[group])


def _find(config_path: str) -> Path | None:
    group, _, name = config_path.strip("/").partition("/")
    name = name[:-5] if name.endswith(".yaml") else name
    if group not in GROUPS or not name or "/" in name or name.startswith("."):
        return None
    for d in catalog_dirs(*GROUPS[group]):
        if (d / f"{name}.yaml").is_file():
            return d / f"{name}.yaml"
    return None


class CatalogConfigSource(ConfigSource):
    """Serves ``model/<name>``, ``agent/<name>`` and ``renderer/<name>`` from the catalogs."""

    @staticmethod
    def scheme() -> str:
        """The search-path scheme: ``catalog://``."""
        return "catalog"

    def load_config(self, config_path: str) -> ConfigResult:
        """Load one option's YAML (the working directory's copy first)."""
        path = _find(config_path)
        if path is None:
            raise ConfigLoadError(f"Config not found : {config_path}")
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({yaml_problem(e)})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a {config_path.split('/')[0]} preset must be a mapping of keys to values")
        return ConfigResult(config=OmegaConf.create(text), path=f"file://{path.parent}",
                            provider=self.provider, header=ConfigSource._get_header_dict(text[:512]))

    def available(self) -> bool:
        """Always available."""
        return True

    def is_group(self, config_path: str) -> bool:
        """The root and the three groups are groups; nothing else is."""
        return config_path.strip("/") in ("", *GROUPS)

    def is_config(self, config_path: str) -> bool:
        """Whether ``group/name`` names a YAML file in a catalog."""
        return _find(config_path) is not None

    def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
        """Groups at the root; option names inside a group."""
        path = config_path.strip("/")
        if path == "":
            return sorted(GROUPS) if results_filter in (None, ObjectType.GROUP) else []
        if path in GROUPS and results_filter in (None, ObjectType.CONFIG):
            return group_options(path)
        return []
