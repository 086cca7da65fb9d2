"""PNG overlays: the page images the model saw, with its boxes drawn and numbered.

Each page is rendered again at the pixel size its record says the model saw (a page retried smaller
after running out of memory included), so the record's pixel boxes apply as they are.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .errors import DocvlError, short_reason
from .output import StemNamer, atomic_write
from .raster import render_size
from .sources import open_document

PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324", "#800000"]
MAX_LABEL = 60


def draw_boxes(image: Image.Image, boxes: list[dict]) -> Image.Image:
    """A copy of `image` with each box ({"box_px", "label"}) outlined and labelled `n: label`."""
    out = image.convert("RGB")
    draw = ImageDraw.Draw(out)
    size = max(12, out.height // 70)
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow built without FreeType: the small bitmap font
        font = ImageFont.load_default()
    line = max(2, round(min(out.size) / 400))
    for n, box in enumerate(boxes, start=1):
        color = PALETTE[(n - 1) % len(PALETTE)]
        x0, y0, x1, y1 = box["box_px"]
        draw.rectangle([x0, y0, x1, y1], outline=color, width=line)
        label = " ".join(f"{n}: {box.get('label') or ''}".split())
        label = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        w, h = right - left + 6, bottom - top + 6
        # The label sits above the box, or inside its top edge when the box touches the page's top.
        ty = y0 - h if y0 - h >= 0 else y0
        tx = min(x0, max(0, out.width - w))
        draw.rectangle([tx, ty, tx + w, ty + h], fill=color)
        draw.text((tx + 3 - left, ty + 3 - top), label, fill="white", font=font)
    return out


class Overlays:
    """Writes `{stem}-p{page}.png` into `folder` for every page of a document with boxes (the ground
    task's finishing step); a page whose image cannot be written says so in its warnings."""

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.namer = StemNamer()
        self.written: list[Path] = []
        self.boxed_pages = 0

    def write(self, record: dict, location: str, password: str | None) -> None:
        pages = [p for p in record.get("pages", []) if p.get("boxes") and p.get("width_px")]
        self.boxed_pages += len(pages)
        if not pages:
            return
        stem = self.namer.name(record["source"]["path"])
        try:
            doc = open_document(location, password)
        except DocvlError as e:
            return _warn(pages, e.message)
        try:
            for page in pages:
                try:
                    image = render_size(doc, page["page"], page["width_px"], page["height_px"])
                    target = self.folder / f"{stem}-p{page['page']}.png"
                    png = io.BytesIO()
                    draw_boxes(image, page["boxes"]).save(png, format="PNG")
                    atomic_write(target, png.getvalue())
                    self.written.append(target)
                except (DocvlError, OSError) as e:
                    _warn([page], e.message if isinstance(e, DocvlError) else short_reason(e))
        finally:
            doc.close()


def _warn(pages: list[dict], reason: str) -> None:
    for page in pages:
        page.setdefault("warnings", []).append(f"overlay not written: {reason}")
