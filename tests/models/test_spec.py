"""ModelSpec: labels and run folders of every model preset, bare and agent-wrapped.

The table was captured from the code before ModelSpec existed (``make_model`` gave the label,
``run_name`` the folder): a change to it moves existing runs and must be on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from robostress.errors import ConfigError
from robostress.evaluate.main_job import preset
from robostress.models.spec import ModelSpec, path_safe

REQUIRED = {"hf": {"path": "/m/tiny"}, "openai": {"name": "gpt-4o-mini"},
            "vllm": {"name": "Qwen/Qwen2.5-VL-7B-Instruct"}, "vllm_offline": {"name": "Qwen/Qwen2.5-VL-3B-Instruct"}}
# (model preset, agent preset, label, run folder)
TODAY = [
    ('blind', 'none', 'blind', 'blind'),
    ('blind', 'stress_aware', 'blind+agent', 'blind+agent'),
    ('blind', 'detect_only', 'blind+agent-detect-only', 'blind+detect-only'),
    ('blind', 'oracle_detector', 'blind+agent-oracle-detector', 'blind+agent-oracle'),
    ('blind', 'vlm_detector', 'blind+agent-vlm-detector', 'blind+agent-vlm'),
    ('classical', 'none', 'classical', 'classical'),
    ('classical', 'stress_aware', 'classical+agent', 'classical+agent'),
    ('classical', 'detect_only', 'classical+agent-detect-only', 'classical+detect-only'),
    ('classical', 'oracle_detector', 'classical+agent-oracle-detector', 'classical+agent-oracle'),
    ('classical', 'vlm_detector', 'classical+agent-vlm-detector', 'classical+agent-vlm'),
    ('hf', 'none', 'hf', 'hf'),
    ('hf', 'stress_aware', 'hf+agent', 'hf+agent'),
    ('hf', 'detect_only', 'hf+agent-detect-only', 'hf+detect-only'),
    ('hf', 'oracle_detector', 'hf+agent-oracle-detector', 'hf+agent-oracle'),
    ('hf', 'vlm_detector', 'hf+agent-vlm-detector', 'hf+agent-vlm'),
    ('openai', 'none', 'gpt-4o-mini', 'gpt-4o-mini'),
    ('openai', 'stress_aware', 'gpt-4o-mini+agent', 'gpt-4o-mini+agent'),
    ('openai', 'detect_only', 'gpt-4o-mini+agent-detect-only', 'gpt-4o-mini+detect-only'),
    ('openai', 'oracle_detector', 'gpt-4o-mini+agent-oracle-detector', 'gpt-4o-mini+agent-oracle'),
    ('openai', 'vlm_detector', 'gpt-4o-mini+agent-vlm-detector', 'gpt-4o-mini+agent-vlm'),
    ('oracle', 'none', 'oracle', 'oracle'),
    ('oracle', 'stress_aware', 'oracle+agent', 'oracle+agent'),
    ('oracle', 'detect_only', 'oracle+agent-detect-only', 'oracle+detect-only'),
    ('oracle', 'oracle_detector', 'oracle+agent-oracle-detector', 'oracle+agent-oracle'),
    ('oracle', 'vlm_detector', 'oracle+agent-vlm-detector', 'oracle+agent-vlm'),
    ('prior', 'none', 'prior', 'prior'),
    ('prior', 'stress_aware', 'prior+agent', 'prior+agent'),
    ('prior', 'detect_only', 'prior+agent-detect-only', 'prior+detect-only'),
    ('prior', 'oracle_detector', 'prior+agent-oracle-detector', 'prior+agent-oracle'),
    ('prior', 'vlm_detector', 'prior+agent-vlm-detector', 'prior+agent-vlm'),
    ('random', 'none', 'random', 'random'),
    ('random', 'stress_aware', 'random+agent', 'random+agent'),
    ('random', 'detect_only', 'random+agent-detect-only', 'random+detect-only'),
    ('random', 'oracle_detector', 'random+agent-oracle-detector', 'random+agent-oracle'),
    ('random', 'vlm_detector', 'random+agent-vlm-detector', 'random+agent-vlm'),
    ('vllm', 'none', 'Qwen/Qwen2.5-VL-7B-Instruct', 'Qwen--Qwen2.5-VL-7B-Instruct'),
    ('vllm', 'stress_aware', 'Qwen/Qwen2.5-VL-7B-Instruct+agent', 'Qwen--Qwen2.5-VL-7B-Instruct+agent'),
    ('vllm', 'detect_only', 'Qwen/Qwen2.5-VL-7B-Instruct+agent-detect-only', 'Qwen--Qwen2.5-VL-7B-Instruct+detect-only'),
    ('vllm', 'oracle_detector', 'Qwen/Qwen2.5-VL-7B-Instruct+agent-oracle-detector', 'Qwen--Qwen2.5-VL-7B-Instruct+agent-oracle'),
    ('vllm', 'vlm_detector', 'Qwen/Qwen2.5-VL-7B-Instruct+agent-vlm-detector', 'Qwen--Qwen2.5-VL-7B-Instruct+agent-vlm'),
    ('vllm_offline', 'none', 'Qwen/Qwen2.5-VL-3B-Instruct', 'Qwen--Qwen2.5-VL-3B-Instruct'),
    ('vllm_offline', 'stress_aware', 'Qwen/Qwen2.5-VL-3B-Instruct+agent', 'Qwen--Qwen2.5-VL-3B-Instruct+agent'),
    ('vllm_offline', 'detect_only', 'Qwen/Qwen2.5-VL-3B-Instruct+agent-detect-only', 'Qwen--Qwen2.5-VL-3B-Instruct+detect-only'),
    ('vllm_offline', 'oracle_detector', 'Qwen/Qwen2.5-VL-3B-Instruct+agent-oracle-detector', 'Qwen--Qwen2.5-VL-3B-Instruct+agent-oracle'),
    ('vllm_offline', 'vlm_detector', 'Qwen/Qwen2.5-VL-3B-Instruct+agent-vlm-detector', 'Qwen--Qwen2.5-VL-3B-Instruct+agent-vlm'),
]


@pytest.mark.parametrize(("model", "agent", "label", "folder"), TODAY)
def test_label_and_run_folder_of_every_preset(model: str, agent: str, label: str, folder: str) -> None:
    spec = ModelSpec.from_config(preset("model", model, REQUIRED.get(model)), preset("agent", agent))
    assert (spec.label, spec.run_name) == (label, folder)
    assert spec.run_dir(Path("runs/mini")) == Path("runs/mini") / folder


@pytest.mark.parametrize("model", sorted(REQUIRED) + ["classical", "oracle"])
def test_hydra_composition_gives_the_same_spec(model: str) -> None:
    with initialize_config_module("robostress.conf", version_base="1.3"):
        cfg = compose("eval", overrides=[f"model={model}", "agent=stress_aware",
                                         *(f"model.{k}={v}" for k, v in REQUIRED.get(model, {}).items())])
    spec = ModelSpec.from_config(OmegaConf.to_container(cfg.model, resolve=True),  # type: ignore[arg-type]
                                 OmegaConf.to_container(cfg.agent, resolve=True))  # type: ignore[arg-type]
    row = next(r for r in TODAY if r[:2] == (model, "stress_aware"))
    assert (spec.label, spec.run_name) == row[2:]


def test_skill_ablation_folder() -> None:
    agent = {**preset("agent", "stress_aware"), "drop_skill": "sharpen", "label": "agent-no-sharpen",
             "suffix": "+agent-no-sharpen"}
    spec = ModelSpec.from_config(preset("model", "classical"), agent)
    assert (spec.label, spec.run_name) == ("classical+agent-no-sharpen", "classical+agent-no-sharpen")


def test_options_fallbacks_and_errors() -> None:
    spec = ModelSpec.from_config({"backend": "vllm", "name": "m", "label": "x", "seed": 1})
    assert spec.backend == "vllm" and spec.options == {"name": "m", "seed": 1}
    assert ModelSpec.from_config({"backend": "oracle"}).label == "model"  # the label falls back to name
    assert ModelSpec.from_config({"backend": "oracle"}).run_name == "oracle"  # the folder to the backend
    assert ModelSpec.from_config({"backend": "b", "label": ""}).run_name == "b"
    with pytest.raises(ConfigError, match="backend"):
        ModelSpec.from_config({"name": "m"})
    with pytest.raises(TypeError):
        spec.config["seed"] = 2  # type: ignore[index]


def test_path_safe() -> None:
    assert path_safe("Qwen/Qwen2.5-VL-7B") == "Qwen--Qwen2.5-VL-7B"
    assert path_safe("../a b") == "--a_b"
    assert path_safe("...") == "model" and len(path_safe("x" * 500)) == 200
