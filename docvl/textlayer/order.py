"""A page's words in visual reading order: one printed line a line, columns one after the other.

The order in which a PDF draws its text is the order of its producer's program, not the reader's: a
header's right part may come first, one printed line may be drawn as many pieces, a table cell by cell.
So the text layer's text is rebuilt from the words' boxes:

- a printed line is the words that overlap vertically (tables.group_lines), left to right, one space
  between words, none between pieces that touch (a word drawn in parts);
- a page in columns is read column by column. A column gap is a vertical band of white that no line
  crosses over a run of lines, with the column to its right starting at one x. A table has such bands
  too, between its cells, and must still be read row by row: what tells them apart is the text beside
  the band. Columns hold prose, lines of several words that fill their column to its edge; table cells
  and form labels are short, or do not fill theirs.
"""

from __future__ import annotations

from statistics import median

from .tables import Line, group_lines
from .words import Word

# A gap this many line heights wide or more is white between columns or cells, not a space.
GAP = 0.8
# Pieces closer than this many line heights are one word drawn in parts: joined without a space.
TOUCH = 0.12
# A column: at least this many lines on each side of its gap in the run...
COLUMN_LINES = 3
# ...with at least this many words a line (median)...
COLUMN_WORDS = 3
# ...and most of them (this share) reaching this far across their column.
FILL_SHARE = 0.6
FILL = 0.7
# Words whose baselines differ by more than this share of the smaller type size are on different
# baselines; a box's bottom lies this share of its type size below its baseline.
BASELINE = 0.1
DESCENT = 0.22
# Left edges of lines within this many points are one alignment.
ALIGN = 2.0


def reading_lines(words: list[Word]) -> list[tuple[list[float], str]]:
    """(box, text) of each printed line of horizontal `words`, in reading order."""
    return [line_text(line) for line in reading_groups(words)]


def reading_groups(words: list[Word]) -> list[Line]:
    """The printed lines of horizontal `words` (their words left to right), in reading order."""
    if not words:
        return []
    out: list[Line] = []
    _read(words, out, depth=0)
    return out


def _read(words: list[Word], out: list, depth: int) -> None:
    lines = group_lines(words)
    split = _column_split(lines) if depth < 16 else None
    if split is None:
        out.extend(lines)
        return
    start, end, edge, gap = split
    left = [w for line in lines[start:end] for w in line.words if w.x1 <= edge - gap]
    right = [w for line in lines[start:end] for w in line.words if w.x0 >= edge - ALIGN]
    if start:
        _read([w for line in lines[:start] for w in line.words], out, depth + 1)
    _read(left, out, depth + 1)
    _read(right, out, depth + 1)
    if end < len(lines):
        _read([w for line in lines[end:] for w in line.words], out, depth + 1)


def line_text(line: Line) -> tuple[list[float], str]:
    """(box, text) of a printed line: one space between words, none between pieces that touch."""
    words = sorted(line.words, key=lambda w: w.x0)
    touch = TOUCH * line.height
    parts = [words[0].text]
    for before, w in zip(words, words[1:]):
        parts.append(w.text if w.x0 - before.x1 < touch else " " + w.text)
    box = [min(w.x0 for w in words), line.y0, max(w.x1 for w in words), line.y1]
    return box, "".join(parts)


def _column_split(lines: list[Line]) -> tuple[int, int, float, float] | None:
    """(first line, end line, x where the right column starts, gap) of the topmost run of lines that a
    column gap divides, or None when the lines read straight across."""
    if len(lines) < 2 * COLUMN_LINES:
        return None
    gap = GAP * median(line.height for line in lines)
    best = None
    for edge in _aligned_starts(lines, gap):
        for start, end in _runs(lines, edge, gap):
            if best is not None and start >= best[0]:
                break  # later runs of this edge start lower
            run = _trimmed(lines, start, end, edge, gap)
            if run is not None:
                best = (*run, edge, gap)
                break
    return best


def _trimmed(lines: list[Line], start: int, end: int, edge: float, gap: float) -> tuple[int, int] | None:
    """The run [start, end) when it reads as columns; else the run less its lines at either end with
    text on one side of the gap only (a heading above the columns, a list below them, read across),
    when that reads as columns; else None."""
    if _columns(lines[start:end], edge, gap):
        return start, end

    def both(line: Line) -> bool:
        return any(w.x1 <= edge - gap for w in line.words) and any(w.x0 >= edge - ALIGN for w in line.words)

    a, b = start, end
    while a < b and not both(lines[a]):
        a += 1
    while b > a and not both(lines[b - 1]):
        b -= 1
    if (a, b) != (start, end) and b - a >= COLUMN_LINES and _columns(lines[a:b], edge, gap):
        return a, b
    return None


def _aligned_starts(lines: list[Line], gap: float) -> list[float]:
    """x where at least COLUMN_LINES lines have a piece start after white (in the line, or from the
    left margin: a column's lines need not share baselines with its neighbour's): candidate column starts."""
    margin = min(w.x0 for line in lines for w in line.words)
    starts = []
    for line in lines:
        words = sorted(line.words, key=lambda w: w.x0)
        starts += [w.x0 for before, w in zip(words, words[1:]) if w.x0 - before.x1 >= gap]
        if words[0].x0 - margin >= gap:
            starts.append(words[0].x0)
    starts.sort()
    edges, group = [], []
    for x in starts:
        if group and x - group[0] > ALIGN:
            if len(group) >= COLUMN_LINES:
                edges.append(group[0])
            group = []
        group.append(x)
    if len(group) >= COLUMN_LINES:
        edges.append(group[0])
    return edges


def _runs(lines: list[Line], edge: float, gap: float) -> list[tuple[int, int]]:
    """Runs [start, end) of consecutive lines that no word crosses at `edge` (white from edge - gap)."""
    runs, start = [], None
    for i, line in enumerate(lines):
        crossed = any(w.x0 < edge - ALIGN and w.x1 > edge - gap for w in line.words)
        if crossed:
            if start is not None and i - start >= COLUMN_LINES:
                runs.append((start, i))
            start = None
        elif start is None:
            start = i
    if start is not None and len(lines) - start >= COLUMN_LINES:
        runs.append((start, len(lines)))
    return runs


def _columns(lines: list[Line], edge: float, gap: float) -> bool:
    """Whether the text on both sides of the gap at `edge` is prose in columns, not table cells. Only
    the phrase next to the gap on each side counts: a column may have a narrower one beside it (a
    sidebar), which is read in its turn."""
    left = [_phrases([w for w in line.words if w.x1 <= edge - gap], gap) for line in lines]
    right = [_phrases([w for w in line.words if w.x0 >= edge - ALIGN], gap) for line in lines]
    near_left, near_right = [p[-1] for p in left if p], [p[0] for p in right if p]
    prose = _prose(near_left, gap), _prose(near_right, gap)
    if all(prose):
        return True
    # Prose beside short lines (a sidebar: an address, dates, a note) is two columns when the short
    # lines are set on baselines of their own; set on the prose's baselines they label its lines (a
    # form, a table with a text column) and are read across with them.
    return any(prose) and min(len(near_left), len(near_right)) >= COLUMN_LINES and _own_baselines(
        [(p[-1], q[0]) for p, q in zip(left, right) if p and q])


def _own_baselines(pairs: list[tuple[list[Word], list[Word]]]) -> bool:
    """Whether most of the printed lines with words on both sides have them on different baselines (or
    none has words on both sides)."""
    apart = 0
    for a, b in pairs:
        size = min(a[0].type_size, b[0].type_size)
        apart += abs(median(map(_baseline, a)) - median(map(_baseline, b))) > BASELINE * size
    return 2 * apart > len(pairs) or not pairs


def _baseline(w: Word) -> float:
    """A word's baseline, from its box's bottom less a typical descender (words of several sizes on
    one baseline have boxes ending at different depths)."""
    return w.y1 - DESCENT * w.type_size


def _phrases(words: list[Word], gap: float) -> list[list[Word]]:
    """Words, left to right, split where white of `gap` or more parts them."""
    out: list[list[Word]] = []
    for w in _by_x(words):
        if out and w.x0 - out[-1][-1].x1 < gap:
            out[-1].append(w)
        else:
            out.append([w])
    return out


def _prose(lines: list[list[Word]], gap: float) -> bool:
    """Lines of prose: several words a line, most of them reaching across to the column's far edge
    (table cells are short, or ragged)."""
    if len(lines) < COLUMN_LINES:
        return False
    if median(len(ws) for ws in lines) < COLUMN_WORDS:
        return False
    x0 = min(w.x0 for ws in lines for w in ws)
    x1 = max(w.x1 for ws in lines for w in ws)
    width = max(x1 - x0, 1.0)
    full = sum((max(w.x1 for w in ws) - x0) / width >= FILL for ws in lines)
    return full >= FILL_SHARE * len(lines)


def _by_x(words: list[Word]) -> list[Word]:
    return sorted(words, key=lambda w: w.x0)
