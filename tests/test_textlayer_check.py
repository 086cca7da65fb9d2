"""The per-page text-layer check: trusted only where the PDF's visible text stands for the page."""

import json

import pytest

from conftest import SHARED
from docs import figure_pdf, ocr_layer_pdf, scan_pdf, stamped_scan_pdf, text_pdf
from docvl.sources import open_document
from docvl.textlayer import read_page


def verdicts(path) -> list[str]:
    doc = open_document(str(path))
    try:
        return [read_page(doc, n)[1].verdict for n in range(1, doc.page_count + 1)]
    finally:
        doc.close()


@pytest.mark.parametrize("make, expected", [
    (lambda p: text_pdf(p, pages=2), ["ok", "ok"]),
    (lambda p: text_pdf(p, pages=1, rotation=90), ["ok"]),
    (lambda p: scan_pdf(p, dpi=100), ["none"]),
    (lambda p: ocr_layer_pdf(p), ["ocr-layer"]),
    (lambda p: ocr_layer_pdf(p, text_under=True), ["ocr-layer"]),
    (lambda p: stamped_scan_pdf(p), ["pictures"]),
    (lambda p: figure_pdf(p), ["ok"]),
])
def test_verdicts_on_generated_pages(tmp_path, make, expected):
    assert verdicts(make(tmp_path / "doc.pdf")) == expected


def test_rotated_page_words_are_in_displayed_coordinates(tmp_path):
    path = text_pdf(tmp_path / "r.pdf", pages=1, rotation=90, lines=["Rotated words here"])
    doc = open_document(str(path))
    words, check = read_page(doc, 1)
    page = doc.handle[0]
    assert [w.text for w in words.words] == ["Rotated", "words", "here"]
    assert all(w.horizontal is False for w in words.words)  # the text runs top to bottom as displayed
    for w in words.words:  # inside the displayed (landscape) page
        assert 0 <= w.x0 < w.x1 <= page.rect.width and 0 <= w.y0 < w.y1 <= page.rect.height
    doc.close()


def test_image_documents_have_no_text_layer(tmp_path):
    from docs import page_image

    path = tmp_path / "scan.png"
    page_image(200, 260).save(path)
    doc = open_document(str(path))
    assert read_page(doc, 1) is None
    doc.close()


@pytest.mark.skipif(not (SHARED / "corpus" / "gnarly").exists(), reason="needs ../shared/corpus")
@pytest.mark.parametrize("name, expected", [
    ("garbled-text__tabula_rotated_page.pdf", "garbled"),  # a third of the characters are U+FFFD
    ("scanned-jbig2__ocrmypdf_jbig2.pdf", "none"),
    ("nonlatin-korean__docling_normal_4pages.pdf", "ok"),
    ("nonlatin-arabic__pdfjs_ArabicCIDTrueType.pdf", "ok"),
])
def test_verdicts_on_real_pdfs(name, expected):
    assert verdicts(SHARED / "corpus" / "gnarly" / name)[0] == expected


def test_info_shows_the_check(run_cli, tmp_path):
    text = text_pdf(tmp_path / "t.pdf", pages=1)
    layer = ocr_layer_pdf(tmp_path / "o.pdf")
    code, out, err = run_cli("info", text, layer, "--json")
    assert code == 0, err
    t, o = (d["pages"][0]["text_layer"] for d in json.loads(out))
    assert t["verdict"] == "ok" and t["trusted"] is True and t["chars"] > 100
    assert o["verdict"] == "ocr-layer" and o["trusted"] is False and o["hidden"] == 1.0
    code, out, _ = run_cli("info", layer)
    assert code == 0 and "ocr-layer" in out
