"""Engines: the only code that talks to a model. A batch of requests in, texts and token counts out.

Every engine is a `Backend` and reports failures the same way:
- a page that failed on its own (a server gave up on it) comes back as a Generation with `error` set;
- `EngineOutOfMemory`: the batch did not fit; the runner splits it, then shrinks the page;
- `BatchFailed`: the batch failed as a whole for a reason that may be one page's; the runner splits
  it to find that page, and fails only it;
- `EngineError` (or UsageError): the engine cannot run at all; the run stops with that one line.

A new engine is one module with `from_config(config) -> Backend` and one line in BACKENDS.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..errors import DocvlError, UsageError

if TYPE_CHECKING:
    from PIL import Image

    from ..config import Config

# model_type in a checkpoint's config -> the family name docvl uses for prompts and box conventions.
FAMILIES = {"qwen2_vl": "qwen2-vl", "qwen2_5_vl": "qwen2.5-vl", "qwen3_vl": "qwen3-vl"}
# --engine name -> the module whose from_config(config) builds it (imported only when used).
BACKENDS = {
    "local": "docvl.engines.local",
    "server": "docvl.engines.server",
}


@dataclass
class Request:
    image: "Image.Image"
    prompt: str


@dataclass
class Generation:
    text: str
    prompt_tokens: int | None  # None: a server that reports no usage
    completion_tokens: int | None
    visual_tokens: int  # as counted by the model's processor (the server engine: docvl's own count)
    seconds: float  # local: this request's share of its batch's wall time; server: its own wall time
    # "stop" (the model ended its answer), "length" (max_new_tokens) or "time" (the page's time
    # limit ended generation: the runner fails the page rather than keep a cut answer)
    finish_reason: str = "stop"
    error: str | None = None  # the page failed (e.g. the server gave up); the runner records why
    # The chosen tokens' log-probabilities under the model (natural log), answer tokens only (the stop
    # token left out); None: the engine or server gave none.
    token_logprobs: list[float] | None = None
    token_texts: list[str] | None = None  # the same tokens' text, when known (per-line confidence)


class BatchFailed(DocvlError):
    """A batch failed as a whole (not for want of memory); the runner isolates the page at fault."""


class Backend(Protocol):
    name: str  # the --engine name
    model_name: str
    family: str  # qwen2-vl, qwen2.5-vl or qwen3-vl: prompts and box conventions follow it

    def generate(self, requests: list[Request]) -> list[Generation]: ...


def open_backend(config: "Config") -> Backend:
    """The engine that `config` names, loaded (a model) or connected (a server)."""
    module = BACKENDS.get(config.engine_kind)
    if module is None:
        raise UsageError(f"--engine {config.engine_kind}: use {', '.join(BACKENDS)}")
    return importlib.import_module(module).from_config(config)


def family_of(model_type: str) -> str:
    return FAMILIES.get(model_type, "qwen2-vl")
