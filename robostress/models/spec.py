"""A model to evaluate, named once: its backend and options, the label runs and reports show, and
the folder its run lives in (``runs/<benchmark>/<run_name>``).

``robostress eval``, ``robostress rsb`` and the main job all derive labels and run folders here, so
the same model (and agent) always lands in the same folder under the same label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from robostress.errors import ConfigError

RESERVED = ("backend", "label")  # model config keys that are not backend options
MAX_NAME = 200  # characters of a folder name


def path_safe(text: str) -> str:
    """A folder name from user text (``Qwen/Qwen2.5-VL-7B``): '/' becomes '--', anything outside
    [A-Za-z0-9._+=@-] becomes '_', no leading dot, at most 200 characters; 'model' if nothing is left."""
    safe = re.sub(r"[^A-Za-z0-9._+=@-]", "_", text.replace("/", "--")).lstrip(".")
    return safe[:MAX_NAME] or "model"


@dataclass(frozen=True)
class ModelSpec:
    """One model (optionally wrapped by an agent), as a model preset and an agent preset give it."""

    config: Mapping[str, Any]  # the model config: ``backend``, ``label`` and the backend's options
    agent: Mapping[str, Any] | None = None  # the agent config (``name``, ``label``, ``suffix``, ...); None: bare

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        if self.agent is not None:
            object.__setattr__(self, "agent", MappingProxyType(dict(self.agent)))

    @classmethod
    def from_config(cls, model_cfg: Mapping[str, Any], agent_cfg: Mapping[str, Any] | None = None) -> ModelSpec:
        """The spec of a model config (and agent config); ConfigError if it names no backend."""
        if "backend" not in model_cfg:
            raise ConfigError("model config needs a 'backend' (e.g. model=classical or model=vllm)")
        return cls(model_cfg, agent_cfg)

    @property
    def backend(self) -> str:
        """The registered backend name (``robostress.models.base.MODELS``)."""
        return str(self.config["backend"])

    @property
    def options(self) -> dict[str, Any]:
        """Keyword arguments of the backend's factory: the config without ``backend`` and ``label``."""
        return {k: v for k, v in self.config.items() if k not in RESERVED}

    @property
    def agent_name(self) -> str | None:
        """The agent wrapping the model, or None for the bare model (no agent, or agent ``none``)."""
        name = (self.agent or {}).get("name", "none")
        return None if name == "none" else str(name)

    @property
    def label(self) -> str:
        """The label of runs and reports: the config's ``label`` (else its ``name``, else 'model'),
        then '+' and the agent's ``label`` (else its name)."""
        label = str(self.config["label"] if "label" in self.config else self.config.get("name", "model"))
        if self.agent_name is not None:
            assert self.agent is not None
            label = f"{label}+{self.agent.get('label', self.agent['name'])}"
        return label

    @property
    def run_name(self) -> str:
        """The run folder's name: label (else name, else backend) plus the agent's ``suffix`` (else
        '+' and its name), made path-safe (``path_safe``)."""
        c = self.config
        name = str(c.get("label") or c.get("name") or c.get("backend", "model"))
        if self.agent_name is not None:
            assert self.agent is not None
            name += str(self.agent.get("suffix") or f"+{self.agent['name']}")
        return path_safe(name)

    def run_dir(self, out: Path) -> Path:
        """This model's run folder under ``out`` (``runs/<benchmark>``)."""
        return Path(out) / self.run_name
