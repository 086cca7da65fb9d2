"""Engines: the only code that talks to a model. A batch of requests in, texts and token counts out."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

# model_type in a checkpoint's config -> the family name docvl uses for prompts and box conventions.
FAMILIES = {"qwen2_vl": "qwen2-vl", "qwen2_5_vl": "qwen2.5-vl", "qwen3_vl": "qwen3-vl"}
DEFAULT_MODEL = "Qwen/Qwen2-VL-2B-Instruct"


@dataclass
class Request:
    image: Image.Image
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


def family_of(model_type: str) -> str:
    return FAMILIES.get(model_type, "qwen2-vl")
