"""The visible text of a PDF page: words with boxes in displayed page coordinates, and plain text.

Invisible text (render mode 3, fully transparent, clipped away) is dropped: it is what OCR layers
over scans are made of, and a reader never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

# Characters of one word whose sizes differ by more than this ratio are a base and its script.
SIZE_CHANGE = 1.15

# Span char_flags bits (MuPDF's FZ_STEXT_FILLED, _STROKED, _CLIPPED).
_FILLED, _STROKED, _CLIPPED = 16, 32, 64


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    horizontal: bool  # reads left to right on the displayed page
    size: float = 0.0  # font size in points (of its first character's span)
    bold: bool = False  # its font is bold (span flag or a bold face's name)
    # a word whose characters change size (a base and its script, "c2" of c squared): its runs of one
    # size, as words; read only by textlayer.formulas
    pieces: tuple = ()

    @property
    def type_size(self) -> float:
        """Its font size, or one estimated from its box where the PDF gives none."""
        return self.size or (self.y1 - self.y0) / 1.2

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def span_visible(span: dict) -> bool:
    flags = span.get("char_flags")
    if flags is not None and (not flags & (_FILLED | _STROKED) or flags & _CLIPPED):
        return False
    return span.get("alpha", 255) > 0


@dataclass
class PageWords:
    """One page's text, read once: what the check, plain text, words and tables are built from."""

    words: list[Word]  # visible words, displayed coordinates, in the PDF's order
    lines: list[tuple[list[float], str]]  # visible text lines: (box, text), in the PDF's order
    spans: list[dict]  # every span (text, font, visible, box), invisible ones included
    skew: list[tuple[list[float], str]] = field(default_factory=list)  # lines not left to right, PDF order

    @cached_property
    def reading(self) -> list[tuple[list[float], str]]:
        """The printed lines (box, text) in visual reading order (textlayer.order), then the lines that
        do not read left to right (rotated, vertical) in the PDF's order."""
        from .order import reading_lines

        return reading_lines([w for w in self.words if w.horizontal]) + self.skew

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.reading)


_BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi")


def is_bold(span: dict) -> bool:
    """Whether a span's font is bold: MuPDF's bold flag, or a bold face's name (Arial-BoldMT)."""
    if span.get("flags", 0) & 16:
        return True
    name = span.get("font", "").lower()
    return any(b in name for b in _BOLD_NAMES) or name in ("hebo", "tibo", "cobo")


def read_words(page) -> PageWords:
    import pymupdf

    matrix = page.rotation_matrix
    rotation = pymupdf.Matrix(matrix.a, matrix.b, matrix.c, matrix.d, 0, 0)  # directions only

    identity = matrix.is_rectilinear and tuple(matrix) == (1, 0, 0, 1, 0, 0)

    def shown(box) -> list[float]:
        if identity:  # an unrotated page: the common case, without PyMuPDF's Python wrappers
            return list(box)
        r = pymupdf.Rect(box) * matrix
        return [r.x0, r.y0, r.x1, r.y1]

    # Without image blocks: they would decode every picture on the page (a 50,000 px scan is gigabytes).
    data = page.get_text("rawdict", flags=pymupdf.TEXTFLAGS_RAWDICT & ~pymupdf.TEXT_PRESERVE_IMAGES)
    spans, lines, words, skew = [], [], [], []
    for block in data.get("blocks", []):
        for line in block.get("lines", []):
            d = pymupdf.Point(line["dir"]) * rotation
            horizontal = d.x > 0.99  # left to right as displayed
            parts: list[str] = []
            word: list[dict] = []
            styles: list[tuple[int, tuple]] = []  # (index in word, style) where the word's span changes

            def flush():
                if word:
                    sizes = [style[0] for _, style in styles]
                    pieces = ()
                    if max(sizes) > SIZE_CHANGE * min(sizes):  # runs of one size, as their own words
                        cuts = [k for k, (_, style) in enumerate(styles) if not k or style[0] != sizes[k - 1]]
                        bounds = [styles[k][0] for k in cuts] + [len(word)]
                        pieces = tuple(made(word[a:b], styles[k][1]) for k, a, b in zip(cuts, bounds, bounds[1:]))
                    words.append(made(word, styles[0][1], pieces))
                    word.clear()
                    styles.clear()

            def made(chars: list[dict], style: tuple, pieces: tuple = ()) -> Word:
                # Plain min/max: PyMuPDF's Rect union costs ~20 us a character in Python.
                boxes = [c["bbox"] for c in chars]
                r = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                     max(b[2] for b in boxes), max(b[3] for b in boxes))
                return Word(*shown(r), "".join(c["c"] for c in chars), horizontal, *style, pieces)

            for span in line["spans"]:
                text = "".join(c["c"] for c in span["chars"])
                visible = span_visible(span)
                spans.append({"text": text, "font": span.get("font", ""), "visible": visible,
                              "box": shown(span["bbox"])})
                if not visible:
                    flush()
                    continue
                parts.append(text)
                span_style = (round(span.get("size", 0.0), 2), is_bold(span))
                for c in span["chars"]:
                    if c["c"].isspace():
                        flush()
                    else:
                        if not styles or styles[-1][1] is not span_style:
                            styles.append((len(word), span_style))
                        word.append(c)
            flush()
            text = "".join(parts).strip()
            if text:
                lines.append((shown(line["bbox"]), text))
                if not horizontal:
                    skew.append(lines[-1])
    return PageWords(words, lines, spans, skew)
