"""Grounding on born-digital pages: literal queries snap to the text layer's word boxes."""

import json

import pytest

from docs import text_pdf
from docvl.sources import open_document
from docvl.textlayer import read_page
from docvl.textlayer.snap import snap_box
from test_cli_tables import LETTER_BOX, answering_model, opts, valid  # noqa: F401  (a fixture)

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


def test_ground_snaps_the_models_box_to_the_words_on_a_born_digital_page(run_cli, answering_model, tmp_path):
    # The answering model (trained on pages like text_pdf's) boxes LETTER_BOX, y 158..238 pt: "the
    # total" on line 6 lies inside it, on line 1 it does not.
    lines = [f"Page 1 line {i + 1} of the docvl test" for i in range(20)]
    lines[0], lines[5] = "Page 1 line 1 of the total test", "Page 1 line 6 of the total test"
    pdf = text_pdf(tmp_path / "invoice.pdf", pages=1, lines=lines)
    doc = open_document(str(pdf))
    words = read_page(doc, 1)[0].words
    doc.close()
    i = next(i for i, w in enumerate(words) if w.text == "total" and w.y0 > 160)
    the, total = words[i - 1], words[i]
    code, out, err = run_cli("ground", pdf, "the total", "--overlay", tmp_path / "marked", *opts(answering_model))
    assert code == 0, err
    [page] = valid(json.loads(out))["pages"]
    [box] = page["boxes"]
    assert box["snapped"] is True
    assert box["box"] == [round(v, 2) for v in (the.x0, min(the.y0, total.y0), total.x1, max(the.y1, total.y1))]
    sx, sy = page["width_px"] / page["width_pt"], page["height_px"] / page["height_pt"]
    x0, y0, x1, y1 = box["box"]
    assert box["box_px"] == pytest.approx([x0 * sx, y0 * sy, x1 * sx, y1 * sy], abs=0.1)
    assert (tmp_path / "marked" / "invoice-p1.png").exists()
    code, out, err = run_cli("ground", pdf, "the total", "--text-layer", "off", *opts(answering_model))
    assert code == 0, err
    [box] = json.loads(out)["pages"][0]["boxes"]
    assert "snapped" not in box and box["box"] == pytest.approx(LETTER_BOX, abs=0.01)
    results = tmp_path / "results"
    code, _, err = run_cli("ground", pdf, "the total", "--out-dir", results, *opts(answering_model))
    assert code == 0, err
    [written] = results.glob("**/invoice*.json")
    assert json.loads(written.read_text())["pages"][0]["boxes"][0]["snapped"] is True
