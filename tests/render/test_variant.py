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
