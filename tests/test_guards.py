"""Guards against hostile inputs and untrusted model output, at the library level: sources, raster,
output. The CLI runs over the same inputs (and the gnarly corpus) are in test_hostile_cli.py."""

import io
import json
import os
import subprocess
import sys
import time

import pymupdf
import pytest
from PIL import Image

import hostile_docs as h
from docs import text_pdf
from docvl.budget import Budget
from docvl.errors import DocvlError, InputError, one_line
from docvl.output import DocumentSink, as_text, dumps
from docvl.raster import render_page
from docvl.sources import MAX_DECODE_PIXELS, _open_pdf, load_pymupdf, open_document

BUDGET = Budget(64 * 784, 256 * 784)


def pixels(page):
    return page.width_px * page.height_px


def test_pymupdf_messages_never_reach_stdout(capfd):
    # find_tables() on an over-large page prints "find_tables: exception occurred" to stdout by default.
    doc = open_document("poster.pdf", data=h.user_unit_pdf(40))
    assert load_pymupdf() is pymupdf
    doc.handle[0].find_tables()
    assert capfd.readouterr().out == ""


@pytest.mark.parametrize("make, size_pt", [
    (lambda: h.user_unit_pdf(10), (18000, 36000)),  # /UserUnit: 250 x 500 inches
    (lambda: h.giant_page_pdf(200), (14400, 14400)),  # 200 x 200 inches
])
def test_giant_pages_render_inside_the_budget(make, size_pt):
    doc = open_document("giant.pdf", data=make())
    page = render_page(doc, 1, BUDGET)
    assert (page.width_pt, page.height_pt) == size_pt
    assert BUDGET.min_pixels <= pixels(page) <= BUDGET.max_pixels
    assert page.image.getextrema() != ((255, 255),) * 3  # something was drawn, not a blank fallback


def test_image_bomb_is_refused_from_its_header():
    bomb = h.png_bomb(50_000, 50_000)  # 2.5 gigapixels in 300 kB
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"bomb.png: image of 50000 x 50000 pixels is larger than docvl decodes"):
        open_document("bomb.png", data=bomb)
    assert time.perf_counter() - start < 1.0  # refused before decoding anything


def test_huge_jpeg_is_decoded_at_reduced_size(tmp_path):
    # 160 megapixels: over the decode limit at full size, a twentieth of it at 1/8 scale.
    side = (16_000, 10_000)
    assert side[0] * side[1] > MAX_DECODE_PIXELS
    buf = io.BytesIO()
    Image.new("L", side, 255).save(buf, format="JPEG", quality=30)
    doc = open_document("huge.jpg", data=buf.getvalue())
    page = render_page(doc, 1, BUDGET)
    assert pixels(page) <= BUDGET.max_pixels
    assert doc.handle.size == (2000, 1250)  # what was decoded: 1/8 a side


@pytest.mark.parametrize("part", ["data", "header"])
def test_tiff_with_a_broken_frame_loses_only_that_page(part):
    doc = open_document("three.tif", data=h.tiff_with_broken_frame(1, part))
    assert doc.page_count == 3
    assert [render_page(doc, n, BUDGET).page for n in (1, 3)] == [1, 3]
    with pytest.raises(InputError, match=r"three.tif: page 2 cannot be (read|rendered)"):
        render_page(doc, 2, BUDGET)


@pytest.mark.parametrize("name, data, fragment", [
    ("empty.pdf", b"", "empty file (0 bytes)"),
    ("zero.pdf", h.zero_page_pdf(), "the PDF has no pages"),
    ("notes.pdf", b"potato salad\n", "not a PDF or an image"),
    ("rootless.pdf", h.one_page(b"0 0 1 rg 9 9 99 99 re f", trailer=b""), "the PDF has no pages"),
    ("picture.pdf", h.png_with_pdf_header(), "not a PDF, the file holds an image"),
    ("scan.png", h.forever_pdf(1, 1), "holds a PDF, not a PNG image"),
])
def test_unreadable_files_are_one_line_input_errors(name, data, fragment):
    with pytest.raises(InputError) as e:
        open_document(name, data=data)
    assert fragment in e.value.message and e.value.message.startswith(f"{name}: ")
    assert "\n" not in e.value.message


def test_non_pdf_that_pymupdf_opens_as_a_document_is_refused():
    # PyMuPDF opens a PNG as a 1-page "Image" document even when asked for filetype="pdf".
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, format="PNG")
    with pytest.raises(InputError, match="not a PDF, although it contains a PDF header"):
        _open_pdf("fake.pdf", buf.getvalue(), None)


@pytest.mark.parametrize("seed", range(6))
def test_truncated_and_bit_flipped_pdfs_fail_only_with_input_errors(tmp_path, seed):
    good = text_pdf(tmp_path / "good.pdf", pages=2).read_bytes()
    for data in (h.truncated(good, 0.2 + 0.12 * seed), h.bit_flipped(good, 1 + seed * 20, seed)):
        try:
            doc = open_document("mutant.pdf", data=data)
        except DocvlError:
            continue
        for number in range(1, doc.page_count + 1):
            try:
                assert pixels(render_page(doc, number, BUDGET)) <= BUDGET.max_pixels
            except DocvlError:
                pass


def _encrypted(tmp_path, password: str) -> bytes:
    path = text_pdf(tmp_path / "plain.pdf", pages=1)
    doc = pymupdf.open(path)
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=password, owner_pw="owner-" + password)


def test_encrypted_pdf_renders_its_content_after_authenticating(tmp_path):
    data = _encrypted(tmp_path, "secret")
    with pytest.raises(InputError, match="encrypted PDF; pass its password with --password"):
        open_document("locked.pdf", data=data)
    with pytest.raises(InputError, match="wrong password"):
        open_document("locked.pdf", "guess", data=data)
    doc = open_document("locked.pdf", "secret", data=data)
    # Reading needs_pass after authenticating would leave blank pages; the text must be there.
    assert "line 1 of the docvl test" in doc.handle[0].get_text()
    assert render_page(doc, 1, BUDGET).image.convert("L").getextrema()[0] < 128


def test_unicode_password_is_prepared_like_acrobat_does(tmp_path):
    # RFC 4013 maps U+2168 ROMAN NUMERAL NINE to "IX": AES-256 files take the prepared password.
    data = _encrypted(tmp_path, "IX")
    assert open_document("locked.pdf", "\u2168", data=data).page_count == 1


def _ask(pool, job):
    [worker] = pool.idle()
    pool.submit(worker, job)
    while not (replies := pool.poll(0.5)):
        pass
    return replies[0][1]


def test_a_page_that_renders_forever_is_stopped_and_the_next_document_renders(tmp_path):
    from docvl.rasterpool import Job, RasterPool, Source

    forever = tmp_path / "forever.pdf"
    forever.write_bytes(h.forever_pdf())
    good = text_pdf(tmp_path / "good.pdf", pages=2)
    pool = RasterPool(1, BUDGET, timeout=2)
    try:
        assert _ask(pool, Job("open", 0, Source(str(forever), str(forever))))[0] == "opened"
        start = time.monotonic()
        reply = _ask(pool, Job("page", 0, Source(str(forever), str(forever)), 1))
        assert reply[0] == "error" and reply[1] == f"{forever}: page 1: rendering took longer than 2 s (--page-timeout)"
        assert time.monotonic() - start < 5
        # The killed worker was replaced: the next document renders, as it would in this process.
        _ask(pool, Job("open", 1, Source(str(good), str(good))))
        kind, page, _ = _ask(pool, Job("page", 1, Source(str(good), str(good)), 1))
        assert kind == "page" and page.image.tobytes() == render_page(open_document(str(good)), 1, BUDGET).image.tobytes()
    finally:
        pool.close()


NASTY = "ok \ud800 lone \udfff surrogates, \ud83d\ude00 a pair, NUL \x00, ESC \x1b[31m, BEL \x07, LS \u2028 end"


def test_json_and_text_output_stay_valid_whatever_the_model_wrote(tmp_path):
    record = {"schema": "docvl/1", "source": {"path": "bad-\udcff-name.pdf"},
              "pages": [{"page": 1, "status": "ok", "text": NASTY}]}
    for text in (dumps(record), dumps(record, indent=2)):
        text.encode("utf-8")  # strict: no lone surrogate survives
        back = json.loads(text)
        assert back["pages"][0]["text"].startswith("ok \ufffd lone \ufffd surrogates, \U0001f600 a pair, NUL \x00")
        assert "\x00" not in text and "\x1b" not in text  # escaped, so a line-based reader is safe
    assert "\n" not in dumps(record)  # JSONL: one document, one line
    as_text(record).encode("utf-8")
    out = tmp_path / "out.jsonl"
    sink = DocumentSink("jsonl", str(out))
    sink.add(record)
    sink.close()
    assert json.loads(out.read_text(encoding="utf-8"))["source"]["path"] == "bad-\ufffd-name.pdf"


def test_error_messages_stay_on_one_line():
    e = InputError("evil\nname\r\x1b[2J.pdf: broken PDF")
    assert e.message == "evil\\nname\\r\\x1b[2J.pdf: broken PDF"
    assert one_line("Korean 한국어 and Arabic عربي") == "Korean 한국어 and Arabic عربي"


def test_code_shipped_with_a_checkpoint_runs_only_when_asked(run_cli, tiny_model, tmp_path):
    """A checkpoint whose config points at its own Python code: docvl must not import it unless
    --trust-remote-code is given (the import would leave a marker file)."""
    model = tmp_path / "model"
    model.mkdir()
    for f in tiny_model.iterdir():
        if f.name != "config.json":
            (model / f.name).symlink_to(f)
    config = json.loads((tiny_model / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil_config.EvilConfig"}
    (model / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "code-ran"
    (model / "evil_config.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
        "from transformers import Qwen2VLConfig\n\nclass EvilConfig(Qwen2VLConfig):\n    pass\n")
    pdf = text_pdf(tmp_path / "t.pdf", pages=1)
    code, out, err = run_cli("ocr", pdf, "--model", model, "--min-pixels", 784, "--max-pixels", 64 * 784,
                             "--max-new-tokens", 1)
    assert code == 0, err
    assert json.loads(out)["status"] == "ok" and not marker.exists()
    # The control: the same checkpoint's code does run when trust is given (in a separate process,
    # so that the imported module stays out of this one).
    load = f"from transformers import AutoConfig; AutoConfig.from_pretrained({str(model)!r}, trust_remote_code=True)"
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    subprocess.run([sys.executable, "-c", load], env=env, check=True, capture_output=True)
    assert marker.exists()


def test_csv_and_xlsx_stay_valid_whatever_the_model_wrote(tmp_path):
    import csv

    from openpyxl import load_workbook

    from docvl.table_output import TableSink, table_csv

    table = {"page": 1, "index": 1, "header": ["name", "note\ud800"], "rows": [["a\x00b", NASTY], ["=1+1", "x\ny"]]}
    text = table_csv(table)
    text.encode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "note\ufffd"] and rows[1][0] == "ab" and rows[2] == ["'=1+1", "x\ny"]
    assert all(len(r) == 2 for r in rows)
    record = {"source": {"path": "scan\n\x1b[1m.pdf"}, "pages": [{"tables": [table]}]}
    for name in ("t.csv", "t.xlsx"):
        sink = TableSink(name.rsplit(".", 1)[1], str(tmp_path / name))
        sink.add(record)
        sink.close()
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == text
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert sheet["B2"].value.startswith("ok \ufffd lone")


def test_output_file_names_from_hostile_input_names_are_safe(tmp_path):
    from docvl.table_output import TableSink

    table = {"page": 1, "index": 1, "header": None, "rows": [["1"]]}
    sink = TableSink("csv", str(tmp_path / "out" / "t.csv"))
    for path in ("../../up\n.pdf", "/abs/" + "x" * 300 + ".pdf"):
        sink.add({"source": {"path": path}, "pages": [{"tables": [table]}]})
    sink.close()
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 2 and all("\n" not in n and len(n.encode()) <= 255 for n in written)
    assert {p.parent for p in tmp_path.rglob("*.csv")} == {tmp_path / "out"}
