"""Searchable PDFs, hOCR and ALTO through the CLI, on a model answer of four known lines (Latin,
Korean, Arabic, Chinese/Japanese) with known boxes (tests/searchable_answer.py): from a loopback
server through docvl's server engine (fast), and from a tiny checkpoint trained to give that answer
through the local engine (the mixed PDF and the OCRmyPDF plugin).

Every answered word must be found by PyMuPDF's text extraction of the output within 2 pt of where
docvl placed it, each line's text must come back exactly, every page must render pixel for pixel as
it did before, and page count, sizes and rotation must be unchanged.
"""

import io
import re
import xml.etree.ElementTree as ET

import pymupdf
import pytest
from PIL import Image

from docs import LETTER, ocr_layer_pdf, page_image, scan_pdf, text_pdf
from docvl.layout import split_words
from searchable_answer import ANSWER, LINES

MIN, MAX = 64 * 784, 256 * 784
TEXTS = [text for text, _ in LINES]


@pytest.fixture(scope="session")
def reading_model():
    """An OpenAI-compatible server on loopback (tests/servers.py) answering every page with ANSWER,
    as a Qwen2-VL model would (boxes in thousandths): docvl's server engine, parsing and CLI as a
    user runs them, without training a checkpoint."""
    from servers import FaultServer, completion

    server = FaultServer(lambda n: completion(ANSWER))
    yield server.url
    server.close()


@pytest.fixture(scope="session")
def trained_model():
    """A tiny Qwen2-VL trained to give ANSWER (tests/answermodel.py): the local engine's path, and the
    Korean and Arabic lines through the real tokenizer."""
    from answermodel import build_answering_checkpoint

    return build_answering_checkpoint("searchable", ANSWER)


# The scripted answers place words in thousandths of the page as displayed: --orientation off keeps a
# page shown sideways (a /Rotate page, a turned image) from being turned upright for the model first.
def local_opts(model):
    return ("--orientation", "off", "--model", model, "--min-pixels", MIN, "--max-pixels", MAX, "--max-new-tokens", 160, "--workers", 1)


def opts(url):
    return ("--orientation", "off", "--base-url", url, "--model", "Qwen/Qwen2-VL-2B-Instruct", "--family", "qwen2-vl", "--min-pixels", MIN,
            "--max-pixels", MAX, "--max-new-tokens", 160, "--workers", 1)


def placed_words(width: float, height: float) -> list[tuple[str, list[float]]]:
    """Where docvl places each answered word on a page of this size (as displayed), in points."""
    words = []
    for text, (a, b, c, d) in LINES:
        x0, y0, x1, y1 = a / 1000 * width, b / 1000 * height, c / 1000 * width, d / 1000 * height
        words += [(w, [wx0, y0, wx1, y1]) for w, wx0, wx1 in split_words(text, x0, x1)]
    return words


def found_words(page) -> list[tuple[str, list[float]]]:
    """PyMuPDF's words of a page, in points of the page as displayed."""
    return [(w[4], list(pymupdf.Rect(w[:4]) * page.rotation_matrix)) for w in page.get_text("words")]


def assert_words_placed(page, tolerance=2.0):
    found = found_words(page)
    for word, box in placed_words(page.rect.width, page.rect.height):
        near = [b for w, b in found if w == word and max(abs(p - q) for p, q in zip(b, box)) <= tolerance]
        assert near, f"{word!r} not found within {tolerance} pt of {box}: {found}"
    text = page.get_text()
    for line in TEXTS:  # Korean, Arabic, CJK round-trip exactly, in reading order
        assert line in text.splitlines(), (line, text)


def assert_same_pages(before, after):
    """Page count, sizes, boxes and rotation unchanged; every page renders the same (the text is invisible)."""
    assert after.page_count == before.page_count
    for a, b in zip(before, after):
        assert (b.rect, b.mediabox, b.cropbox, b.rotation) == (a.rect, a.mediabox, a.cropbox, a.rotation)
        assert a.get_pixmap(dpi=72).samples == b.get_pixmap(dpi=72).samples, f"page {a.number + 1} looks different"


def assert_valid_pdf(path):
    import pikepdf

    with pikepdf.open(path) as pdf:  # qpdf's checks, as `qpdf --check` runs them
        check = getattr(pdf, "check_pdf_syntax", None) or pdf.check
        assert check() == []
        pdf.save(io.BytesIO())


def rotated_scan(path):
    scan_pdf(path, dpi=100)
    doc = pymupdf.open(path)
    doc[0].set_rotation(90)
    doc.saveIncr()
    doc.close()
    return path


@pytest.mark.parametrize("kind", ["scan", "rotated"])
def test_scan_becomes_searchable(run_cli, reading_model, tmp_path, kind):
    src = scan_pdf(tmp_path / "scan.pdf", dpi=100) if kind == "scan" else rotated_scan(tmp_path / "turned.pdf")
    out = tmp_path / "out.pdf"
    code, stdout, err = run_cli("ocr", src, "--format", "pdf", "-o", out, *opts(reading_model))
    assert code == 0, err
    assert stdout == ""
    before, after = pymupdf.open(src), pymupdf.open(out)
    assert before[0].get_text() == ""
    assert_same_pages(before, after)
    assert_words_placed(after[0])
    assert_valid_pdf(out)
    # No larger than the input plus the text: the original bytes and an incremental update.
    assert out.read_bytes().startswith(src.read_bytes())
    assert out.stat().st_size - src.stat().st_size < 8000


@pytest.mark.parametrize("engine", ["server", "local"])
def test_mixed_pdf_born_digital_page_left_as_it_was(run_cli, request, tmp_path, engine):
    src = tmp_path / "mixed.pdf"
    doc = pymupdf.open(text_pdf(tmp_path / "text.pdf", pages=1))
    doc.insert_pdf(pymupdf.open(scan_pdf(tmp_path / "scan.pdf", dpi=100)))
    doc.save(src)
    out = tmp_path / "out.pdf"
    args = opts(request.getfixturevalue("reading_model")) if engine == "server" else \
        local_opts(request.getfixturevalue("trained_model"))
    code, _, err = run_cli("ocr", src, "--format", "pdf", "-o", out, *args)
    assert code == 0, err
    before, after = pymupdf.open(src), pymupdf.open(out)
    assert_same_pages(before, after)
    assert after[0].get_text() == before[0].get_text()  # unchanged, not doubled
    assert not set(TEXTS) & set(after[0].get_text().splitlines())
    assert_words_placed(after[1])
    assert_valid_pdf(out)


def test_text_layer_off_replaces_an_ocr_layer(run_cli, reading_model, tmp_path):
    src = ocr_layer_pdf(tmp_path / "ocred.pdf")
    assert "scanned page line 1" in pymupdf.open(src)[0].get_text()
    out = tmp_path / "out.pdf"
    code, _, err = run_cli("ocr", src, "--format", "pdf", "--text-layer", "off", "-o", out, *opts(reading_model))
    assert code == 0, err
    before, after = pymupdf.open(src), pymupdf.open(out)
    assert_same_pages(before, after)
    text = after[0].get_text()
    assert "scanned page" not in text  # the old layer is gone, not stacked under the new one
    assert_words_placed(after[0])
    assert_valid_pdf(out)


def test_images_become_pages_at_their_own_dpi(run_cli, reading_model, tmp_path):
    """A two-page TIFF and a PNG through --out-dir: one PDF per input, pages at the image's DPI."""
    tiff, png = tmp_path / "in" / "fax.tiff", tmp_path / "in" / "photo.png"
    tiff.parent.mkdir()
    frames = [page_image(850, 1100, f"frame {n}").convert("L") for n in (1, 2)]
    frames[0].save(tiff, save_all=True, append_images=frames[1:], dpi=(100, 100), compression="tiff_lzw")
    page_image(600, 400, "photo").save(png, dpi=(200, 200))
    code, _, err = run_cli("ocr", tmp_path / "in", "--format", "pdf", "--out-dir", tmp_path / "out",
                           "-q", *opts(reading_model))
    assert code == 0, err
    fax, photo = pymupdf.open(tmp_path / "out" / "fax.tiff.pdf"), pymupdf.open(tmp_path / "out" / "photo.png.pdf")
    assert fax.page_count == 2 and photo.page_count == 1
    assert [tuple(p.rect) for p in fax] == [pytest.approx((0, 0, 612, 792), abs=0.01)] * 2  # 850 x 1100 px at 100 dpi
    assert tuple(photo[0].rect) == pytest.approx((0, 0, 216, 144), abs=0.01)  # 600 x 400 px at 200 dpi
    for page in [*fax, *photo]:
        assert_words_placed(page)
    # The pixels are the image's own: rendered at its resolution, the page is the frame.
    for frame, page in zip(frames, fax):
        shown = page.get_pixmap(dpi=100, colorspace="gray")
        assert (shown.width, shown.height) == frame.size
        assert shown.samples == frame.tobytes()
    assert_valid_pdf(tmp_path / "out" / "fax.tiff.pdf")


def test_hocr_read_by_ocrmypdf_lands_where_docvl_placed_the_words(run_cli, reading_model, tmp_path):
    ocrmypdf = pytest.importorskip("ocrmypdf")
    from pathlib import Path

    from ocrmypdf.font import MultiFontManager
    from ocrmypdf.fpdf_renderer import Fpdf2PdfRenderer
    from ocrmypdf.hocrtransform import HocrParser

    src = scan_pdf(tmp_path / "scan.pdf", dpi=100)
    hocr = tmp_path / "scan.hocr"
    code, _, err = run_cli("ocr", src, "--format", "hocr", "-o", hocr, *opts(reading_model))
    assert code == 0, err
    title = re.search(r"class='ocr_page' id='page_1' title='([^']*)'", hocr.read_text()).group(1)
    assert re.fullmatch(r'image "scan.pdf"; bbox 0 0 \d+ \d+; ppageno 0; scan_res \d+ \d+', title)
    page = HocrParser(hocr).parse()
    fonts = MultiFontManager(Path(ocrmypdf.__file__).parent / "data")
    Fpdf2PdfRenderer(page=page, dpi=page.dpi, multi_font_manager=fonts, invisible_text=True).render(tmp_path / "o.pdf")
    rendered = pymupdf.open(tmp_path / "o.pdf")[0]
    assert tuple(rendered.rect) == pytest.approx((0, 0, *LETTER), abs=1)
    found = found_words(rendered)
    # Latin words: each within 2 pt of docvl's own placement (its renderer sets other scripts its own way:
    # CJK without spaces, Arabic by its shaping), whose lines must still be there.
    for word, box in placed_words(*LETTER)[:5]:
        assert any(w == word and max(abs(p - q) for p, q in zip(b, box)) <= 2 for w, b in found), (word, box, found)
    text = rendered.get_text()
    for line in TEXTS[1:]:
        assert all(part in text for part in line.split()), (line, text)


def test_alto_v4_and_the_python_api(reading_model, tmp_path):
    import docvl

    src = scan_pdf(tmp_path / "scan.pdf", dpi=100)
    doc = docvl.ocr(src, boxes=True, base_url=reading_model, model="Qwen/Qwen2-VL-2B-Instruct", family="qwen2-vl",
                    min_pixels=MIN, max_pixels=MAX, max_new_tokens=160, workers=1)
    alto = tmp_path / "scan.alto.xml"
    doc.save(alto, format="alto")
    doc.save(tmp_path / "out.pdf")  # the searchable PDF from the same record, no second model run
    assert_words_placed(pymupdf.open(tmp_path / "out.pdf")[0])
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    root = ET.parse(alto).getroot()
    assert root.find("a:Description/a:MeasurementUnit", ns).text == "pixel"
    page = root.find("a:Layout/a:Page", ns)
    width, height = float(page.get("WIDTH")), float(page.get("HEIGHT"))
    lines = page.findall(".//a:TextLine", ns)
    assert [" ".join(s.get("CONTENT") for s in line.findall("a:String", ns)) for line in lines] == TEXTS
    # Positions in the page's pixels: the same words at the same places, scaled.
    strings = page.findall(".//a:String", ns)
    for string, (word, box) in zip(strings, placed_words(width, height)):
        got = [float(string.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")]
        assert string.get("CONTENT") == word
        assert got == pytest.approx([box[0], box[1], box[2] - box[0], box[3] - box[1]], abs=0.6)


def test_usage_errors(run_cli, tmp_path):
    src = scan_pdf(tmp_path / "scan.pdf", dpi=50)
    code, _, err = run_cli("ocr", src, "--format", "pdf")
    assert code == 2 and "-o FILE.pdf" in err
    code, _, err = run_cli("ocr", src, src, "--format", "hocr", "-o", tmp_path / "x.hocr")
    assert code == 2 and "--out-dir" in err


@pytest.mark.parametrize("renderer", ["hocr", "sandwich"])
def test_ocrmypdf_plugin_runs_docvl_as_its_ocr_engine(request, tmp_path, renderer):
    """The real `ocrmypdf` program with `--plugin docvl.ocrmypdf`: no Tesseract and no Ghostscript
    needed (--rasterizer pypdfium, --output-type pdf: no PDF/A). Its default renderer reads docvl's
    hOCR (here from the trained checkpoint, loaded by the plugin); `--pdf-renderer sandwich` grafts
    docvl's own text-only PDF (here from the server)."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("ocrmypdf")
    src = scan_pdf(tmp_path / "scan.pdf", dpi=100)
    out = tmp_path / "out.pdf"
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    ocrmypdf = shutil.which("ocrmypdf", path=os.path.dirname(sys.executable)) or shutil.which("ocrmypdf")
    args = [ocrmypdf] if ocrmypdf else [sys.executable, "-m", "ocrmypdf"]
    if renderer == "hocr":
        engine = ["--docvl-model", str(request.getfixturevalue("trained_model"))]
    else:
        engine = ["--docvl-base-url", request.getfixturevalue("reading_model"), "--pdf-renderer", "sandwich"]
    result = subprocess.run(
        [*args, "--plugin", "docvl.ocrmypdf", "--jobs", "1", "--output-type", "pdf", "--rasterizer", "pypdfium",
         "-O", "0", *engine, "--docvl-min-pixels", str(MIN), "--docvl-max-pixels",
         str(MAX), "--docvl-max-new-tokens", "160", str(src), str(out)],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    before, after = pymupdf.open(src), pymupdf.open(out)
    assert after.page_count == 1 and after[0].rect == before[0].rect
    found = found_words(after[0])
    for word, box in placed_words(*LETTER)[:5]:  # OCRmyPDF's renderer places the Latin words where docvl did
        assert any(w == word and max(abs(p - q) for p, q in zip(b, box)) <= 2 for w, b in found), (word, box, found)
    text = after[0].get_text()
    for line in TEXTS[1:]:
        assert all(part in text for part in line.split()), (line, text)
    if renderer == "sandwich":  # docvl's own layer: every word and script as in docvl's PDFs
        assert_words_placed(after[0])


def test_alto_valid_against_the_alto_v4_schema(run_cli, reading_model, tmp_path):
    """The ALTO v4 schema is not shipped with docvl or any package installed here, and the tests run
    offline: set DOCVL_ALTO_XSD to a local copy of alto-4-4.xsd (its xlink import resolvable) to run this."""
    import os

    xsd = os.environ.get("DOCVL_ALTO_XSD")
    if not xsd:
        pytest.skip("DOCVL_ALTO_XSD is not set: no ALTO v4 schema to validate against")
    from lxml import etree

    src = scan_pdf(tmp_path / "scan.pdf", dpi=100)
    alto = tmp_path / "scan.alto.xml"
    code, _, err = run_cli("ocr", src, "--format", "alto", "-o", alto, *opts(reading_model))
    assert code == 0, err
    schema = etree.XMLSchema(etree.parse(xsd))
    assert schema.validate(etree.parse(str(alto))), schema.error_log


def test_words_split_by_advance_widths_right_to_left_from_the_right():
    from docvl.layout import visual_order

    # Half an em a Latin character or a space, a full em a Hangul syllable: 1 + 0.5 + 2 ems in 70 pt.
    assert split_words("ab 한국", 0, 70) == [("ab", 0, 20), ("한국", 30, 70)]
    # An Arabic line reads from the right: its first word is the rightmost.
    (first, f0, f1), (second, s0, s1) = split_words("مرحبا بالعالم", 0, 130)
    assert (first, second) == ("مرحبا", "بالعالم") and s1 < f0 and f1 == pytest.approx(130)
    text = "abc دهو 12"
    assert "".join(text[i] for i in visual_order(text)) == "abc وهد 12"
