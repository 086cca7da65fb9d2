"""Coordinate round trip: text drawn at a known spot of a generated page, boxed in the rendered page
image as each model family writes boxes, must map back to that spot in PDF points within 1 pt.

The known spot is the text's ink, measured on a fine rendering of the unrotated page and turned into
the displayed page's frame by the rule of the PDF specification (/Rotate turns the page clockwise),
written out here independently of docvl. The model's side is docvl's own: the page rendered inside the
default budget, the ink's pixel box written in the family's convention and form (integers, as models
write them), then parsed and anchored by the tasks.
"""

from __future__ import annotations

import numpy as np
import pymupdf
import pytest
from PIL import Image

from docvl.budget import Budget
from docvl.raster import render_page
from docvl.sources import open_document
from docvl.tasks.grounding import ground_task
from docvl.tasks.ocr import ocr_task
from docvl.tasks.tables import tables_task

LETTER, A4, RECEIPT, LANDSCAPE = (612, 792), (595.28, 841.89), (226.77, 935.43), (792, 612)
FINE_ZOOM = 8  # 576 DPI for the reference measurement
INK = 128  # a pixel darker than this is ink
TOLERANCE_PT = 1.0

CASES = [
    ("letter", LETTER, 0, (380, 610)), ("letter-90", LETTER, 90, (380, 610)),
    ("letter-180", LETTER, 180, (80, 120)), ("letter-270", LETTER, 270, (300, 700)),
    ("a4", A4, 0, (60, 780)), ("receipt", RECEIPT, 0, (30, 880)), ("landscape", LANDSCAPE, 0, (640, 90)),
]


def displayed(box, rotation: int, width: float, height: float) -> list[float]:
    """A box on the unrotated page (width x height) -> the same box on the page as displayed."""
    x0, y0, x1, y1 = box
    corners = {
        0: lambda x, y: (x, y),
        90: lambda x, y: (height - y, x),
        180: lambda x, y: (width - x, height - y),
        270: lambda x, y: (y, width - x),
    }[rotation]
    (ax, ay), (bx, by) = corners(x0, y0), corners(x1, y1)
    return [min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)]


def ink_box(image: Image.Image) -> list[int]:
    """The pixel box (edges, x1/y1 exclusive) of every dark pixel."""
    dark = np.asarray(image.convert("L")) < INK
    ys, xs = np.nonzero(dark)
    assert len(xs), "no ink on the page"
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def make_page(path, size, rotation, at) -> list[float]:
    """A one-page PDF with a word at `at` (unrotated page points); returns the word's ink box in
    points of the page as displayed."""
    doc = pymupdf.open()
    page = doc.new_page(width=size[0], height=size[1])
    page.insert_text(at, "TOTAL 1,234.50", fontsize=14, fontname="hebo")
    pix = page.get_pixmap(matrix=pymupdf.Matrix(FINE_ZOOM, FINE_ZOOM), alpha=False, colorspace="gray")
    fine = ink_box(Image.frombytes("L", (pix.width, pix.height), pix.samples))
    page.set_rotation(rotation)
    doc.save(path)
    doc.close()
    return displayed([v / FINE_ZOOM for v in fine], rotation, *size)


def family_numbers(px_box: list[int], width_px: int, height_px: int) -> dict[str, list[int]]:
    """The ink's pixel box as each family writes it: thousandths of the image, or its pixels."""
    x0, y0, x1, y1 = px_box
    thousandths = [round(x0 / width_px * 1000), round(y0 / height_px * 1000),
                   round(x1 / width_px * 1000), round(y1 / height_px * 1000)]
    return {"qwen2-vl": thousandths, "qwen2.5-vl": list(px_box), "qwen3-vl": thousandths}


def grounding_answer(family: str, n: list[int], label: str = "the total") -> str:
    """The box in the form each family writes for grounding."""
    if family == "qwen2-vl":
        return f"<|object_ref_start|>{label}<|object_ref_end|><|box_start|>({n[0]},{n[1]}),({n[2]},{n[3]})<|box_end|>"
    return f'```json\n[{{"bbox_2d": [{n[0]}, {n[1]}, {n[2]}, {n[3]}], "label": "{label}"}}]\n```'


def ocr_line_answer(family: str, n: list[int], text: str) -> str:
    if family == "qwen2-vl":
        return grounding_answer(family, n, text)
    return f'[{{"bbox_2d": [{n[0]}, {n[1]}, {n[2]}, {n[3]}], "text_content": "{text}"}}]'


def _near(got: list[float], want: list[float]) -> bool:
    return max(abs(a - b) for a, b in zip(got, want)) <= TOLERANCE_PT


@pytest.mark.parametrize("name, size, rotation, at", CASES, ids=[c[0] for c in CASES])
def test_a_box_in_each_familys_convention_maps_back_to_the_text(tmp_path, name, size, rotation, at):
    known = make_page(tmp_path / f"{name}.pdf", size, rotation, at)
    doc = open_document(str(tmp_path / f"{name}.pdf"))
    page = render_page(doc, 1, Budget())
    doc.close()
    assert page.rotation == rotation
    assert (page.width_pt, page.height_pt) == pytest.approx(size[::-1] if rotation in (90, 270) else size)
    seen = ink_box(page.image)  # where a perfect model would put its box
    for family, n in family_numbers(seen, page.width_px, page.height_px).items():
        [box] = ground_task("the total").parse(grounding_answer(family, n), page, family)["boxes"]
        assert _near(box["box"], known), (family, box["box"], known)
        # The same numbers anchor the same way in a table's data-bbox and in an OCR line.
        table_answer = f'<table data-bbox="{" ".join(map(str, n))}"><tr><td>1</td></tr></table>'
        [table] = tables_task().parse(table_answer, page, family)["tables"]
        assert table["box"] == box["box"] and table["box_px"] == box["box_px"]
        [line] = ocr_task(boxes=True).parse(ocr_line_answer(family, n, "TOTAL 1,234.50"), page, family)["lines"]
        assert line["text"] == "TOTAL 1,234.50" and line["box"] == box["box"]


def test_an_image_page_maps_through_its_own_dpi(tmp_path):
    """A 200-DPI scan as a PNG: points come from the file's DPI, not from the rendered size."""
    image = Image.new("L", (1700, 2200), 255)  # 8.5 x 11 in at 200 DPI
    image.paste(0, (400, 1000, 900, 1100))  # a black bar at 144..324 x 360..396 pt
    image.save(tmp_path / "scan.png", dpi=(200, 200))
    doc = open_document(str(tmp_path / "scan.png"))
    page = render_page(doc, 1, Budget())
    doc.close()
    for family, n in family_numbers(ink_box(page.image), page.width_px, page.height_px).items():
        [box] = ground_task("the total").parse(grounding_answer(family, n), page, family)["boxes"]
        assert _near(box["box"], [144, 360, 324, 396]), (family, box["box"])


def test_the_reference_rotation_rule_agrees_with_pymupdf():
    """The test's own rule for /Rotate against PyMuPDF's rotation matrix, on every rotation."""
    for rotation in (0, 90, 180, 270):
        doc = pymupdf.open()
        page = doc.new_page(width=612, height=792)
        page.set_rotation(rotation)
        r = pymupdf.Rect(100, 200, 150, 260) * page.rotation_matrix
        assert displayed([100, 200, 150, 260], rotation, 612, 792) == pytest.approx([r.x0, r.y0, r.x1, r.y1])
        doc.close()
