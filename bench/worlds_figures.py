"""README figures of the environments (issue 24): two clean frames per environment and one contact
sheet per environment, from the `worlds` build (`robostress build benchmark=worlds`: 12 household
scenes at 128 px) and its contact sheets (`robostress contact-sheet benchmark_dir=benchmarks/worlds`
writes them to benchmarks/worlds/contact_sheets).

    python bench/worlds_figures.py benchmarks/worlds benchmarks/worlds/contact_sheets docs/images
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ORDER = ("lab_tabletop", "kitchen", "study")
TILE = 256


def main(bench: Path, sheets: Path, out: Path) -> None:
    envs: dict[str, list[str]] = {}
    for line in (bench / "scenes.jsonl").read_text().splitlines():
        d = json.loads(line)
        envs.setdefault(d["environment"], []).append(d["scene_id"])
    gap = np.full((TILE, 4, 3), 255, np.uint8)
    rows = []
    for env in ORDER:
        frames = [cv2.resize(cv2.imread(str(bench / "images" / f"{sid}__clean.png")), (TILE, TILE),
                             interpolation=cv2.INTER_LANCZOS4) for sid in envs[env][:2]]
        label = np.full((TILE, 110, 3), 255, np.uint8)
        cv2.putText(label, env.replace("_tabletop", ""), (8, TILE // 2 + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.hstack([label, frames[0], gap, frames[1]]))
    sep = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    grid = np.vstack([x for r in rows for x in (r, sep)][:-1])
    cv2.imwrite(str(out / "worlds_clean.jpg"), grid, [cv2.IMWRITE_JPEG_QUALITY, 90])
    for env in ORDER:
        im = cv2.imread(str(sheets / f"{envs[env][0]}.png"))
        small = cv2.resize(im, (im.shape[1] * 2 // 3, im.shape[0] * 2 // 3), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out / f"worlds_sheet_{env}.jpg"), small, [cv2.IMWRITE_JPEG_QUALITY, 85])
        print(f"{env}: {envs[env][0]} -> worlds_sheet_{env}.jpg {small.shape[1]}x{small.shape[0]}")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:4]))
