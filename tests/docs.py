"""Generated test documents: text PDFs, scan-like PDFs with an image at a known DPI, images."""

from __future__ import annotations

from pathlib import Path

import pymupdf
from PIL import Image, ImageDraw

LETTER = (612, 792)
A4 = (595.28, 841.89)


def text_pdf(path: Path, pages: int = 2, size=LETTER, rotation: int = 0, lines=None) -> Path:
    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page(width=size[0], height=size[1])
        for i, line in enumerate(lines or [f"Page {n + 1} line {i + 1} of the docvl test" for i in range(20)]):
            page.insert_text((72, 90 + 18 * i), line, fontsize=11)
        page.set_rotation(rotation)
    doc.save(path)
    doc.close()
    return path


def page_image(width_px: int, height_px: int, label: str = "scanned page") -> Image.Image:
    img = Image.new("RGB", (width_px, height_px), "white")
    draw = ImageDraw.Draw(img)
    for i in range(10):
        draw.text((width_px // 10, height_px // 12 * (i + 1)), f"{label} line {i + 1}", fill="black")
    return img


def scan_pdf(path: Path, dpi: int = 300, size=LETTER, pages: int = 1) -> Path:
    """A PDF whose pages are each one image covering the page at `dpi`."""
    import io

    doc = pymupdf.open()
    w_px, h_px = round(size[0] * dpi / 72), round(size[1] * dpi / 72)
    for _ in range(pages):
        page = doc.new_page(width=size[0], height=size[1])
        buf = io.BytesIO()
        page_image(w_px, h_px).convert("L").save(buf, format="PNG")
        page.insert_image(page.rect, stream=buf.getvalue())
    doc.save(path)
    doc.close()
    return path


def _scan_png(size=LETTER, dpi: int = 150) -> bytes:
    import io

    buf = io.BytesIO()
    page_image(round(size[0] * dpi / 72), round(size[1] * dpi / 72)).convert("L").save(buf, format="PNG")
    return buf.getvalue()


def ocr_layer_pdf(path: Path, text_under: bool = False) -> Path:
    """A scan with an OCR text layer as OCR programs write it: invisible text (render mode 3) over
    the picture, or (text_under) ordinary text painted first and covered by the picture."""
    doc = pymupdf.open()
    page = doc.new_page(width=LETTER[0], height=LETTER[1])
    if text_under:
        for i in range(10):
            page.insert_text((72, 90 + 18 * i), f"scanned page line {i + 1}", fontsize=11)
    page.insert_image(page.rect, stream=_scan_png())
    if not text_under:
        for i in range(10):
            page.insert_text((72, 90 + 18 * i), f"scanned page line {i + 1}", fontsize=11, render_mode=3)
    doc.save(path)
    doc.close()
    return path


def stamped_scan_pdf(path: Path, stamp: str = "RECEIVED 2026-11-02") -> Path:
    """A scan with a few words of real text over it (a stamp): the text does not cover the page."""
    doc = pymupdf.open()
    page = doc.new_page(width=LETTER[0], height=LETTER[1])
    page.insert_image(page.rect, stream=_scan_png())
    page.insert_text((400, 60), stamp, fontsize=11)
    doc.save(path)
    doc.close()
    return path


def figure_pdf(path: Path) -> Path:
    """A born-digital page with a figure over 60% of it and paragraphs beside it."""
    doc = pymupdf.open()
    page = doc.new_page(width=LETTER[0], height=LETTER[1])
    page.insert_image(pymupdf.Rect(36, 36, 576, 600), stream=_scan_png((540, 564), dpi=72))
    for i in range(8):
        page.insert_text((72, 630 + 16 * i), f"Figure 1 shows line {i + 1} of the results discussed here.", fontsize=10)
    doc.save(path)
    doc.close()
    return path
