"""Grounding on born-digital pages: literal queries snap to the text layer's word boxes."""

from docs import text_pdf
from docvl.sources import open_document
from docvl.textlayer import read_page
from docvl.textlayer.snap import snap_box

LINES = ["Invoice number: INV-0042", "Total due 1,234.56 EUR", "Invoice number: INV-0043 (copy)"]


def test_snaps_to_the_occurrence_inside_the_models_box(tmp_path):
    doc = open_document(str(text_pdf(tmp_path / "i.pdf", pages=1, lines=LINES)))
    words = {w.text: w for w in read_page(doc, 1)[0].words}  # the last occurrence of each word
    # A loose model box around the third line (baseline y = 126 pt) picks that occurrence, not the first.
    snapped = snap_box(doc, 1, "invoice NUMBER", [60, 105, 300, 140])
    assert snapped == [round(v, 2) for v in (words["Invoice"].x0, words["Invoice"].y0, words["number:"].x1,
                                             words["number:"].y1)]
    # Across words, edge punctuation ignored: "1,234.56 EUR" is one phrase of two words.
    total = snap_box(doc, 1, "1,234.56 eur", [100, 90, 260, 115])
    assert total == [round(v, 2) for v in (words["1,234.56"].x0, min(words["1,234.56"].y0, words["EUR"].y0),
                                           words["EUR"].x1, max(words["1,234.56"].y1, words["EUR"].y1))]
    # Not on the page, or nowhere near the model's box: keep the model's answer.
    assert snap_box(doc, 1, "signature block", [0, 0, 612, 792]) is None
    assert snap_box(doc, 1, "Total due", [300, 600, 500, 700]) is None
    doc.close()


def test_rotated_pages_snap_in_displayed_coordinates(tmp_path):
    doc = open_document(str(text_pdf(tmp_path / "r.pdf", pages=1, rotation=90, lines=LINES)))
    page = doc.handle[0]
    snapped = snap_box(doc, 1, "INV-0042", [0, 0, page.rect.width, page.rect.height])
    assert snapped is not None
    x0, y0, x1, y1 = snapped
    # Rotated 90 degrees clockwise, the text runs down the page: taller than wide, inside the page.
    assert y1 - y0 > x1 - x0 and 0 <= x0 < x1 <= page.rect.width and 0 <= y0 < y1 <= page.rect.height
    doc.close()
