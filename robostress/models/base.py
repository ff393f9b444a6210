"""The batch-first model interface shared by every backend and by the agent."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from robostress.questions.item import Item
from robostress.registry import Registry


@dataclass(frozen=True)
class Request:
    """One prompt to a model: text, images (absolute paths), and optional constraints."""

    id: str
    prompt: str
    images: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None  # constrain the reply to one of these strings
    max_tokens: int = 64
    system: str | None = None
    item: Item | None = None  # weight-free baselines read the item (the oracle reads its truth)


@dataclass
class Response:
    """A model's reply. ``error`` is set (and ``text`` empty) when no reply could be had."""

    text: str
    logprobs: dict[str, float] | None = None  # option -> log-probability, when available
    latency_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Model(abc.ABC):
    """A model backend. ``generate`` takes a batch and returns one Response per Request, in order.

    Implementations never raise for a single bad reply: they return a Response with ``error``.
    They raise ``robostress.errors.BackendError`` only when the backend cannot work at all.
    """

    name: str = "model"

    @abc.abstractmethod
    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer every request (order preserved)."""

    def describe(self) -> dict[str, Any]:
        """JSON-safe description for run.json and fingerprints (never includes secrets)."""
        return {"backend": self.name}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (HTTP sessions, GPU memory)."""


ModelFactory = Callable[..., Model]
MODELS: Registry[ModelFactory] = Registry("model backend")


def create_model(backend: str, **kwargs: Any) -> Model:
    """Create a registered backend by name with its config values."""
    _load_all()
    return MODELS.get(backend)(**kwargs)


def _load_all() -> None:
    # Backend modules register lightweight factories; heavy imports happen inside them.
    import importlib

    for mod in ("baselines", "vllm_server", "openai_api", "vllm_offline", "hf"):
        try:
            importlib.import_module(f"robostress.models.{mod}")
        except ModuleNotFoundError as e:  # a backend module not written yet
            if e.name != f"robostress.models.{mod}":
                raise
