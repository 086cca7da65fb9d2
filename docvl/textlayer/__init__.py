"""The PDF's own text layer: whether to trust it (check), and its text, words and tables."""

from __future__ import annotations

from ..errors import InputError, short_reason
from ..sources import Document
from .check import TextLayerCheck, check_page
from .words import PageWords, read_words


def read_page(doc: Document, number: int) -> tuple[PageWords, TextLayerCheck] | None:
    """The words and verdict of a PDF page's text layer; None for images, which have none."""
    if doc.kind != "pdf":
        return None
    try:
        page = doc.handle[number - 1]
        words = read_words(page)
        return words, check_page(page, words)
    except Exception as e:  # damaged pages raise various MuPDF errors
        raise InputError(f"{doc.path}: page {number}: cannot read its text layer ({short_reason(e)})") from None
