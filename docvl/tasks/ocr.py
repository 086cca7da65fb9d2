"""OCR: the page's text in reading order. Template fields: {language_hint}, {language}."""

from __future__ import annotations

from .. import prompts
from ..raster import PageImage
from . import Task


def ocr_task(lang: str | None = None, prompt_file: str | None = None) -> Task:
    language = prompts.language_name(lang)
    hint = f" The text is in {language}." if language else ""

    def prompt(page: PageImage, family: str) -> str:
        template = prompts.load_template("ocr", family, prompt_file)
        return prompts.render(template, language_hint=hint, language=language or "its original language")

    return Task("ocr", prompt, parse_ocr, {"lang": lang, "prompt_file": prompt_file})


def parse_ocr(text: str, page: PageImage, family: str) -> dict:
    return {"text": strip_fences(text).strip()}


def strip_fences(text: str) -> str:
    """Models sometimes wrap plain output in a ``` code fence; drop it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        body = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        return body[: body.rfind("```")] if body.rstrip().endswith("```") else body
    return text
