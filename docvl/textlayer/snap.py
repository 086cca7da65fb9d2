"""Grounding on born-digital pages: a literal query snapped to the text layer's word boxes.

The model's box for "the invoice number INV-0042" is close but not exact; where the page's text layer
is trusted and holds the query's words in a row, their union box inside (or overlapping) the model's
box is the exact answer, in PDF points.
"""

from __future__ import annotations

import re

from ..sources import Document
from . import read_page
from .words import Word

_EDGE_PUNCT = re.compile(r"^\W+|\W+$")


def _token(text: str) -> str:
    return _EDGE_PUNCT.sub("", text.casefold())


def _overlap(a: list[float], b: list[float]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def find_phrase(words: list[Word], query: str) -> list[list[float]]:
    """Union boxes of every run of consecutive words (in the PDF's order) that spells the query,
    compared word by word, case and edge punctuation ignored."""
    wanted = [t for t in map(_token, query.split()) if t]
    tokens = [_token(w.text) for w in words]
    found = []
    for i in range(len(words) - len(wanted) + 1):
        if wanted and tokens[i:i + len(wanted)] == wanted:
            run = words[i:i + len(wanted)]
            found.append([min(w.x0 for w in run), min(w.y0 for w in run),
                          max(w.x1 for w in run), max(w.y1 for w in run)])
    return found


def snap_to_words(words: list[Word], query: str, box: list[float]) -> list[float] | None:
    """The occurrence of the query that overlaps the model's box most (share of the occurrence's own
    area, so a tight phrase inside a loose box counts fully); None where none overlaps."""
    best, best_share = None, 0.0
    for found in find_phrase(words, query):
        area = (found[2] - found[0]) * (found[3] - found[1])
        share = _overlap(found, box) / area if area > 0 else 0.0
        if share > best_share:
            best, best_share = found, share
    return [round(v, 2) for v in best] if best else None


def snap_box(doc: Document, number: int, query: str, box: list[float]) -> list[float] | None:
    """snap_to_words on page `number` of a document, if the page has a trusted text layer."""
    read = read_page(doc, number)
    if read is None or not read[1].trusted:
        return None
    return snap_to_words(read[0].words, query, box)


def snap_record(record: dict, query: str, location: str, password: str | None = None) -> None:
    """Snap, in place, the model's boxes on a `ground` document's born-digital pages (the file at
    `location`): a snapped box gets `"snapped": true` and its pixel box rescaled from the page's own
    pixel size. Pages that are scans, or documents that cannot be reopened, keep the model's boxes."""
    from ..errors import DocvlError
    from ..sources import open_document

    pages = [p for p in record.get("pages", []) if p.get("boxes") and p.get("width_px")]
    if not pages:
        return
    try:
        doc = open_document(location, password)
    except DocvlError:
        return
    try:
        for page in pages:
            try:
                read = read_page(doc, page["page"])
            except DocvlError:
                continue
            if read is None or not read[1].trusted:
                continue
            sx, sy = page["width_px"] / page["width_pt"], page["height_px"] / page["height_pt"]
            for box in page["boxes"]:
                snapped = snap_to_words(read[0].words, query, box["box"])
                if snapped:
                    x0, y0, x1, y1 = snapped
                    box.update(box=snapped, box_px=[round(v, 1) for v in (x0 * sx, y0 * sy, x1 * sx, y1 * sy)],
                               snapped=True)
    finally:
        doc.close()
