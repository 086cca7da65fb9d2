"""Tables from a born-digital page: regions from the page's rulings, structure from its words.

PyMuPDF's find_tables() finds table regions well from grids of lines and boxes, but without its
layout model it misses tables ruled only across (top rule, header rule, bottom rule), where columns
are not ruled it returns one cell per row, and its cell text can split a number at a raised decimal
point. So docvl takes grid regions and their rulings from find_tables(), finds tables ruled only
across from the page's horizontal rules itself, and builds every grid from the words it holds:
- columns: x ranges that no text line crosses (spanning headers tolerated), plus vertical rulings;
- rows: text lines, merged where horizontal rulings box several lines into one row;
- cell text: the words whose centres fall in the cell, in reading order.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from .words import PageWords, Word

# Words further apart than this many line heights belong to different phrases (cells).
PHRASE_GAP = 0.6
# Share of a table's lines that may cross a column gap (spanning headers, notes).
SPAN_TOLERANCE = 0.15
# A ruling counts when it runs along this share of the table's width (rows) or height (columns).
RULE_SPAN = 0.3
# Rulings box several lines into one row only in tables with at least this many ruled bands,
# and only bands of at most MERGE_LINES lines (a tall unruled body is rows of single lines).
MIN_BANDS = 3
MERGE_LINES = 3
# A table ruled only across has at least MIN_RULES rules of one extent, at most MAX_RULE_GAP apart;
# or two (header rule, bottom rule) with its header line at most HEADER_GAP points above the first.
MIN_RULES = 3
MAX_RULE_GAP = 300
HEADER_GAP = 12


@dataclass
class Line:
    words: list[Word]

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


def _find_tables(page) -> list:
    """find_tables(); it prints its own failures to stdout, which carries docvl's data, so that is
    swallowed, and a failure means no tables."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            found = page.find_tables(use_layout=False)
    except Exception:
        return []
    return list(found.tables) if found else []


def find_regions(page, words: list[Word]) -> list[tuple[tuple, list[float], list[float]]]:
    """(bbox, x of vertical rulings, y of horizontal rulings) of each table region of the page: grids
    of lines and boxes from find_tables() (without PyMuPDF's layout model, so that docvl answers
    the same wherever it runs); where there are none, tables ruled only across (rules above and
    below the header and at the bottom, or only below it and at the bottom; columns unruled)."""
    ruled = _find_tables(page)
    if ruled:
        return [(tuple(t.bbox), *_rules(t, t.bbox)) for t in ruled]
    return ruled_across(horizontal_rules(page), words)


def horizontal_rules(page) -> list[tuple[float, float, float]]:
    """(x0, x1, y) of the horizontal lines and hairline boxes the page draws, as displayed, top to
    bottom."""
    m = page.rotation_matrix
    rules = []
    for path in page.get_drawings():
        for item in path["items"]:
            if item[0] == "l":
                a, b = item[1] * m, item[2] * m
                if abs(a.y - b.y) < 1:
                    rules.append((min(a.x, b.x), max(a.x, b.x), (a.y + b.y) / 2))
            elif item[0] == "re":
                r = item[1] * m
                if r.height < 2:
                    rules.append((r.x0, r.x1, (r.y0 + r.y1) / 2))
    return sorted(rules, key=lambda r: r[2])


def ruled_across(rules: list[tuple[float, float, float]],
                 words: list[Word]) -> list[tuple[tuple, list[float], list[float]]]:
    """Regions of tables ruled only across: MIN_RULES or more rules of the same extent, each within
    MAX_RULE_GAP points of the one above (top rule, header rule, ..., bottom rule); or two such rules
    (header rule, bottom rule) under a header line of words across that extent, whose top the region
    then starts at."""
    groups: list[list[tuple[float, float, float]]] = []
    for rule in rules:
        for group in groups:
            x0, x1, y = group[-1]
            if abs(rule[0] - x0) <= 3 and abs(rule[1] - x1) <= 3 and 1 < rule[2] - y <= MAX_RULE_GAP:
                group.append(rule)
                break
        else:
            groups.append([rule])
    regions = []
    for g in groups:
        x0, x1 = min(r[0] for r in g), max(r[1] for r in g)
        top = g[0][2]
        if len(g) == 2:
            header = [w for w in words if x0 <= w.cx <= x1 and 0 < top - w.y1 <= HEADER_GAP]
            if len(header) < 2:
                continue
            top = min(w.y0 for w in header)
        elif len(g) < MIN_RULES:
            continue
        regions.append(((x0, top, x1, g[-1][2]), [], [r[2] for r in g]))
    return regions


def group_lines(words: list[Word]) -> list[Line]:
    """Words into text lines: a word joins a line it overlaps vertically by half its height."""
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        for line in reversed(lines[-3:]):
            overlap = min(line.y1, w.y1) - max(line.y0, w.y0)
            if overlap >= 0.5 * min(line.height, w.y1 - w.y0):
                line.words.append(w)
                break
        else:
            lines.append(Line([w]))
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda line: line.cy)
    return lines


def phrases(line: Line) -> list[list[Word]]:
    """A line's words split where the gap between two words is wider than a space."""
    gap = PHRASE_GAP * line.height
    out = [[line.words[0]]]
    for w in line.words[1:]:
        if w.x0 - out[-1][-1].x1 > gap:
            out.append([w])
        else:
            out[-1].append(w)
    return out


def cell_text(words: list[Word]) -> str:
    return "\n".join(" ".join(w.text for w in line.words) for line in group_lines(words))


def _rules(table, bbox) -> tuple[list[float], list[float]]:
    """x of vertical rulings and y of horizontal rulings inside a find_tables() region, from the
    edges of its cells."""
    x0, y0, x1, y1 = bbox
    width, height = max(1.0, x1 - x0), max(1.0, y1 - y0)
    xs: dict[float, float] = {}
    ys: dict[float, float] = {}
    for c in table.cells:
        if c is None:
            continue
        cx0, cy0, cx1, cy1 = c
        for x in (cx0, cx1):
            xs[round(x, 1)] = xs.get(round(x, 1), 0.0) + (cy1 - cy0)
        for y in (cy0, cy1):
            ys[round(y, 1)] = ys.get(round(y, 1), 0.0) + (cx1 - cx0)
    cols = sorted(x for x, run in xs.items() if run >= RULE_SPAN * height and x0 + 1 < x < x1 - 1)
    rows = sorted(y for y, run in ys.items() if run >= RULE_SPAN * width)
    return cols, rows


def column_edges(lines: list[Line], ruled: list[float]) -> list[float]:
    """x positions that separate columns: gaps few lines cross, and vertical rulings no word crosses."""
    spans = [[(p[0].x0, p[-1].x1) for p in phrases(line)] for line in lines]
    points = sorted({x for line in spans for s in line for x in s})
    if len(points) < 2:
        return []
    tolerance = int(SPAN_TOLERANCE * len(lines))
    edges, run = [], None
    for a, b in zip(points, points[1:]):
        mid = (a + b) / 2
        crossing = sum(any(s0 < mid < s1 for s0, s1 in line) for line in spans)
        if crossing <= tolerance and b - a > 0:
            run = (run[0], b) if run else (a, b)
        elif run:
            edges.append(run)
            run = None
    left, right = points[0], points[-1]
    gaps = [(a + b) / 2 for a, b in edges if a > left and b < right]
    words_cross = lambda x: any(w.x0 < x < w.x1 for line in lines for w in line.words)  # noqa: E731
    for x in ruled:
        if left < x < right and not words_cross(x) and all(abs(x - g) > 3 for g in gaps):
            gaps.append(x)
    return sorted(gaps)


def row_groups(lines: list[Line], ruled: list[float]) -> list[list[Line]]:
    """Lines into rows: where rulings box a few lines together (a wrapped cell), one row."""
    bands: list[list[Line]] = []
    for line in lines:
        if bands and not any(bands[-1][-1].cy < y < line.cy for y in ruled):
            bands[-1].append(line)
        else:
            bands.append([line])
    rows: list[list[Line]] = []
    for band in bands:
        if len(bands) >= MIN_BANDS and len(band) <= MERGE_LINES:
            rows.append(band)
        else:
            rows.extend([line] for line in band)
    return rows


def build_grid(words: list[Word], ruled_cols: list[float], ruled_rows: list[float]) -> list[list[str]]:
    lines = group_lines(words)
    if not lines:
        return []
    edges = column_edges(lines, ruled_cols)
    grid = []
    for row in row_groups(lines, ruled_rows):
        cells: list[list[Word]] = [[] for _ in range(len(edges) + 1)]
        for line in row:
            for phrase in phrases(line):
                # A phrase that crosses an edge spans columns; its text belongs to the first.
                col = sum(phrase[0].x0 >= e for e in edges)
                cells[col].extend(phrase)
        grid.append([cell_text(c) for c in cells])
    return trim(grid)


def trim(grid: list[list[str]]) -> list[list[str]]:
    grid = [row for row in grid if any(row)]
    if not grid:
        return []
    keep = [k for k in range(len(grid[0])) if any(row[k] for row in grid)]
    return [[row[k] for k in keep] for row in grid]


def page_tables(page, text: PageWords, number: int) -> list[dict]:
    """Tables of one page as records: {"page", "index", "header", "rows", "box", "box_px"}."""
    words = [w for w in text.words if w.horizontal]
    records = []
    regions = sorted(find_regions(page, words), key=lambda r: (round(r[0][1]), r[0][0]))
    for (x0, y0, x1, y1), ruled_cols, ruled_rows in regions:
        inside = [w for w in words if x0 <= w.cx <= x1 and y0 <= w.cy <= y1]
        grid = build_grid(inside, ruled_cols, ruled_rows)
        if len(grid) < 2 or len(grid[0]) < 2:
            continue  # a box around text, not a table
        records.append({"page": number, "index": len(records) + 1, "header": grid[0], "rows": grid[1:],
                        "box": [round(v, 2) for v in (x0, y0, x1, y1)], "box_px": None})
    return records

