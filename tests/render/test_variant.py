"""Variant selection: best available, LLVM version guard, fallback with one warning."""

from __future__ import annotations

import logging

import pytest

from robostress.errors import ConfigError
from robostress.render import variant as V


def test_auto_picks_an_available_variant() -> None:
    v = V.choose_variant("auto")
    assert v in V.VARIANTS
    assert V.available(v)[0]


def test_unknown_variant_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown Mitsuba variant 'gpu_magic'"):
        V.choose_variant("gpu_magic")


def test_old_llvm_falls_back_to_scalar_with_one_warning(monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(V, "llvm_version", lambda: (16, 0, 6))
    ok, why = V.available("llvm_ad_rgb")
    assert not ok and "LLVM 16.0.6 is too old" in why
    with caplog.at_level(logging.WARNING):
        assert V.choose_variant("llvm_ad_rgb") == "scalar_rgb"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "falling back to scalar_rgb" in warnings[0].getMessage()
    # auto never chooses an LLVM that crashes
    assert V.choose_variant("auto") in ("cuda_ad_rgb", "scalar_rgb")


def test_missing_llvm_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(V, "llvm_version", lambda: None)
    ok, why = V.available("llvm_ad_rgb")
    assert not ok and "libllvm19" in why


def test_the_probe_really_renders_and_restores_the_variant() -> None:
    import mitsuba as mi

    V.render_probe.cache_clear()
    mi.set_variant("llvm_ad_rgb" if V.available("llvm_ad_rgb")[0] else "scalar_rgb")
    before = mi.variant()
    assert V.render_probe("scalar_spectral") is None
    assert mi.variant() == before


def test_cuda_without_a_working_optix_is_not_chosen(monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """drjit sees a CUDA device, but loading a scene fails (no libnvoptix.so.1 in the container):
    auto must not pick cuda_ad_rgb, and an explicit cuda falls back to llvm_ad_rgb (what the
    other shards use), not scalar_rgb."""
    monkeypatch.setattr(V, "cuda_available", lambda: True)
    monkeypatch.setattr(V, "llvm_version", lambda: (19, 1, 7))
    real = V.render_probe

    def probe(variant: str) -> str | None:
        if variant.startswith("cuda"):
            return "a probe render failed (RuntimeError: jit_optix_api_init(): libnvoptix.so.1 not found)"
        return real(variant)

    monkeypatch.setattr(V, "render_probe", probe)
    ok, why = V.available("cuda_ad_rgb")
    assert not ok and "libnvoptix.so.1" in why and "NVIDIA_DRIVER_CAPABILITIES" in why
    assert V.choose_variant("auto") == "llvm_ad_rgb"
    with caplog.at_level(logging.WARNING):
        assert V.choose_variant("cuda_ad_rgb") == "llvm_ad_rgb"
    assert "falling back to llvm_ad_rgb" in caplog.records[-1].getMessage()


def test_a_cuda_probe_on_a_machine_without_cuda_does_not_crash() -> None:
    """The real probe of cuda_ad_rgb where there is no CUDA: an answer, not an abort."""
    if V.cuda_available():
        pytest.skip("this machine has CUDA")
    why = V.render_probe("cuda_ad_rgb")
    assert why is not None and why.startswith("a probe render failed")
