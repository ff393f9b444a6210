"""One-call GPU check (issue 25): cuda_ad_rgb renders against CPU renders, and ``hf`` on the GPU.

Runs where a GPU machine is lent (PyTorch, transformers and torchvision installed; Mitsuba and
Dr.Jit carried as wheels, see bench/gpu_check.sh), in under 10 minutes:

1. renders a one-scene ``mini``-style benchmark with ``cuda_ad_rgb`` (the variant probe must
   accept it: a missing OptiX shows here) and prints frames/s;
2. renders the first frames again on the CPU (llvm_ad_rgb, else scalar_rgb) and prints the
   mean absolute difference per frame (path tracing noise only: the same plans and seeds);
3. builds a tiny random Qwen2.5-VL-style model there from its config and evaluates the
   benchmark with ``hf`` on the GPU (bf16, device_map), printing items/s.

``--dry-run`` runs the same steps on this CPU machine at tiny sizes (CPU variants, hf on the
CPU, LLaVA if Qwen2.5-VL cannot load): it checks the script, not the GPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def build(out: Path, variant: str, size: int, spp: int, severities: tuple[int, ...] = (1, 3, 5)) -> tuple[Path, int, float]:
    from robostress.benchmark.build import BuildConfig, Builder
    from robostress.render.renderer import RenderSettings

    cfg = BuildConfig(name="gpu-check", family="tabletop", num_scenes=1, seed=0, severities=list(severities),
                      render=RenderSettings(width=size, height=size, spp=spp, variant=variant))
    t = time.perf_counter()
    b = Builder(cfg, out, out.parent / f"cache-{out.name}")
    b.build(progress=False)
    frames = sorted(p for p in out.rglob("*.png") if "mask" not in p.name and "gt" not in p.parts)
    return out, len(frames), time.perf_counter() - t


def tiny_qwen25_vl(out: Path) -> Path:
    """A tiny random Qwen2.5-VL (model + processor) built from its config (needs torchvision)."""
    import torch
    from transformers import AutoModelForImageTextToText, Qwen2_5_VLConfig, Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    from robostress.models.tiny_vlm import _tokenizer

    tok = _tokenizer(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                      "<|image_pad|>", "<|video_pad|>"], eos_token="<|im_end|>", pad_token="<|endoftext|>")
    template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
                "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|>"
                "<|vision_end|>{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
                "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    ids = tok.convert_tokens_to_ids
    cfg = Qwen2_5_VLConfig(
        text_config={"vocab_size": len(tok), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
                     "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]}},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                       "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 56,
                       "fullatt_block_indexes": [1]},
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"),
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    proc = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=224 * 224),
                               tokenizer=tok, chat_template=template)
    torch.manual_seed(0)
    AutoModelForImageTextToText.from_config(cfg).save_pretrained(out)
    proc.save_pretrained(out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="CPU variants, tiny sizes, hf on the CPU")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--spp", type=int, default=12)
    ap.add_argument("--compare", type=int, default=4, help="frames compared with the CPU render")
    args = ap.parse_args()
    size, spp = (48, 2) if args.dry_run else (args.size, args.spp)
    from robostress.render.variant import available, choose_variant

    gpu_variant = choose_variant("auto") if args.dry_run else "cuda_ad_rgb"
    ok, why = available("cuda_ad_rgb")
    print(f"cuda_ad_rgb usable: {ok} {why}".rstrip())
    if not args.dry_run and not ok:
        print("FAIL: cuda_ad_rgb cannot render here")
        return 1
    cpu_variant = "llvm_ad_rgb" if available("llvm_ad_rgb")[0] else "scalar_rgb"
    tmp = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    gdir, n, secs = build(tmp / "gpu", gpu_variant, size, spp)
    print(f"render {gpu_variant}: {n} frames in {secs:.1f} s = {n / secs:.2f} frames/s ({size} px, {spp} spp/pass)")
    # the comparison at 64 px, severity 1 only: the CPU must finish it within the call's 10 minutes
    small, _, _ = build(tmp / "gpu-small", gpu_variant, 64, 4, (1,))
    cdir, n_cpu, secs_cpu = build(tmp / "cpu", cpu_variant, 64, 4, (1,))
    print(f"render {cpu_variant}: {n_cpu} frames in {secs_cpu:.1f} s = {n_cpu / secs_cpu:.2f} frames/s (64 px, 4 spp/pass)")
    skip = {"depth", "mask", "masks", "seg", "gt"}
    frames = sorted(p.relative_to(small) for p in small.rglob("*.png")
                    if not skip & set(p.relative_to(small).parts) and (cdir / p.relative_to(small)).exists())
    for rel in frames[: args.compare]:
        a = np.asarray(Image.open(small / rel), np.float32)
        b = np.asarray(Image.open(cdir / rel), np.float32)
        print(f"  {rel}: mean |{gpu_variant} - {cpu_variant}| = {np.abs(a - b).mean():.2f} / 255")

    from robostress.evaluate.evaluate import evaluate
    from robostress.models.tiny_vlm import build_tiny_llava

    try:
        model_dir, family = tiny_qwen25_vl(tmp / "qwen25vl"), "qwen2_5_vl"
    except Exception as e:  # a transformers without Qwen2.5-VL, or no torchvision (the CPU box)
        print(f"tiny Qwen2.5-VL not built ({type(e).__name__}: {str(e)[:120]}); using a tiny LLaVA")
        model_dir, family = build_tiny_llava(tmp / "llava"), "llava"
    t = time.perf_counter()
    out = evaluate(gdir, {"backend": "hf", "path": str(model_dir), "batch_size": 16,
                          **({"device": "cpu"} if args.dry_run else {})},
                   tmp / "run", batch_size=64, progress=False, report=False, limit=16 if args.dry_run else None)
    secs = time.perf_counter() - t
    preds = out["predictions"]
    failed = sum(p.error is not None for p in preds)
    print(f"hf {family} on {'cpu' if args.dry_run else 'cuda'}: {len(preds)} items in {secs:.1f} s = "
          f"{len(preds) / secs:.2f} items/s ({failed} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
