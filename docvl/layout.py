"""Words of an OCR line and where they sit: shared by the searchable PDF, hOCR and ALTO writers, so
every output places a word at the same spot.

A line's box is split into words by advance widths, as hOCR renderers do: each character advances
by its width in the glyphless font of the text layer (East Asian wide characters a full em, combining
marks nothing, everything else half an em), and the line's box is shared out in proportion.
"""

from __future__ import annotations

import unicodedata

EM = 1000


def advance(ch: str) -> int:
    """A character's width in thousandths of the font size."""
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return EM if unicodedata.east_asian_width(ch) in ("W", "F") else EM // 2


def line_advance(text: str) -> int:
    return sum(advance(ch) for ch in text)


def _joined_runs(kinds: list[str], member: str) -> list[tuple[int, int]]:
    """Maximal [start, end) runs of `member` characters, neutrals between two of them included."""
    runs, i, n = [], 0, len(kinds)
    while i < n:
        if kinds[i] != member:
            i += 1
            continue
        j = end = i + 1
        while j < n and kinds[j] != ("L" if member == "R" else "R"):
            if kinds[j] == member:
                end = j + 1
            j += 1
        runs.append((i, end))
        i = end
    return runs


def visual_order(text: str) -> list[int]:
    """Indices of `text` in the order they are seen left to right: right-to-left runs (Arabic, Hebrew)
    reversed, a line whose first strong character is right-to-left laid out from the right. A plain
    form of the Unicode bidi algorithm, enough for OCR lines; left-to-right text is left as it is."""
    kinds = []
    for ch in text:
        b = unicodedata.bidirectional(ch)
        kinds.append("R" if b in ("R", "AL") else "L" if b in ("L", "EN", "AN") else "N")
    if "R" not in kinds:
        return list(range(len(text)))
    first = next(k for k in kinds if k != "N")
    if first == "L":
        order = list(range(len(text)))
        for start, end in _joined_runs(kinds, "R"):
            order[start:end] = reversed(order[start:end])
        return order
    order = list(reversed(range(len(text))))
    for start, end in _joined_runs(kinds, "L"):
        # the run's characters, now at the mirrored places, keep their own order
        a, b = len(text) - end, len(text) - start
        order[a:b] = reversed(order[a:b])
    return order


def split_words(text: str, x0: float, x1: float) -> list[tuple[str, float, float]]:
    """(word, left, right) of every word of `text` (in reading order) set from x0 to x1: words are
    runs of characters other than white space, each placed where its characters fall when the line,
    laid out left to right (visual_order), fills its box."""
    total = line_advance(text)
    if total <= 0 or x1 <= x0:
        return []
    scale = (x1 - x0) / total
    left = [0.0] * len(text)
    pos = 0
    for i in visual_order(text):
        left[i] = pos
        pos += advance(text[i])
    words: list[tuple[str, float, float]] = []
    start = None
    for i, ch in enumerate(text + " "):
        if ch.isspace():
            if start is not None:
                lo = min(left[k] for k in range(start, i))
                hi = max(left[k] + advance(text[k]) for k in range(start, i))
                words.append((text[start:i], x0 + lo * scale, x0 + hi * scale))
                start = None
        elif start is None:
            start = i
    return words


def page_lines(page: dict) -> list[dict]:
    """The lines of an ok page that carry text and a box with an area."""
    if page.get("status") != "ok":
        return []
    lines = []
    for line in page.get("lines") or []:
        box = line.get("box")
        if line.get("text", "").strip() and box and box[2] > box[0] and box[3] > box[1]:
            lines.append(line)
    return lines
