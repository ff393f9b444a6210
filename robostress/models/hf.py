"""``hf``: a local transformers VLM (AutoProcessor + AutoModelForImageTextToText), batched.

Always offline (``local_files_only``). Multiple choice by option log-likelihood (default) or by
generation. Log-likelihoods use right padding so every sequence keeps positions 0..n and a
result does not depend on the batch it was computed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from robostress.errors import BackendError
from robostress.models.base import MODELS, Model, Request, Response

INSTALL_HINT = "transformers is not installed: pip install 'robostress[hf]' torch==2.13.0"


class HFModel(Model):
    """A transformers image-text-to-text model from a local folder."""

    name = "hf"

    def __init__(self, path: str, *, batch_size: int = 8, mc_mode: str = "loglik", dtype: str = "float32",
                 device: str = "auto", max_new_tokens: int = 32, seed: int = 0) -> None:
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError:
            raise BackendError(INSTALL_HINT) from None
        p = Path(str(path)).expanduser()
        if str(path) in ("", "???") or not (p / "config.json").is_file():
            raise BackendError(f"no transformers model at {path!r} (a folder with config.json); "
                               "pass model.path=<dir> (models are never downloaded)")
        if mc_mode not in ("loglik", "generate"):
            raise BackendError(f"mc_mode must be 'loglik' or 'generate', got {mc_mode!r}")
        self.torch, self.path, self.batch_size, self.mc_mode = torch, p, max(1, int(batch_size)), mc_mode
        self.max_new_tokens, self.seed, self.dtype_name = int(max_new_tokens), int(seed), dtype
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        torch.manual_seed(self.seed)
        self.processor = AutoProcessor.from_pretrained(p, local_files_only=True)
        self.model = AutoModelForImageTextToText.from_pretrained(
            p, local_files_only=True, dtype=getattr(torch, dtype)).to(self.device).eval()
        self.tok = self.processor.tokenizer
        self._cfg_hash = hashlib.sha256((p / "config.json").read_bytes()).hexdigest()[:12]

    def describe(self) -> dict[str, Any]:
        """Path, config hash and inference settings."""
        return {"backend": self.name, "path": str(self.path), "config_sha": self._cfg_hash, "dtype": self.dtype_name,
                "batch_size": self.batch_size, "mc_mode": self.mc_mode, "max_new_tokens": self.max_new_tokens}

    def _prompt(self, r: Request) -> str:
        content: list[dict[str, Any]] = [{"type": "image"} for _ in r.images] + [{"type": "text", "text": r.prompt}]
        return str(self.processor.apply_chat_template([{"role": "user", "content": content}],
                                                      add_generation_prompt=True))

    def _images(self, r: Request) -> list[Any]:
        from PIL import Image

        out = []
        for p in r.images:
            with Image.open(p) as im:
                out.append(im.convert("RGB"))
        return out

    def _encode(self, reqs: Sequence[Request], side: str) -> Any:
        self.tok.padding_side = side
        images = [im for r in reqs for im in self._images(r)]
        return self.processor(images=images or None, text=[self._prompt(r) for r in reqs], return_tensors="pt",
                              padding=True).to(self.device)

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer in batches of ``batch_size``."""
        out: list[Response] = []
        for i in range(0, len(requests), self.batch_size):
            chunk = list(requests[i:i + self.batch_size])
            mc = [r for r in chunk if r.choices and self.mc_mode == "loglik"]
            gen = [r for r in chunk if not (r.choices and self.mc_mode == "loglik")]
            answers = dict(zip([r.id for r in mc], self._loglik(mc), strict=True)) if mc else {}
            answers.update(dict(zip([r.id for r in gen], self._generate(gen), strict=True)) if gen else {})
            out += [answers[r.id] for r in chunk]
        return out

    def _generate(self, reqs: list[Request]) -> list[Response]:
        torch = self.torch
        enc = self._encode(reqs, "left")
        with torch.inference_mode():
            ids = self.model.generate(**enc, max_new_tokens=max(r.max_tokens for r in reqs) or self.max_new_tokens,
                                      do_sample=False, pad_token_id=self.tok.pad_token_id)
        new = ids[:, enc["input_ids"].shape[1]:]
        texts = self.tok.batch_decode(new, skip_special_tokens=True)
        n_prompt = enc["attention_mask"].sum(1).tolist()
        return [Response(text=t, prompt_tokens=int(n), completion_tokens=int((row != self.tok.pad_token_id).sum()))
                for t, n, row in zip(texts, n_prompt, new, strict=True)]

    def _loglik(self, reqs: list[Request]) -> list[Response]:
        """Score every option of every request in one right-padded forward pass."""
        torch = self.torch
        enc = self._encode(reqs, "right")
        rows, pix, spans = [], [], []
        n_img = [len(r.images) for r in reqs]
        img_start = [sum(n_img[:k]) for k in range(len(reqs))]
        for k, r in enumerate(reqs):
            prompt = enc["input_ids"][k][enc["attention_mask"][k].bool()].tolist()
            for c in r.choices or ():
                cont = self.tok(c, add_special_tokens=False)["input_ids"]
                rows.append(prompt + cont)
                spans.append((k, c, len(prompt), len(cont)))
                if "pixel_values" in enc:
                    pix.append(enc["pixel_values"][img_start[k]:img_start[k] + n_img[k]])
        width = max(len(x) for x in rows)
        pad = self.tok.pad_token_id
        ids = torch.tensor([x + [pad] * (width - len(x)) for x in rows], device=self.device)
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in rows], device=self.device)
        kw = {"pixel_values": torch.cat(pix)} if pix else {}
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask, **kw).logits.float()
        logp = torch.log_softmax(logits, -1)
        scores: dict[int, dict[str, float]] = {}
        for row, (k, c, start, n) in enumerate(spans):
            tgt = ids[row, start:start + n]
            lp = logp[row, start - 1:start - 1 + n].gather(1, tgt[:, None]).sum().item()
            scores.setdefault(k, {})[c] = float(lp)
        out = []
        for k, r in enumerate(reqs):
            s = scores[k]
            best = max(r.choices or (), key=lambda c: (s[c], -(r.choices or ()).index(c)))
            out.append(Response(text=best, logprobs=s, prompt_tokens=int(enc["attention_mask"][k].sum()),
                                completion_tokens=0))
        return out


MODELS.add("hf", HFModel)
