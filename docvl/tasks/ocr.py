"""OCR: the page's text in reading order. Template fields: {language_hint}, {language}.

With markdown (`ocr --markdown`), the model is asked for the page as Markdown (template
`ocr-markdown`): its cleaned answer is both `text` and `markdown`. Pages answered from the text layer
carry Markdown blocks, rendered once the document is done, when its running headers, footers and page
numbers are known (textlayer/markdown.py: they go to `furniture`).

With boxes, the model is asked for each line with its box (template `ocr-boxes`); the lines come out
in page coordinates and `text` is their text, one line each.
"""

from __future__ import annotations

from .. import prompts
from ..errors import UsageError
from ..coords import anchor_all
from ..parsers.boxes import parse_boxes
from ..parsers.text import clean_answer
from ..raster import PageImage
from . import Task


def ocr_task(lang: str | None = None, prompt_file: str | None = None, boxes: bool = False,
             markdown: bool = False) -> Task:
    if boxes and markdown:
        raise UsageError("--markdown with --boxes (or --format pdf, hocr, alto): not supported; use one")
    language = prompts.language_name(lang)
    hint = f" The text is in {language}." if language else ""
    name = "ocr-boxes" if boxes else "ocr-markdown" if markdown else "ocr"

    def prompt(page: PageImage, family: str) -> str:
        template = prompts.load_template(name, family, prompt_file)
        return prompts.render(template, language_hint=hint, language=language or "its original language")

    options = {"lang": lang, "prompt_file": prompt_file, "boxes": boxes}
    if not markdown:
        return Task("ocr", prompt, parse_ocr_lines if boxes else parse_ocr, options)
    return Task("ocr", prompt, parse_ocr_markdown, {**options, "markdown": True}, summarize=summarize_markdown)


def parse_ocr_markdown(text: str, page: PageImage, family: str) -> dict:
    fields = parse_ocr(text, page, family)
    fields["markdown"] = fields["text"]
    return fields


def summarize_markdown(pages: list[dict]) -> dict:
    from ..textlayer.markdown import document_markdown

    document_markdown(pages)
    return {}


def parse_ocr(text: str, page: PageImage, family: str) -> dict:
    # The same clean-up as every task's parser: reasoning dropped, a looping tail cut and warned.
    text, warnings = clean_answer(text)
    return {"text": strip_fences(text).strip(), "warnings": warnings}


def parse_ocr_lines(text: str, page: PageImage, family: str) -> dict:
    items, warnings = parse_boxes(text, plain=False)
    lines = [{"text": line.pop("label") or "", **line} for line in anchor_all(items, page, family, warnings)]
    if not items:
        plain = strip_fences(clean_answer(text)[0]).strip()
        if plain:
            warnings.append("the answer has no line boxes; its text is kept without them")
        return {"text": plain, "lines": [], "warnings": warnings}
    return {"text": "\n".join(line["text"] for line in lines), "lines": lines, "warnings": warnings}


def strip_fences(text: str) -> str:
    """Models sometimes wrap plain output in a ``` code fence; drop it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        body = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        return body[: body.rfind("```")] if body.rstrip().endswith("```") else body
    return text
