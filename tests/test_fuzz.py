"""Fuzzing the open -> inspect -> rasterize path with mutated small documents (hypothesis).

Bit flips, truncations, splices of one file into another and PDF tokens dropped in at random places,
on a handful of small PDFs (text, scan, form XObjects, forms, rotation, encryption) and images. The
only exceptions allowed out are DocvlErrors (one-line, typed); a page must never come back outside
the budget. The run is bounded in time (DOCVL_FUZZ_SECONDS, 40 by default) and reports how many
inputs it tried; a hang ends the test process with a traceback instead of stalling CI.
"""

import faulthandler
import io
import os
import sys
import time

import pymupdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile_docs as h
from docs import page_image
from docvl.budget import Budget
from docvl.errors import DocvlError
from docvl.inspect import inspect_page
from docvl.raster import render_page
from docvl.sources import open_document

SECONDS = float(os.environ.get("DOCVL_FUZZ_SECONDS", "40"))
EXAMPLES_PER_RUN = 100
HANG_SECONDS = 120  # one input taking this long is a hang
BUDGET = Budget(784, 32 * 784)
TOKENS = [b"0", b"-1", b"4294967296", b"1e308", b"R", b"obj", b"endobj", b"stream", b"endstream", b"<<", b">>",
          b"[", b"]", b"(", b")", b"/Length 0", b"/Count 99999", b"/Kids [3 0 R 3 0 R]", b"/Parent 3 0 R",
          b"/Rotate 45", b"/UserUnit 1e9", b"/MediaBox [0 0 0 0]", b"/Filter /DCTDecode", b"/Width 99999",
          b"xref", b"trailer", b"startxref", b"%%EOF", b"/Encrypt 1 0 R", b"\x00", b"\xff" * 8]


def _seeds() -> list[tuple[str, bytes]]:
    text = pymupdf.open()
    for n in range(2):
        page = text.new_page(width=612, height=792)
        page.insert_text((72, 90), f"Fuzzing page {n + 1} \u00e9\u4e2d", fontsize=12)
        page.draw_rect(pymupdf.Rect(72, 120, 300, 200), color=(1, 0, 0))
    text[1].set_rotation(90)
    scan = pymupdf.open()
    page = scan.new_page(width=300, height=400)
    buf = io.BytesIO()
    page_image(150, 200).convert("L").save(buf, format="JPEG")
    page.insert_image(page.rect, stream=buf.getvalue())
    png = io.BytesIO()
    page_image(120, 90).save(png, format="PNG")
    return [
        ("text.pdf", text.tobytes()),
        ("text-compressed.pdf", text.tobytes(garbage=3, deflate=True, use_objstms=True)),
        ("encrypted.pdf", text.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_128, owner_pw="o", user_pw="")),
        ("scan.pdf", scan.tobytes(deflate=True)),
        ("forms.pdf", h.forever_pdf(depth=3, fan=2)),
        ("poster.pdf", h.user_unit_pdf(10)),
        ("zero.pdf", h.zero_page_pdf()),
        ("page.png", png.getvalue()),
        ("frames.tif", h.tiff_pages(2)[0]),
    ]


SEEDS = _seeds()


@st.composite
def mutants(draw) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(SEEDS))
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "truncate", "splice", "token", "delete", "duplicate"]))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "splice":
            _, other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other) - 1))
            data[at:at + draw(st.integers(0, 64))] = other[start:start + draw(st.integers(1, 512))]
        elif op == "token":
            data[at:at + draw(st.integers(0, 4))] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 256))]
    return name, bytes(data)


def read_everything(name: str, data: bytes) -> int:
    """What docvl does with a file: open, inspect and rasterize every page (the first 5); -1 if it
    could not be opened, else the number of pages rendered."""
    try:
        doc = open_document(name, data=data)
    except DocvlError as e:
        assert e.message.startswith(f"{name}: ") and "\n" not in e.message
        return -1
    rendered = 0
    try:
        for number in range(1, min(doc.page_count, 5) + 1):
            try:
                report = inspect_page(doc, number, BUDGET)
                page = render_page(doc, number, BUDGET)
            except DocvlError as e:
                assert e.message.startswith(f"{name}: ") and "\n" not in e.message
                continue
            assert report["visual_tokens"] == page.visual_tokens
            # Inside the budget, unless the page is so thin that its short side is the 28-pixel minimum
            # (the processor's smart_resize does the same, so its token count still matches).
            assert page.width_px * page.height_px <= BUDGET.max_pixels or min(page.image.size) == 28
            assert page.width_px * page.height_px >= BUDGET.min_pixels
            assert page.image.mode == "RGB"
            rendered += 1
    finally:
        doc.close()
    return rendered


def test_seeds_are_readable():
    for name, data in SEEDS:
        if name != "zero.pdf":
            read_everything(name, data)
            assert open_document(name, data=data).page_count >= 1


def test_mutated_documents_raise_only_docvl_errors(capsys):
    tried = {"inputs": 0, "opened": 0, "pages": 0, "runs": 0}

    # Hypothesis has no time bound of its own: short runs (each with fresh random choices) are
    # repeated until the time is up. A failure is shrunk and reported by the run that found it.
    @settings(max_examples=EXAMPLES_PER_RUN, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutants())
    def fuzz(case):
        name, data = case
        tried["inputs"] += 1
        faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=sys.__stderr__)
        try:
            rendered = read_everything(name, data)
        finally:
            faulthandler.cancel_dump_traceback_later()
        tried["opened"] += rendered >= 0
        tried["pages"] += max(rendered, 0)

    start = time.monotonic()
    while time.monotonic() - start < SECONDS:
        fuzz()
        tried["runs"] += 1
    seconds = time.monotonic() - start
    with capsys.disabled():
        print(f"\nfuzz: {tried['inputs']} mutated inputs in {seconds:.0f} s, {tried['runs']} hypothesis runs "
              f"({tried['opened']} opened, {tried['pages']} pages rendered); only DocvlErrors escaped")
    assert tried["inputs"] >= 50
