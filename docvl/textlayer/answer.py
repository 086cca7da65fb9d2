"""Answering pages from the PDF's own text layer: `--text-layer auto|off|only`.

`TextLayerAnswer` is a task's `answer_page` hook: given a document and a 1-based page, it returns
the page record's fields when the text layer can be trusted, or None to send the page to the model.
It is a module-level class with plain fields, so the batch runner can hand it to worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, UsageError, short_reason
from ..sources import Document
from ..tasks import Task
from . import read_page
from .check import TextLayerCheck
from .tables import page_tables, unexplained

MODES = ("auto", "off", "only")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise UsageError(f"--text-layer {mode}: use auto, off or only")
    return mode


def page_fields(doc: Document, number: int, check: TextLayerCheck) -> dict:
    """Geometry of a page answered without rendering: sizes in points; no image, so no pixels."""
    page = doc.handle[number - 1]
    return {"source": "text-layer", "width_pt": round(page.rect.width, 2),
            "height_pt": round(page.rect.height, 2), "rotation": page.rotation, "text_layer": check.as_dict()}


@dataclass(frozen=True)
class TextLayerAnswer:
    """A Task.answer_page hook. `content` is what the task outputs ("text", "lines" or "tables"); with
    `only`, a page without a trustworthy text layer fails instead of going to the model. Tables are
    answered from the text layer where it finds some and leaves no aligned numbers unexplained (or with
    `only`, which warns of such numbers); other pages go to the model (docs/tables.md)."""

    content: str
    only: bool = False
    markdown: bool = False  # ocr --markdown: the page's Markdown blocks too (textlayer/markdown.py)

    def __call__(self, doc: Document, number: int) -> dict | None:
        read = read_page(doc, number)
        if read is None or not read[1].trusted:
            if not self.only:
                return None
            why = "an image has no text layer" if read is None else read[1].reason
            raise InputError(f"{doc.path}: page {number}: no trustworthy text layer ({why}); "
                             "use --text-layer auto to read it with the model")
        words, check = read
        fields = page_fields(doc, number, check)
        if self.markdown:
            from .markdown import page_blocks

            try:
                fields["blocks"] = page_blocks(doc.handle[number - 1], words, number)
            except Exception as e:  # a damaged page must cost only itself
                raise InputError(f"{doc.path}: page {number}: cannot read it as Markdown ({short_reason(e)})") from None
        if self.content == "text":
            fields["text"] = words.text
            return fields
        if self.content == "lines":  # ocr --boxes: each line with its box, as the model's lines are
            lines = [{"text": text, "box": [round(v, 2) for v in box], "box_px": None} for box, text in words.reading]
            fields.update(text=words.text, lines=lines, warnings=[])
            return fields
        try:
            tables = page_tables(doc.handle[number - 1], words, number)
        except Exception as e:  # a damaged page must cost only itself
            raise InputError(f"{doc.path}: page {number}: cannot read its tables ({short_reason(e)})") from None
        # Aligned numbers outside every table found are a table the text layer did not explain: in auto
        # mode the model reads the page (all its tables), so that no table is dropped; with `only` the
        # tables found are kept and a warning names the region. No table at all: the model may see one.
        missed = unexplained(doc.handle[number - 1], words, tables)
        if not self.only and (not tables or missed):
            return None
        warnings = [f"aligned numbers at {box} (points) are outside every table found: a table the text "
                    "layer did not explain, not read" for box in missed]
        fields.update(tables=tables, warnings=warnings)
        return fields


def with_text_layer(task: Task, content: str, mode: str, markdown: bool = False) -> Task:
    """`task` answering its pages from the text layer as `--text-layer MODE` says (off: never); with
    `markdown`, each page answered so also gets its Markdown blocks (task.summarize renders them)."""
    task.options["text_layer"] = check_mode(mode)
    task.answer_page = None if mode == "off" else TextLayerAnswer(content, only=mode == "only", markdown=markdown)
    return task


def document_tables(doc: Document) -> list[dict]:
    """Every table of a born-digital document's trusted pages (header, rows, box in points)."""
    tables = []
    for number in range(1, doc.page_count + 1):
        read = read_page(doc, number)
        if read and read[1].trusted:
            tables.extend(page_tables(doc.handle[number - 1], read[0], number))
    return tables
