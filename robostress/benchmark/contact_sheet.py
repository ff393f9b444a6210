"""Contact sheets: one PNG per scene, rows = sub-types, columns = severities 0..5, labelled."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import SIDE_SCHEMA_VERSION, read_jsonl
from robostress.render.io import write_atomic

CELL = 128
LABEL_W = 190
HEAD_H = 34


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def contact_sheet(bench: Benchmark, scene_id: str, cell: int = CELL) -> Image.Image:
    """The contact sheet of one scene as a PIL image."""
    frames = [f for f in bench.frames.values() if f.scene_id == scene_id]
    clean = next(f for f in frames if f.stress.severity == 0)
    subtypes = list(dict.fromkeys(bench.manifest["config"]["subtypes"]))
    by_key = {(f.stress.subtype, f.stress.severity): f for f in frames}
    records = read_jsonl(bench.root / "skipped.jsonl", (SIDE_SCHEMA_VERSION,), required=False)
    skipped = {(r.get("subtype"), r.get("severity")): str(r.get("skipped"))
               for r in records if str(r.get("frame_id", "")).startswith(scene_id + "/")}
    dims = {f.stress.subtype: f.stress.dimension for f in frames}
    measures = {f.stress.subtype: f"realised: {f.stress.measure}" for f in frames if f.stress.measure}
    sheet = Image.new("RGB", (LABEL_W + 6 * cell, HEAD_H + len(subtypes) * cell), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font, small = _font(15), _font(11)
    for s in range(6):
        draw.text((LABEL_W + s * cell + cell // 2 - 30, 8), "clean (0)" if s == 0 else f"severity {s}",
                  fill=(0, 0, 0), font=font)
    for r, sub in enumerate(subtypes):
        y = HEAD_H + r * cell
        draw.text((6, y + cell // 2 - 16), sub, fill=(0, 0, 0), font=font)
        draw.text((6, y + cell // 2 + 4), dims.get(sub, ""), fill=(110, 110, 110), font=small)
        if sub in measures:
            draw.text((6, y + cell // 2 + 18), measures[sub], fill=(110, 110, 110), font=small)
        sheet.paste(Image.fromarray(bench.image(clean.image)).resize((cell, cell)), (LABEL_W, y))
        for s in range(1, 6):
            x = LABEL_W + s * cell
            f = by_key.get((sub, s))
            if f is not None:
                sheet.paste(Image.fromarray(bench.image(f.image)).resize((cell, cell)), (x, y))
                if f.stress.realised is not None:
                    draw.text((x + 3, y + cell - 14), f"{f.stress.realised:.3g}",
                              fill=(255, 255, 0), font=small, stroke_width=1, stroke_fill=(0, 0, 0))
            else:
                reason = skipped.get((sub, s), "not requested")
                draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=(235, 235, 235))
                draw.text((x + 4, y + cell // 2 - 6), "skipped:\n" + reason[:60], fill=(120, 0, 0), font=small)
    return sheet


def write_contact_sheets(bench_dir: Path, out_dir: Path) -> list[Path]:
    """Write one contact sheet PNG per scene; returns their paths."""
    bench = Benchmark(bench_dir)
    out = []
    for scene_id in bench.scenes:
        buf = io.BytesIO()
        contact_sheet(bench, scene_id).save(buf, format="PNG")
        p = Path(out_dir) / f"{scene_id}.png"
        write_atomic(p, buf.getvalue())
        out.append(p)
    write_atomic(Path(out_dir) / "index.json", json.dumps([p.name for p in out]).encode())
    return out
