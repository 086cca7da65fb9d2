"""Tasks: each owns its prompt (from docvl/prompts) and a pure parser of the model's text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..raster import PageImage


@dataclass
class Task:
    name: str
    # (page, model family) -> prompt text
    prompt: Callable[[PageImage, str], str]
    # (model text, page, model family) -> fields merged into the page record; never raises
    parse: Callable[[str, PageImage, str], dict]
    options: dict = field(default_factory=dict)  # recorded in the output and the resume key
