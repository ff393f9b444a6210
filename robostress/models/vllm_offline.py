"""``vllm_offline``: vLLM in-process (``LLM.chat``) for batch GPU jobs.

vLLM ships CUDA wheels only; it is imported when this backend is created, never before, and
vLLM 0.10 to 0.33 are supported. A batch is one ``LLM.chat`` call with one ``SamplingParams``
per request, and the runner hands this backend ``batch_size`` (256) items at a time so vLLM's
scheduler keeps the GPU full. Requests that share an image go in next to each other, image
before text, so vLLM's prefix cache (switched on explicitly) encodes each image once.
Multiple choice is constrained with ``StructuredOutputsParams(choice=...)`` (vLLM 0.11+) or
``GuidedDecodingParams(choice=...)`` (0.10.x). Images go in as the same base64 data URLs the
server backend sends.

Decoding matches ``vllm serve``: the server fills every sampling field a request leaves unset
from the checkpoint's ``generation_config.json`` (a repetition penalty, say), while the
offline ``LLM`` applies nothing of it to explicit ``SamplingParams``. So those defaults are
merged here, and describe() (run.json) records the resolved decoding parameters.

Engine lifecycle: the engine starts its worker with ``spawn`` (the renderer may have started
CUDA in this process, which vLLM does not see), ``close()`` shuts the engine process down so the
next model of the same job finds the GPU memory free, and an ``EngineDeadError`` (CUDA out of
memory, a crashed worker) stops the run with one message; the answers already written stay.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from robostress.core.version import version_tuple
from robostress.errors import BackendError, ConfigError
from robostress.models.base import Model, Request, Response
from robostress.models.http_client import chat_messages

log = logging.getLogger(__name__)

INSTALL_HINT = ("the vllm_offline backend needs vLLM, which is not installed here: "
                "pip install 'robostress[vllm]' on a CUDA machine (or use model=vllm with `vllm serve`)")
MIN_VLLM = (0, 10)  # GuidedDecodingParams (0.10-0.11) or StructuredOutputsParams (0.11+); v1 EngineDeadError
# generation_config keys vLLM's server applies to a request that does not set them (vLLM's
# ChatCompletionRequest.to_sampling_params); the offline LLM applies none of them to an explicit
# SamplingParams, so they are merged here to decode as `vllm serve` does.
SERVER_DEFAULT_KEYS = ("repetition_penalty", "presence_penalty", "frequency_penalty", "temperature",
                       "top_p", "top_k", "min_p")




def import_vllm() -> tuple[Any, Any, Any, str, Any]:
    """``(LLM, SamplingParams, choice class, its SamplingParams keyword, EngineDeadError)``.

    BackendError that says whether vLLM is missing, too old, or installed but broken.
    """
    if "vllm" not in sys.modules and importlib.util.find_spec("vllm") is None:
        raise BackendError(INSTALL_HINT)
    try:
        import vllm  # optional and heavy: only this backend needs it
        from vllm import LLM, SamplingParams
    except ImportError as e:
        raise BackendError(f"vLLM is installed but cannot be imported ({' '.join(str(e).split())[:200]}); "
                           "reinstall it on a CUDA machine: pip install -U 'robostress[vllm]'") from None
    version = str(getattr(vllm, "__version__", "0"))
    if version_tuple(version) < MIN_VLLM:
        raise BackendError(f"vLLM {version} is too old for vllm_offline: it needs vLLM >= 0.10; "
                           "pip install -U 'robostress[vllm]'")
    try:
        from vllm.sampling_params import StructuredOutputsParams as Choice  # 0.11+
        key = "structured_outputs"
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams as Choice  # 0.10.x (removed in 0.12)
        key = "guided_decoding"
    try:
        from vllm.v1.engine.exceptions import EngineDeadError
    except ImportError:  # pragma: no cover - present from 0.10 on
        EngineDeadError = ()  # noqa: N806
    return LLM, SamplingParams, Choice, key, EngineDeadError


def offline_messages(requests: Sequence[Request]) -> list[list[dict[str, Any]] | str]:
    """One OpenAI-style conversation per request for ``LLM.chat`` (images as data URLs), or
    the reason it could not be built (an unreadable image) in its place."""
    out: list[list[dict[str, Any]] | str] = []
    for r in requests:
        try:
            out.append(chat_messages(r))
        except OSError as e:
            out.append(f"cannot read image {e.filename!r} ({type(e).__name__})")
    return out


def first_token_logprobs(logprobs: Any, options: Sequence[str] | None) -> dict[str, float] | None:
    """Options' log-probabilities from vLLM's first-position ``{token_id: Logprob}`` map."""
    if not options or not logprobs:
        return None
    out: dict[str, float] = {}
    for lp in sorted(logprobs[0].values(), key=lambda x: -x.logprob):
        tok = (lp.decoded_token or "").strip()
        if tok in options and tok not in out:
            out[tok] = float(lp.logprob)
    return out or None


class VLLMOffline(Model):
    """vLLM's LLM engine in this process.

    Args:
        name: a Hugging Face model id or a local path (served offline if the hub is unreachable).
        max_tokens: upper bound on generated tokens (a request may ask for fewer).
        temperature, seed: decoding settings.
        logprobs: if > 0, return first-token log-probabilities of the options.
        batch_size: items per ``LLM.chat`` call (the runner sends at least this many at once).
        tensor_parallel_size: GPUs per model.
        max_model_len: context length; None (default) takes the model's own (a larger value than
            the model allows makes vLLM refuse to start).
        generation_config: ``auto`` (the checkpoint's defaults, as ``vllm serve`` uses them) or
            ``vllm`` (vLLM's neutral defaults; the server needs ``--generation-config vllm``).
        **engine: any other ``LLM(...)`` argument (``limit_mm_per_prompt``,
            ``gpu_memory_utilization``, ``mm_processor_kwargs``, ...).
    """

    name = "vllm_offline"

    def __init__(self, name: str, *, max_tokens: int = 64, temperature: float = 0.0, seed: int = 0,
                 logprobs: int = 0, batch_size: int = 256, tensor_parallel_size: int = 1,
                 max_model_len: int | None = None, generation_config: str = "auto", **engine: Any) -> None:
        if not name or name == "???":
            raise ConfigError("vllm_offline: model.name is required (a model id or path)")
        LLM, self._sampling, self._choice, self._choice_key, self._dead = import_vllm()  # noqa: N806
        self.model_name, self.max_tokens, self.temperature = name, int(max_tokens), float(temperature)
        self.seed, self.logprobs, self.batch_hint = int(seed), int(logprobs), max(1, int(batch_size))
        self.engine = {"tensor_parallel_size": tensor_parallel_size, "enable_prefix_caching": True,
                       "generation_config": generation_config,
                       **({"max_model_len": int(max_model_len)} if max_model_len else {}), **engine}
        # vLLM forks its engine unless *torch* has started CUDA; Dr.Jit (cuda_ad_rgb) may have
        # started it unseen, and a forked CUDA context crashes, so ask for spawn
        os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
        try:
            self.llm = LLM(model=name, seed=self.seed, **self.engine)
        except (ValueError, RuntimeError, OSError, TypeError) as e:  # pydantic's ValidationError is a ValueError
            raise BackendError(f"vLLM cannot start {name}: {_brief(e)}") from None
        self.defaults = self._server_defaults()

    def _server_defaults(self) -> dict[str, Any]:
        """The checkpoint's sampling defaults that ``vllm serve`` would apply (empty with
        ``generation_config=vllm``)."""
        try:
            diff = self.llm.llm_engine.model_config.get_diff_sampling_param()
        except AttributeError:
            return {}
        return {k: diff[k] for k in SERVER_DEFAULT_KEYS if k in diff}

    def decoding(self) -> dict[str, Any]:
        """The sampling parameters every request gets (options and max_tokens aside)."""
        return {**self.defaults, "temperature": self.temperature, "seed": self.seed}

    def describe(self) -> dict[str, Any]:
        """Model, resolved decoding and engine settings (the batch size changes no answer)."""
        return {"backend": self.name, "name": self.model_name, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "seed": self.seed, "logprobs": self.logprobs,
                "decoding": self.decoding(), "choice_field": self._choice_key,
                "engine": {k: v if isinstance(v, (int, float, str, bool)) else str(v)
                           for k, v in sorted(self.engine.items())}}

    def sampling_params(self, r: Request) -> Any:
        """The SamplingParams of one request: the server's defaults, then this run's settings."""
        kw: dict[str, Any] = {**self.decoding(), "max_tokens": min(r.max_tokens or self.max_tokens, self.max_tokens)}
        if r.choices:
            kw[self._choice_key] = self._choice(choice=list(r.choices))
        if self.logprobs > 0:
            kw["logprobs"] = self.logprobs
        return self._sampling(**kw)

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One batched ``LLM.chat`` call, requests sharing an image side by side (prefix cache);
        if vLLM rejects the batch (one prompt too long, say), the requests are retried one by one
        so that only the bad ones fail. A dead engine raises BackendError (the run stops)."""
        if self.llm is None:
            raise BackendError("vllm_offline: the engine was closed")
        msgs = offline_messages(requests)
        res: list[Response | None] = [Response(text="", error=m) if isinstance(m, str) else None for m in msgs]
        todo = sorted((i for i, r in enumerate(res) if r is None), key=lambda i: (requests[i].images, i))
        if not todo:
            return [r for r in res if r is not None]
        t0 = time.perf_counter()
        try:
            outs = self.llm.chat([msgs[i] for i in todo], [self.sampling_params(requests[i]) for i in todo],
                                 use_tqdm=False)
        except self._dead as e:
            raise BackendError(f"vLLM's engine died ({_brief(e)}); the run stops here and the answers "
                               "written so far are kept: see the log above for the cause (often CUDA out of "
                               "memory: lower gpu_memory_utilization or max_model_len), then rerun to resume") from None
        except Exception as e:  # vLLM raises ValueError & co. for a bad prompt, failing the batch
            if len(todo) == 1:
                res[todo[0]] = Response(text="", error=f"vLLM rejected the request ({type(e).__name__}: {str(e)[:200]})")
            else:
                for i in todo:
                    res[i] = self.generate([requests[i]])[0]
            return [r for r in res if r is not None]
        latency = (time.perf_counter() - t0) / len(todo)
        for i, o in zip(todo, outs, strict=True):
            res[i] = self._response(o, requests[i], latency)
        return [r for r in res if r is not None]

    def _response(self, o: Any, r: Request, latency: float) -> Response:
        c = o.outputs[0] if o.outputs else None
        text = c.text if c is not None else ""
        return Response(text=text if text.strip() else "", error=None if text.strip() else "empty content",
                        latency_s=latency, prompt_tokens=len(o.prompt_token_ids or []),
                        completion_tokens=len(c.token_ids) if c is not None else 0,
                        logprobs=first_token_logprobs(c.logprobs, r.choices) if c is not None else None)

    def close(self) -> None:
        """Shut the engine process down, so its GPU memory is free for the next model (vLLM's
        ``LLM`` has no close of its own; dropping the reference leaves the engine running until
        garbage collection, and the next ``LLM`` then fails vLLM's free-memory check)."""
        llm, self.llm = self.llm, None
        if llm is None:
            return
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        try:
            if core is not None and hasattr(core, "shutdown"):
                core.shutdown()  # no timeout argument: 0.10-0.11 take none
            del llm
            gc.collect()
            try:
                from vllm.distributed.parallel_state import cleanup_dist_env_and_memory
            except ImportError:
                return
            cleanup_dist_env_and_memory()  # the parent's process groups and CUDA cache
        except Exception as e:  # best effort: a failed cleanup must not hide the run's result
            log.warning("vllm_offline: engine shutdown incomplete (%s)", _brief(e))


def _brief(e: BaseException) -> str:
    """The first lines of an exception, on one line, at most 300 characters."""
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:300]}" if text else type(e).__name__
