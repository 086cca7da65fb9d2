"""Can a page's text layer stand in for reading the page? A cheap check on what the PDF draws.

A text layer is trusted when it has text, that text is drawn (not an invisible OCR layer, not hidden
under a picture), its characters map to Unicode (not garbled or glyphless), and it covers the page
(the page is not mostly pictures with no text over them, as a scan with a typed stamp is).
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

from ..raster import SCAN_COVERAGE
from .words import PageWords

# A page whose visible text has fewer characters than this has no usable text layer.
MIN_CHARS = 8
# Share of characters that may be unmappable (U+FFFD, private use, control) before text is garbled.
MAX_GARBLED = 0.05
# Share of characters that may be invisible or hidden under a picture before the page is an OCR layer.
MAX_HIDDEN = 0.5
# Pictures covering as much of the page as a scan does (raster.SCAN_COVERAGE), with text over less
# than MIN_TEXT_OVER_PICTURES of them, make a page whose content is mostly outside the text layer: a
# scan with a typed stamp. A born-digital page with a large figure beside its text stays trusted.
PICTURE_SHARE = SCAN_COVERAGE
MIN_TEXT_OVER_PICTURES = 0.05
# Fonts that OCR programs use for an invisible text layer (Tesseract, OCRmyPDF).
OCR_FONTS = ("glyphlessfont", "glyphless")


@dataclass
class TextLayerCheck:
    verdict: str  # ok | none | ocr-layer | garbled | pictures
    reason: str
    chars: int  # visible, non-space characters
    hidden: float  # share of characters not drawn (invisible or under a later picture)
    garbled: float  # share of visible characters that do not map to Unicode text
    pictures: float  # share of the page covered by images
    text_over_pictures: float  # share of the picture area with visible text on it

    @property
    def trusted(self) -> bool:
        return self.verdict == "ok"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["trusted"] = self.trusted
        for key in ("hidden", "garbled", "pictures", "text_over_pictures"):
            d[key] = round(d[key], 3)
        return d


def _unmappable(c: str) -> bool:
    if c == "\ufffd":
        return True
    category = unicodedata.category(c)
    return category in ("Co", "Cs", "Cn") or (category == "Cc" and not c.isspace())


def _area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _overlap(a, b) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def check_page(page, text: PageWords) -> TextLayerCheck:
    """Judge one PDF page's text layer (`text` is read_words(page))."""
    import pymupdf

    page_area = _area(tuple(page.rect)) or 1.0
    matrix = page.rotation_matrix
    # The drawing log is in paint order: text is hidden when a large picture painted after it covers it.
    pictures, seen_text, hidden_under = [], [], 0
    log = page.get_bboxlog()
    for kind, box in log:
        r = tuple(pymupdf.Rect(box) * matrix)
        if kind == "fill-image":
            pictures.append(r)
            if _area(r) >= 0.5 * page_area:
                covered = [t for t in seen_text if _overlap(t, r) >= 0.9 * _area(t)]
                hidden_under += len(covered)
                seen_text = [t for t in seen_text if t not in covered]
        elif kind in ("fill-text", "stroke-text"):
            seen_text.append(r)
    visible_chars = sum(len(s["text"].replace(" ", "")) for s in text.spans if s["visible"])
    invisible_chars = sum(len(s["text"].replace(" ", "")) for s in text.spans if not s["visible"])
    text_boxes = sum(1 for kind, _ in log if kind in ("fill-text", "stroke-text")) or 1
    total = visible_chars + invisible_chars
    # Invisible characters, plus the visible ones' share that lies under a picture.
    hidden = (invisible_chars + visible_chars * hidden_under / text_boxes) / total if total else 0.0
    visible_text = "".join(s["text"] for s in text.spans if s["visible"]).replace(" ", "")
    garbled = sum(map(_unmappable, visible_text)) / len(visible_text) if visible_text else 0.0
    picture_area = min(page_area, sum(_area(p) for p in pictures))
    covered = sum(_overlap(box, p) for box, _ in text.lines for p in pictures)
    text_over = min(1.0, covered / picture_area) if picture_area else 0.0
    fonts = {s["font"].split("+")[-1].lower() for s in text.spans}

    def verdict(name: str, reason: str) -> TextLayerCheck:
        return TextLayerCheck(name, reason, visible_chars, hidden, garbled, picture_area / page_area, text_over)

    if total == 0:
        return verdict("none", "no text layer")
    if hidden > MAX_HIDDEN or fonts & set(OCR_FONTS):
        return verdict("ocr-layer", "the text is an invisible OCR layer over a picture")
    if visible_chars < MIN_CHARS:
        return verdict("none", f"only {visible_chars} visible characters")
    if garbled > MAX_GARBLED:
        return verdict("garbled", f"{garbled:.0%} of the characters do not map to Unicode text")
    if picture_area / page_area >= PICTURE_SHARE and text_over < MIN_TEXT_OVER_PICTURES:
        return verdict("pictures", f"pictures cover {picture_area / page_area:.0%} of the page with "
                                   "no text over them")
    return verdict("ok", "the text layer covers the page")
