"""The stress-aware agent: detector, edit skills, and the detect -> edit -> reason wrapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robostress.agent.agent import StressAwareAgent
from robostress.agent.cnn import CNNDetector
from robostress.agent.detector import Detection, LearnedDetector, OracleDetector, features
from robostress.agent.skills import SKILLS, SUBTYPE_SKILLS, Edit, Transform
from robostress.errors import ConfigError
from robostress.models.base import Model

AGENT_KEYS = {"detector", "threshold", "edit", "drop_skill", "images", "weights", "skills"}


def build_agent(base: Model, cfg: dict[str, Any], work_dir: Path) -> Model:
    """Wrap ``base`` in the agent described by an agent preset (agents/*.yaml)."""
    cfg = {k: v for k, v in cfg.items() if k not in ("name", "label", "suffix")}
    unknown = set(cfg) - AGENT_KEYS
    if unknown:
        raise ConfigError(f"unknown agent option(s) {sorted(unknown)}; known: {sorted(AGENT_KEYS)}")
    return StressAwareAgent(base, work_dir, **cfg)


__all__ = ["SKILLS", "SUBTYPE_SKILLS", "CNNDetector", "Detection", "Edit", "LearnedDetector", "OracleDetector",
           "StressAwareAgent", "Transform", "build_agent", "features"]
