"""Stand-ins for trying robostress without a GPU: ``fake_vllm.FakeVLLMServer``, a loopback HTTP
server speaking vLLM's OpenAI-compatible protocol (with injectable faults), so the ``vllm`` and
``openai`` backends' HTTP client can be exercised, tested and benchmarked on any machine.

Nothing in the pipeline imports this package; the tests and ``bench/eval.py`` do.
"""

from robostress.testing.fake_vllm import FakeVLLMServer

__all__ = ["FakeVLLMServer"]
