"""Frame files: deterministic PNG bytes, 16-bit round trips, safe paths, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robostress.errors import DataError
from robostress.render import io


def test_rgb_png_is_byte_identical_for_equal_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    b1, b2 = io.encode_rgb(a), io.encode_rgb(a.copy())
    assert b1 == b2
    p = tmp_path / "x.png"
    io.write_atomic(p, b1)
    np.testing.assert_array_equal(io.read_rgb(p), a)


def test_u16_round_trip(tmp_path: Path) -> None:
    a = (np.arange(12 * 9, dtype=np.uint16).reshape(12, 9) * 601) % 65535
    p = tmp_path / "m.png"
    io.write_atomic(p, io.encode_u16(a))
    np.testing.assert_array_equal(io.read_u16(p), a)


def test_depth_is_millimetres_and_clipped() -> None:
    d = np.array([[0.0, 1.2345, 100.0, np.nan]], np.float32)
    np.testing.assert_array_equal(io.depth_to_mm(d), [[0, 1234, 65535, 0]])


def test_safe_join_refuses_escapes(tmp_path: Path) -> None:
    assert io.safe_join(tmp_path, "images/a.png") == (tmp_path / "images/a.png").resolve()
    for bad in ("../x.png", "/etc/passwd", "images/../../x"):
        with pytest.raises(DataError, match="escapes"):
            io.safe_join(tmp_path, bad)


def test_unreadable_files_give_data_errors(tmp_path: Path) -> None:
    p = tmp_path / "bad.png"
    p.write_bytes(b"not a png")
    with pytest.raises(DataError, match="cannot read image"):
        io.read_rgb(p)
    with pytest.raises(DataError, match="cannot read 16-bit PNG"):
        io.read_u16(p)
    rgb = tmp_path / "rgb.png"
    io.write_atomic(rgb, io.encode_rgb(np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(DataError, match="not a single-channel 16-bit PNG"):
        io.read_u16(rgb)
