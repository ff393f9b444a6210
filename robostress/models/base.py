"""The batch-first model interface shared by every backend and by the agent."""

from __future__ import annotations

import abc
import importlib
import importlib.metadata
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from robostress.errors import BackendError
from robostress.questions.item import Item
from robostress.registry import Registry

log = logging.getLogger(__name__)


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
    batch_hint: int | None = None  # items per generate() call a GPU engine wants; the runner sends at least this many
    reads_one_image: bool = False  # True: answers from a request's first image only (the agent then sends it the edited one)

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
ENTRY_POINT_GROUP = "robostress.models"  # third-party backends: name = "package.module:factory"
BUILTINS = {  # name -> (module of robostress.models, class); imported only when the backend is created
    "oracle": ("baselines", "Oracle"), "random": ("baselines", "Random"), "blind": ("baselines", "Blind"),
    "classical": ("classical", "Classical"), "prior": ("prior", "Prior"), "vllm": ("vllm_server", "VLLMServer"),
    "openai": ("openai_api", "OpenAIChat"), "vllm_offline": ("vllm_offline", "VLLMOffline"), "hf": ("hf", "HFModel"),
    "reader": ("reader", "Reader"), "reader_blind": ("reader", "ReaderBlind"),
}
_seen_entry_points: set[tuple[str, str]] = set()


def _builtin(module: str, cls: str) -> ModelFactory:
    """A factory that imports ``robostress.models.<module>`` on first use (torch, transformers and
    vllm are imported, with an install hint, only inside the heavy backends' constructors)."""

    def factory(**kwargs: Any) -> Model:
        model: Model = getattr(importlib.import_module(f"robostress.models.{module}"), cls)(**kwargs)
        return model

    factory.__qualname__ = factory.__name__ = f"{module}.{cls}"
    return factory


for _name, (_module, _cls) in BUILTINS.items():
    MODELS.add(_name, _builtin(_module, _cls))


def _from_entry_point(ep: importlib.metadata.EntryPoint) -> ModelFactory:
    """A factory that loads a third-party backend's entry point on first use."""
    where = f"entry point {ep.name} = {ep.value} (group {ENTRY_POINT_GROUP}" + \
        (f", package {ep.dist.name})" if ep.dist is not None else ")")

    def factory(**kwargs: Any) -> Model:
        try:
            make = ep.load()
        except Exception as e:  # third-party code: any failure to import it is that plugin's
            raise BackendError(f"model backend {ep.name!r} cannot be loaded from its {where}: "
                               f"{type(e).__name__}: {' '.join(str(e).split())}; fix or uninstall "
                               "that package") from e
        model = make(**kwargs)
        if not isinstance(model, Model):
            raise BackendError(f"model backend {ep.name!r} ({where}) made a {type(model).__name__}, "
                               "not a robostress.models.base.Model")
        return model

    return factory


def add_entry_points() -> None:
    """Register the backends of installed packages (entry-point group ``robostress.models``) not
    registered yet. A name already taken (a built-in) keeps its backend, with a warning."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if (ep.name, ep.value) in _seen_entry_points:
            continue
        _seen_entry_points.add((ep.name, ep.value))
        if ep.name in MODELS:
            log.warning("ignoring entry point %s = %s (group %s): backend %r exists already",
                        ep.name, ep.value, ENTRY_POINT_GROUP, ep.name)
            continue
        MODELS.add(ep.name, _from_entry_point(ep))


def create_model(backend: str, **kwargs: Any) -> Model:
    """Create a backend by name (built-in or from an installed package's entry point) with its
    config values."""
    if backend not in MODELS:
        add_entry_points()  # looked up on a miss only: packages installed since are found too
    return MODELS.get(backend)(**kwargs)
