"""Model boxes -> page coordinates. The model family decides the convention, never the output.

Qwen2-VL and Qwen3-VL write boxes as thousandths of the image's width and height (0..1000); Qwen2.5-VL
writes pixels of the image it was given, which is docvl's rendered page image (the processor does not
resize it again). A scan turned upright for the model (docvl.orientation) is turned back first
(PageImage.to_display); then PageImage.px_to_pt gives PDF points of the page as displayed: top-left
origin, rotation applied.
"""

from __future__ import annotations

from .raster import PageImage

# Family -> the scale its boxes are written in; families not listed write pixels.
THOUSANDTHS = {"qwen2-vl": 1000.0, "qwen3-vl": 1000.0}


def to_pixels(box: list[float], family: str, width_px: int, height_px: int) -> list[float]:
    scale = THOUSANDTHS.get(family)
    x0, y0, x1, y1 = box
    if scale:
        x0, x1 = x0 / scale * width_px, x1 / scale * width_px
        y0, y1 = y0 / scale * height_px, y1 / scale * height_px
    return [x0, y0, x1, y1]


def anchor(box: list[float], page: PageImage, family: str) -> tuple[dict | None, str | None]:
    """({"box": points, "box_px": pixels} or None, warning or None) for a box as the model wrote it.

    Corners are put in order; a box reaching past the image is clipped to it, one entirely outside is
    dropped.
    """
    x0, y0, x1, y1 = to_pixels(box, family, page.width_px, page.height_px)
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    w, h = page.width_px, page.height_px
    if x0 >= w or y0 >= h or x1 <= 0 or y1 <= 0:
        return None, f"a box {_show(box)} lies outside the page image; dropped"
    clipped = [max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)]
    # Thousandths round to a pixel or so past the edge; only more than that is worth a warning.
    warning = None
    if max(abs(a - b) for a, b in zip(clipped, (x0, y0, x1, y1))) > 2:
        warning = f"a box {_show(box)} reaches past the page image; clipped to it"
    # Boxes are on the image the model saw; a page turned upright for it is turned back.
    shown = page.to_display(clipped)
    return {"box": [round(v, 2) for v in page.px_to_pt(shown)],
            "box_px": [round(v, 1) for v in shown]}, warning


def _show(box: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"


def anchor_all(items: list[dict], page: PageImage, family: str, warnings: list[str]) -> list[dict]:
    """Parsed {"label", "box"} items -> {"label", "box", "box_px"} in page coordinates."""
    anchored = []
    for item in items:
        placed, warning = anchor(item["box"], page, family)
        if warning:
            warnings.append(warning)
        if placed is not None:
            anchored.append({"label": item["label"], **placed})
    return anchored
