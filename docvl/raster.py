"""One page -> one PageImage at native resolution, bounded by the pixel budget.

A scanned page (one image covering the page) is planned at that image's own DPI; a vector page at the
DPI that fills the budget. Both are then sized by smart_resize and rendered straight to that size, so
the budget applies before any full-size allocation and the model's processor never resizes again.

Hostile pages are bounded too: image files larger than sources.MAX_DECODE_PIXELS are refused before
they are decoded, and PDF pages are rendered at the scale the budget allows whatever their size.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from PIL import Image

from .budget import Budget, smart_resize, visual_tokens
from .errors import InputError, short_reason
from .sources import MAX_DECODE_PIXELS, Document, too_large

# An image covering this share of the page makes the page a scan.
SCAN_COVERAGE = 0.85


@dataclass
class PageImage:
    source: str
    page: int  # 1-based
    image: Image.Image
    width_pt: float  # page as displayed (rotation applied)
    height_pt: float
    rotation: int
    dpi: float  # resolution of the rendered image
    scan_dpi: float | None  # the embedded scan's own resolution, if the page is a scan
    # Clockwise degrees the rendered page was turned to stand its text upright (docvl.orientation): `image`
    # is the turned one, which the model sees. None: not checked (--orientation off, or not a scan).
    orientation: int | None = None

    @property
    def width_px(self) -> int:
        """Of `image`, the picture the model sees."""
        return self.image.width

    @property
    def height_px(self) -> int:
        return self.image.height

    @property
    def turned(self) -> int:
        return self.orientation or 0

    @property
    def display_px(self) -> tuple[int, int]:
        """(width, height) in pixels of the rendered page as displayed, before any turn."""
        return (self.height_px, self.width_px) if self.turned in (90, 270) else (self.width_px, self.height_px)

    @property
    def visual_tokens(self) -> int:
        return visual_tokens(self.height_px, self.width_px)

    def to_display(self, box: list[float]) -> list[float]:
        """A pixel box of `image` -> the same box on the rendered page as displayed (undoing the turn)."""
        x0, y0, x1, y1 = box
        w, h = self.display_px  # the displayed page's size; `image` is it turned clockwise
        if self.turned == 90:  # displayed (x, y) -> image (h - y, x)
            x0, y0, x1, y1 = y0, h - x1, y1, h - x0
        elif self.turned == 180:
            x0, y0, x1, y1 = w - x1, h - y1, w - x0, h - y0
        elif self.turned == 270:  # displayed (x, y) -> image (y, w - x)
            x0, y0, x1, y1 = w - y1, x0, w - y0, x1
        return [x0, y0, x1, y1]

    def px_to_pt(self, box: list[float]) -> list[float]:
        """A pixel box of the rendered page as displayed (see to_display) -> PDF points, top-left origin of
        the displayed page."""
        w, h = self.display_px
        sx = self.width_pt / w
        sy = self.height_pt / h
        x0, y0, x1, y1 = box
        return [x0 * sx, y0 * sy, x1 * sx, y1 * sy]

    def pt_to_px(self, box: list[float]) -> list[float]:
        w, h = self.display_px
        sx = w / self.width_pt
        sy = h / self.height_pt
        x0, y0, x1, y1 = box
        return [x0 * sx, y0 * sy, x1 * sx, y1 * sy]

    def describe(self) -> dict:
        """The page's geometry as it appears in every output record: pixels of the rendered page as
        displayed (a page turned upright for the model says by how much in `orientation`)."""
        w, h = self.display_px
        record = {
            "width_pt": round(self.width_pt, 2),
            "height_pt": round(self.height_pt, 2),
            "rotation": self.rotation,
            "width_px": w,
            "height_px": h,
            "dpi": round(self.dpi, 2),
            "scan_dpi": None if self.scan_dpi is None else round(self.scan_dpi, 2),
            "visual_tokens": self.visual_tokens,
            # The pixel -> point transform: x_pt = x_px * pt_per_px[0], y_pt = y_px * pt_per_px[1].
            "pt_per_px": [round(self.width_pt / w, 8), round(self.height_pt / h, 8)],
        }
        if self.orientation is not None:
            record["orientation"] = self.orientation
        return record


def plan_size(width_pt: float, height_pt: float, native_dpi: float | None, budget: Budget) -> tuple[int, int]:
    """Pixel (height, width) for a page: native DPI for scans, the budget's fill for vector pages."""
    if native_dpi is None:
        native_dpi = 72.0 * math.sqrt(budget.max_pixels / (width_pt * height_pt))
    h, w = smart_resize(
        max(1, round(height_pt * native_dpi / 72.0)), max(1, round(width_pt * native_dpi / 72.0)), budget
    )
    if not budget.min_pixels <= h * w <= budget.max_pixels:
        # Rounding up to min_pixels overshot max_pixels (a budget narrower than this page's shape allows):
        # the processor would resize the page again, and no size in multiples of 28 satisfies both.
        raise InputError(f"no page size in multiples of 28 for a {width_pt:.0f}x{height_pt:.0f} pt page lies "
                         f"between --min-pixels {budget.min_pixels} and --max-pixels {budget.max_pixels}; "
                         f"widen the budget (--max-pixels at least twice --min-pixels)")
    return h, w


def scan_dpi(page) -> float | None:
    """The resolution of the image that covers the page, if the page is a scan."""
    area = abs(page.rect)
    if area <= 0:
        return None
    best = None
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        shown = abs(x1 - x0) * abs(y1 - y0)
        if shown >= SCAN_COVERAGE * area and info["width"] > 0 and info["height"] > 0:
            dpi = 72.0 * math.sqrt(info["width"] * info["height"] / shown)
            best = max(best or 0.0, dpi)
    return best


def page_geometry(doc: Document, number: int) -> tuple[float, float, int, float | None]:
    """(width_pt, height_pt, rotation, scan_dpi) of page `number` (1-based), without rendering it.
    A page that cannot be loaded (a cycle in the page tree, a broken image frame) raises InputError."""
    try:
        if doc.kind == "pdf":
            page = doc.handle[number - 1]
            r = page.rect
            return r.width, r.height, page.rotation, scan_dpi(page)
        img = doc.handle
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on odd files are not the user's business
            img.seek(number - 1)
        dpi = _image_dpi(img)
        return img.width * 72.0 / dpi, img.height * 72.0 / dpi, 0, dpi
    except Exception as e:
        raise InputError(f"{doc.path}: page {number} cannot be read ({short_reason(e)})") from None


def _image_dpi(img: Image.Image) -> float:
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    # Files without a resolution (or with a nonsense one) are taken as 72 DPI: 1 px = 1 pt.
    return value if 10.0 <= value <= 10000.0 else 72.0


def render_page(doc: Document, number: int, budget: Budget) -> PageImage:
    """Render page `number` (1-based) of an opened document inside the budget. Every failure is an
    InputError with a one-line message naming the file and the page. Pages that could render forever
    are bounded by running this in a raster worker (rasterpool) with --page-timeout."""
    width_pt, height_pt, rotation, native = page_geometry(doc, number)
    try:
        if width_pt <= 0 or height_pt <= 0:
            raise InputError(f"{doc.path}: page {number} has no area")
        h, w = plan_size(width_pt, height_pt, native, budget)
        image = _render_pdf(doc, number, w, h) if doc.kind == "pdf" else _render_image(doc, number, w, h)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"{doc.path}: page {number} cannot be rendered ({short_reason(e)})") from None
    dpi = 72.0 * math.sqrt((w * h) / (width_pt * height_pt))
    return PageImage(doc.path, number, image, width_pt, height_pt, rotation, dpi, native)


def render_size(doc: Document, number: int, w: int, h: int) -> Image.Image:
    """Page `number` at exactly w x h pixels: the size a page record says the model saw."""
    try:
        return _render_pdf(doc, number, w, h) if doc.kind == "pdf" else _render_image(doc, number, w, h)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"{doc.path}: page {number} cannot be rendered ({short_reason(e)})") from None


def _render_pdf(doc: Document, number: int, w: int, h: int) -> Image.Image:
    import pymupdf

    page = doc.handle[number - 1]
    r = page.rect
    pix = page.get_pixmap(matrix=pymupdf.Matrix(w / r.width, h / r.height), alpha=False, colorspace="rgb")
    image = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    # The transformed rectangle can round to one pixel more or less than planned.
    return image if image.size == (w, h) else image.resize((w, h), Image.Resampling.BICUBIC)


def _render_image(doc: Document, number: int, w: int, h: int) -> Image.Image:
    img = doc.handle
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's notes on odd files are not the user's business
        img.seek(number - 1)
        # JPEG can decode at 1/2, 1/4, 1/8 scale: never decode more pixels than needed.
        img.draft(None, (w, h))
        if img.width * img.height > MAX_DECODE_PIXELS:
            raise InputError(too_large(f"{doc.path}: page {number}", img.width, img.height))
        img.load()
    frame = _eight_bit(img)
    # Downscale before converting: a bilevel or gray scan stays one byte per pixel at full size.
    if frame.size != (w, h):
        frame = frame.resize((w, h), Image.Resampling.BICUBIC, reducing_gap=3.0)
    return _on_white(frame)


def _eight_bit(img: Image.Image) -> Image.Image:
    """Modes that resize well: 16-bit gray is scaled down (converting it clips everything to white),
    palette and bilevel images become gray or color."""
    if img.mode.startswith("I"):
        wide = img.convert("I")
        return (wide.point(lambda v: v / 257) if wide.getextrema()[1] > 255 else wide).convert("L")
    if img.mode in ("L", "RGB", "RGBA", "LA"):
        return img
    if img.mode == "1":
        return img.convert("L")  # bilevel resizes only by nearest neighbour
    return img.convert("RGBA" if img.has_transparency_data else "RGB")


def _on_white(frame: Image.Image) -> Image.Image:
    """A new RGB image; transparent areas become white paper, not black."""
    if "A" not in frame.mode:
        return frame.convert("RGB")
    paper = Image.new("RGB", frame.size, "white")
    paper.paste(frame.convert("RGBA"), mask=frame.getchannel("A"))
    return paper
