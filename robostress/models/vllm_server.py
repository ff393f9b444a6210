"""``vllm``: a model served by ``vllm serve`` (OpenAI-compatible), with constrained choice.

Multiple choice is constrained with ``structured_outputs: {"choice": [...]}``, the request
field of vLLM 0.11 and later. A vLLM 0.10.x server does not know it and drops it with no word
to the client (only its own log says so), so multiple choice would come back unconstrained;
the client therefore asks the server's ``GET /version`` when it connects and sends the old
``guided_choice`` to a 0.10.x server. The old field is never sent to a newer one (0.12+ ignores
it). A server without ``/version`` (not vLLM) gets ``structured_outputs``. describe() records
which field was sent.

Decoding: the server fills every sampling field a request leaves unset from its
``--generation-config`` (default ``auto``: the checkpoint's ``generation_config.json``, e.g. a
repetition penalty), exactly as ``vllm_offline`` does by default.

    vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8000
    create_model("vllm", name="Qwen/Qwen2.5-VL-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
"""

from __future__ import annotations

import json
from typing import Any

from robostress.errors import BackendError
from robostress.models.http_client import ChatClient, public_url
from robostress.models.vllm_offline import version_tuple

MIN_SERVER = (0, 10)


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
        self.server_version: str | None = None
        super().__init__(name, base_url, api_key_env=api_key_env, concurrency=concurrency,
                         structured_outputs=structured_outputs, **kw)

    def _check(self) -> None:
        super()._check()
        self.server_version = self._version()
        if self.server_version is None:
            return
        v = version_tuple(self.server_version)
        if v and v < MIN_SERVER:
            self.close()
            raise BackendError(f"the vLLM server at {public_url(self.base_url)} runs vLLM {self.server_version}, "
                               "which is too old: robostress needs vLLM >= 0.10 (upgrade the server)")
        if v and v < (0, 11):
            self.choice_field = "guided_choice"

    def _version(self) -> str | None:
        """The server's vLLM version (``GET /version`` at the API root), or None if it has none."""
        root = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
        headers = self._headers()

        try:
            status, raw = self._run(self._probe(f"{root}/version", headers))
            version = json.loads(raw or b"")["version"] if status == 200 else None
        except Exception:  # no /version (not vLLM), or an odd reply: the current field is sent
            return None
        return str(version) if version else None
