"""``hf``: a local transformers VLM (AutoProcessor + AutoModelForImageTextToText), batched.

Always offline (``local_files_only``). Multiple choice by option log-likelihood (default) or by
generation. Log-likelihoods use right padding so every sequence keeps positions 0..n and a
result does not depend on the batch it was computed in.

Family-agnostic: prompts go through the checkpoint's own chat template (system message
included), images are passed nested per prompt and every processor output (pixel values,
grid sizes, tile masks, token types, cross-attention masks) goes to the model untouched.
Tested on tiny random builds of LLaVA, LLaVA-NeXT, Idefics3, Gemma 3 and Mllama
(``robostress.models.tiny_vlm``).

On a GPU (``device=auto`` picks CUDA whenever torch sees one, and says so when a CPU-only torch
build hides a GPU) the weights load as bfloat16 with ``device_map``; on the CPU as float32.
The dtype keyword is ``dtype=`` from transformers 4.56 and ``torch_dtype=`` before (older
versions hand ``dtype=`` to the model class, a TypeError). Option scoring keeps logits only at
the positions the options are read from, and options of one token each (the option letters)
are scored from one row per request, so each image is encoded once, not once per option.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from robostress.core.version import version_tuple
from robostress.errors import BackendError
from robostress.models.base import Model, Request, Response

log = logging.getLogger(__name__)
INSTALL_HINT = ("transformers is not installed: pip install 'robostress[hf]' (on a GPU machine install the "
                "torch build for its CUDA first, from pytorch.org: a plain `pip install torch` may be CPU-only)")
DTYPE_KEYWORD_FROM = (4, 56)  # transformers accepts from_pretrained(dtype=...) from 4.56; torch_dtype= before




def dtype_keyword(transformers_version: str) -> str:
    """``from_pretrained``'s dtype keyword in this transformers version."""
    return "dtype" if version_tuple(transformers_version) >= DTYPE_KEYWORD_FROM else "torch_dtype"


def gpu_hidden(torch: Any) -> bool:
    """True when this machine has an NVIDIA GPU that torch cannot use (a CPU-only torch build)."""
    if torch.cuda.is_available():
        return False
    return os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi") is not None


class HFModel(Model):
    """A transformers image-text-to-text model from a local folder."""

    name = "hf"

    def __init__(self, path: str, *, batch_size: int = 8, mc_mode: str = "loglik", dtype: str = "auto",
                 device: str = "auto", max_new_tokens: int = 32, seed: int = 0) -> None:
        try:
            import torch  # optional and heavy: only this backend needs it
            import transformers
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
        self.max_new_tokens, self.seed = int(max_new_tokens), int(seed)
        if device == "auto" and gpu_hidden(torch):
            log.warning("hf: this machine has an NVIDIA GPU but torch %s is a CPU-only build, so the model runs "
                        "on the CPU; install the CUDA build of torch (pytorch.org) to use the GPU", torch.__version__)
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        on_gpu = self.device.startswith("cuda")
        if dtype == "auto":
            dtype = "bfloat16" if on_gpu and torch.cuda.is_bf16_supported() else ("float16" if on_gpu else "float32")
        if not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise BackendError(f"hf: unknown dtype {dtype!r}; use auto, bfloat16, float16 or float32")
        self.dtype_name = dtype
        load: dict[str, Any] = {dtype_keyword(transformers.__version__): getattr(torch, dtype)}
        if on_gpu and importlib.util.find_spec("accelerate") is not None:
            load["device_map"] = self.device  # weights go to the GPU as they load, not through host memory
        torch.manual_seed(self.seed)
        try:
            self.processor = AutoProcessor.from_pretrained(p, local_files_only=True)
            model = AutoModelForImageTextToText.from_pretrained(p, local_files_only=True, **load)
            self.model = (model if "device_map" in load else model.to(self.device)).eval()
        except ImportError as e:  # e.g. Qwen-VL processors need torchvision for their video half
            why = " ".join(str(e).split()).split(". ")[0]
            raise BackendError(f"cannot load the model at {p}: {why}; install it (torchvision must match "
                               "your torch build)") from None
        self.tok = self.processor.tokenizer
        self._keep = "logits_to_keep" in inspect.signature(self.model.forward).parameters
        self._cfg_hash = hashlib.sha256((p / "config.json").read_bytes()).hexdigest()[:12]

    def describe(self) -> dict[str, Any]:
        """Path, config hash and inference settings."""
        return {"backend": self.name, "path": str(self.path), "config_sha": self._cfg_hash, "dtype": self.dtype_name,
                "batch_size": self.batch_size, "mc_mode": self.mc_mode, "max_new_tokens": self.max_new_tokens}

    def _prompt(self, r: Request) -> str:
        content: list[dict[str, Any]] = [{"type": "image"} for _ in r.images] + [{"type": "text", "text": r.prompt}]
        msgs = [{"role": "system", "content": [{"type": "text", "text": r.system}]}] if r.system else []
        return str(self.processor.apply_chat_template([*msgs, {"role": "user", "content": content}],
                                                      add_generation_prompt=True))

    def _images(self, r: Request) -> list[Any]:
        out = []
        for p in r.images:
            with Image.open(p) as im:
                out.append(im.convert("RGB"))
        return out

    def _encode(self, prompts: list[str], images: list[list[Any]], side: str) -> Any:
        """Processor inputs of a batch: images nested per prompt (as every family's processor
        takes them), special tokens added only where the chat template did not add them."""
        self.tok.padding_side = side
        bos = self.tok.bos_token
        kw: dict[str, Any] = {"images": images} if any(images) else {}
        enc = self.processor(text=prompts, return_tensors="pt", padding=True,
                             add_special_tokens=not (bos and prompts[0].startswith(bos)), **kw)
        return enc.to(self.device, dtype=self.model.dtype)

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
        enc = self._encode([self._prompt(r) for r in reqs], [self._images(r) for r in reqs], "left")
        with torch.inference_mode():
            budget = min(max(r.max_tokens for r in reqs) or self.max_new_tokens, self.max_new_tokens)
            ids = self.model.generate(**enc, max_new_tokens=budget,
                                      do_sample=False, pad_token_id=self.tok.pad_token_id)
        new = ids[:, enc["input_ids"].shape[1]:]
        texts = self.tok.batch_decode(new, skip_special_tokens=True)
        n_prompt = enc["attention_mask"].sum(1).tolist()
        return [Response(text=t, prompt_tokens=int(n), completion_tokens=int((row != self.tok.pad_token_id).sum()))
                for t, n, row in zip(texts, n_prompt, new, strict=True)]

    def _loglik(self, reqs: list[Request]) -> list[Response]:
        """Score every option of every request in one right-padded forward pass.

        A request whose options are one token each (option letters) is one row: its prompt and
        images, scored at the prompt's last position. Otherwise there is one row per option: the
        processor encodes the prompt with its images (so every family's own image inputs line up
        with the rows), then the option's tokens are appended after the prompt's last real token.
        Only the positions options are read from are turned into logits (``logits_to_keep``).
        """
        torch = self.torch
        prompts, images = [self._prompt(r) for r in reqs], [self._images(r) for r in reqs]
        toks = [{c: self.tok(c, add_special_tokens=False)["input_ids"] for c in r.choices or ()} for r in reqs]
        single = [all(len(t) == 1 for t in tk.values()) for tk in toks]
        rows = [(k, None if single[k] else c) for k, r in enumerate(reqs) for c in ((None,) if single[k] else r.choices or ())]
        enc = self._encode([prompts[k] for k, _ in rows], [images[k] for k, _ in rows], "right")
        n_prompt = enc["attention_mask"].sum(1).tolist()
        conts = [[] if c is None else toks[k][c] for k, c in rows]
        kw = _append_tokens(torch, dict(enc), n_prompt, conts, self.tok.pad_token_id) if any(conts) else dict(enc)
        # positions whose next-token distribution is read: the prompt's last token, then each option token but the last
        spans = [(n - 1, max(1, len(c))) for n, c in zip(n_prompt, conts, strict=True)]
        keep = sorted({s + j for s, m in spans for j in range(m)})
        if self._keep:
            kw["logits_to_keep"] = torch.tensor(keep, device=kw["input_ids"].device)
        with torch.inference_mode():
            logits = self.model(**kw).logits
        where = {pos: i for i, pos in enumerate(keep)} if self._keep else {pos: pos for pos in keep}
        scores: dict[int, dict[str, float]] = {}
        for row, ((k, c), (start, m), cont) in enumerate(zip(rows, spans, conts, strict=True)):
            lp = torch.log_softmax(logits[row, [where[start + j] for j in range(m)]].float(), -1)
            if c is None:  # one token per option: all options from this one distribution
                for opt, t in toks[k].items():
                    scores.setdefault(k, {})[opt] = float(lp[0, t[0]].item())
            else:
                tgt = torch.tensor(cont, device=lp.device)
                scores.setdefault(k, {})[c] = float(lp.gather(1, tgt[:, None]).sum().item())
        out = []
        for k, r in enumerate(reqs):
            s = scores[k]
            best = max(r.choices or (), key=lambda c: (s[c], -(r.choices or ()).index(c)))
            first = next(i for i, (kk, _) in enumerate(rows) if kk == k)
            out.append(Response(text=best, logprobs=s, prompt_tokens=int(n_prompt[first]), completion_tokens=0))
        return out


def _append_tokens(torch: Any, enc: dict[str, Any], n_prompt: list[int], conts: list[list[int]], pad: int) -> dict[str, Any]:
    """``enc`` (right-padded) with ``conts[i]`` appended after row i's ``n_prompt[i]`` real tokens.

    Other per-token inputs (Gemma 3's ``token_type_ids``, Mllama's ``cross_attention_mask``,
    ...) are extended with the value of the row's last real token, as generation extends them.
    """
    ids = enc["input_ids"]
    rows, old = ids.shape
    width = max(n + len(c) for n, c in zip(n_prompt, conts, strict=True))
    out = dict(enc)
    for key, v in enc.items():
        if not (isinstance(v, torch.Tensor) and v.dim() >= 2 and tuple(v.shape[:2]) == (rows, old)):
            continue
        new = v.new_full((rows, width, *v.shape[2:]), pad if key == "input_ids" else 0)
        for i, (n, c) in enumerate(zip(n_prompt, conts, strict=True)):
            new[i, :n] = v[i, :n]
            if key == "input_ids":
                new[i, n:n + len(c)] = torch.tensor(c, dtype=v.dtype)
            elif key == "attention_mask":
                new[i, n:n + len(c)] = 1
            else:
                new[i, n:n + len(c)] = v[i, n - 1]
        out[key] = new
    return out
