"""Words into text lines and phrases (runs of words closer than a column gap): what table regions and
table structure are both read from."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .words import Word

# Words further apart than this many line heights belong to different phrases (cells).
PHRASE_GAP = 0.6

# A single letter this many times as tall as the page's median word is a drop capital.
DROP_CAP = 2.5

# Two numbers side by side are two cells once they are this many line heights apart (a space), unless
# the second is a group of three digits (1 000 000, a thousands separator).
NUMBER_GAP = 0.3
_THOUSANDS = re.compile(r"\d{3}([.,]\d+)?")

# A number as tables print it: signs, brackets, currency (before or after), thousands separators,
# percent, footnote stars.
_NUMBER = re.compile(r"[-+\u2212\u2013(]?[$\u20ac\u00a3]?\d[\d.,\s]*%?\s?[$\u20ac\u00a3]?\)?\**")


@dataclass
class Line:
    words: list[Word]

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def group_lines(words: list[Word]) -> list[Line]:
    """Words into text lines: a word joins a line it overlaps vertically by half its height, unless
    the line already holds a word above or below it (two printed lines of small type beside one of
    large type overlap it both; they are still two lines). A drop capital begins the first line it
    stands beside."""
    heights = sorted(w.y1 - w.y0 for w in words)
    tall = DROP_CAP * heights[len(heights) // 2] if heights else 0.0
    drops = [w for w in words if len(w.text) == 1 and w.text.isalpha() and w.y1 - w.y0 >= tall]
    dropped = {id(w) for w in drops}
    lines: list[Line] = []
    extents: list[list[float]] = []  # [x0, y0, x1, y1] of each line, kept as words join it
    for w in sorted((w for w in words if id(w) not in dropped), key=lambda w: (w.cy, w.x0)):
        h = w.y1 - w.y0
        for k in range(len(lines) - 1, max(len(lines) - 4, -1), -1):  # the last three lines
            x0, y0, x1, y1 = e = extents[k]
            overlap = min(y1, w.y1) - max(y0, w.y0)
            if overlap >= 0.5 * min(y1 - y0, h) and not (
                    w.x0 < x1 and w.x1 > x0 and any(_stacked(w, o) for o in lines[k].words)):
                lines[k].words.append(w)
                e[:] = min(x0, w.x0), min(y0, w.y0), max(x1, w.x1), max(y1, w.y1)
                break
        else:
            lines.append(Line([w]))
            extents.append([w.x0, w.y0, w.x1, w.y1])
    for w in drops:  # the letter joins the word it begins, which keeps its line's height
        beside = [(line, o) for line in lines if w.y0 - 0.5 * line.height <= line.y0 < w.y1 - 0.5 * line.height
                  for o in line.words if 0 <= o.x0 - w.x1 <= w.y1 - w.y0]
        if beside:
            line, o = min(beside, key=lambda pair: (pair[0].y0, pair[1].x0))
            line.words[line.words.index(o)] = replace(o, x0=w.x0, text=w.text + o.text)
        else:
            lines.append(Line([w]))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda line: line.cy)
    return lines


def _stacked(a: Word, b: Word) -> bool:
    """Whether two words share half the narrower one's width: one is above the other."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 * min(a.x1 - a.x0, b.x1 - b.x0)


def phrases(line: Line, gap: float = PHRASE_GAP) -> list[list[Word]]:
    """A line's words split where the gap between two words is wider than `gap` line heights, or
    between two numbers (running text never sets two numbers side by side), or after dot leaders.
    Leaders (four dots or more, however widely spaced: never split) belong to the label they run on
    from; a few dots standing alone are a cell (a missing value)."""
    width = gap * line.height
    out = [[line.words[0]]]
    for w in line.words[1:]:
        prev = out[-1][-1]
        space = w.x0 - prev.x1
        numbers = (space > NUMBER_GAP * line.height and is_number(w.text) and is_number(prev.text)
                   and not _THOUSANDS.fullmatch(w.text))
        leaders = is_leader(prev.text), is_leader(w.text)
        if leaders == (True, False) or (leaders != (True, True) and (space > width or numbers)):
            out.append([w])
        else:
            out[-1].append(w)
    joined = [out[0]]
    for p in out[1:]:
        label = joined[-1][-1]
        if (all(is_leader(w.text) for w in p) and sum(len(w.text) for w in p) >= 4
                and not is_leader(label.text) and not is_number(label.text)):
            joined[-1] = joined[-1] + p
        else:
            joined.append(p)
    return joined


def is_leader(text: str) -> bool:
    """Dots that lead from a label to its value ("....", ". . .", "…")."""
    return bool(text) and all(c in ".…·" for c in text)


def is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text.strip()))


def is_year(text: str) -> bool:
    return len(text) == 4 and text.isdigit() and text[:2] in ("19", "20")


def is_value(text: str) -> bool:
    """A number that is a table's value, not a label (a year heads a column)."""
    return is_number(text) and not is_year(text)


def has_value(line: Line) -> bool:
    """Whether one of the line's phrases is a value standing alone (a body row, not a header)."""
    return any(is_value(" ".join(w.text for w in p)) for p in phrases(line))
