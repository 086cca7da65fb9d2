"""Tasks: each owns its prompt (from docvl/prompts) and a pure parser of the model's text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..raster import PageImage
from ..sources import Document


@dataclass
class Task:
    name: str
    # (page, model family) -> prompt text
    prompt: Callable[[PageImage, str], str]
    # (model text, page, model family) -> fields merged into the page record; never raises
    parse: Callable[[str, PageImage, str], dict]
    options: dict = field(default_factory=dict)  # recorded in the output and the resume key
    # (document, 1-based page) -> the page record's fields, or None to render the page for the model.
    # Lets a page be answered without the model (e.g. from its text layer). It runs in the raster
    # worker processes, before rendering, so it must be picklable (a module-level function or an
    # instance of a module-level class); the runner adds page, status, error, token counts and seconds.
    answer_page: Callable[[Document, int], dict | None] | None = None
    # (the document's page records) -> fields merged into the document record once all pages are done
    summarize: Callable[[list[dict]], dict] | None = None
    # (the finished document record, the file it came from, its password): work on the record that
    # needs the document again (snapping boxes to its text layer, overlay images); never raises
    finish: Callable[[dict, str, str | None], None] | None = None
