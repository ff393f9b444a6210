"""Photometric visibility: contrast of a referent to its surround, and the drop it triggers."""

from __future__ import annotations

import numpy as np

from robostress.render.gt import photometric_contrast


def _scene(obj_rgb: tuple[int, int, int], bg_rgb: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    img = np.empty((40, 40, 3), np.uint8)
    img[:] = bg_rgb
    mask = np.zeros((40, 40), bool)
    mask[15:25, 15:25] = True
    img[mask] = obj_rgb
    return img, mask


def test_contrast_tells_visible_from_invisible() -> None:
    assert photometric_contrast(*_scene((255, 255, 255), (255, 255, 255))) == 0.0  # blown out
    assert photometric_contrast(*_scene((1, 1, 1), (0, 0, 0))) < 1.0  # lost in the dark
    assert photometric_contrast(*_scene((200, 30, 20), (120, 120, 120))) > 40  # a red mug on grey


def test_texture_counts_even_when_the_mean_matches() -> None:
    img, mask = _scene((128, 128, 128), (128, 128, 128))
    img[15:25:2, 15:25] = (30, 30, 30)  # stripes whose mean is darker, but texture is what you see
    img[16:25:2, 15:25] = (226, 226, 226)
    assert photometric_contrast(img, mask) > 10


def test_unseen_object_has_no_contrast() -> None:
    img, mask = _scene((200, 30, 20), (120, 120, 120))
    assert photometric_contrast(img, np.zeros_like(mask)) is None
    assert photometric_contrast(img, np.ones_like(mask)) is None  # no surround to compare with
