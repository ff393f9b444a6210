"""``vllm``: a model served by ``vllm serve`` (OpenAI-compatible), with constrained choice.

Multiple choice is constrained with ``structured_outputs: {"choice": [...]}``, the current
vLLM request field. The old ``guided_choice`` was removed (vLLM 0.12) and newer servers
ignore it silently, returning unconstrained text, so it is never sent.

    vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8000
    create_model("vllm", name="Qwen/Qwen2.5-VL-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
"""

from __future__ import annotations

from typing import Any

from robostress.models.http_client import ChatClient


class VLLMServer(ChatClient):
    """A vLLM OpenAI-compatible server; see ChatClient for the settings.

    The key (only needed when the server runs with ``--api-key``) is read from $VLLM_API_KEY
    or the variable named by ``api_key_env``. ``concurrency`` defaults to 64: vLLM batches
    the requests in flight on the GPU (up to ``--max-num-seqs``, 256 by default and 1024 on
    GPUs of 70 GB or more in vLLM 0.33), so the client must keep enough of them open: with
    32 in flight a 50 ms server gives at most 32x a batch-1 loop (bench/eval.py measures
    both). Far more only queues requests inside vLLM, where they count against ``timeout_s``.
    """

    name = "vllm"

    def __init__(self, name: str, base_url: str = "http://127.0.0.1:8000/v1", *,
                 api_key_env: str = "VLLM_API_KEY", concurrency: int = 64,
                 structured_outputs: bool = True, **kw: Any) -> None:
        super().__init__(name, base_url, api_key_env=api_key_env, concurrency=concurrency,
                         structured_outputs=structured_outputs, **kw)
