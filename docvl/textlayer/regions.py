"""Where a born-digital page's tables are: from its rulings where it draws them, else from its text.

Three kinds of region, found in this order, each only outside those found before:
- grids of lines and boxes (fully ruled, or framed only): PyMuPDF's find_tables(), without its
  layout model so that docvl answers the same wherever it runs;
- tables ruled only across: several rules of one width (top, under the header, bottom), or a rule
  under a header line and one at the bottom;
- unruled tables: runs of text lines split into phrases by column-wide gaps whose edges line up, as
  in Nurminen's method (tabula) and camelot's stream/network flavours: a table is a block of lines
  that each hold several short phrases, where the gaps between the phrases fall in the same x ranges
  on most lines. Prose, even set in two columns, has long phrases and is left alone; so are charts
  (axis labels line up too, around drawn curves and slanted lines) and two columns of words with no
  number in them (a glossary, a form: without rulings, a layout rather than a table).
"""

from __future__ import annotations

import contextlib
import io
import statistics
from dataclasses import dataclass, field

import pymupdf

from .lines import Line, group_lines, has_value, is_number, phrases
from .words import Word

# A ruling counts when it runs along this share of the table's width (rows) or height (columns).
RULE_SPAN = 0.3
# A table ruled only across has at least MIN_RULES rules of one extent, at most MAX_RULE_GAP apart;
# or two (header rule, bottom rule) with its header line at most HEADER_GAP points above the first.
MIN_RULES = 3
MAX_RULE_GAP = 300
HEADER_GAP = 12
# A grid is the body of a table ruled across when it runs along this share of its rules' width.
RULE_WIDTH = 0.9
# Unruled tables: columns are at least COLUMN_GAP line heights apart (wider than any word space of
# justified prose); rows are at most ROW_GAP line heights apart (a blank line is fine, a section
# break is not); a table has MIN_ROWS lines of several phrases, between which at most MAX_SINGLES
# lines of one phrase (a wrapped cell, a group label) may stand; its rows have a short cell (the
# shortest phrase of a line is at most MAX_CELL_WORDS words, as a median: cells, not sentences).
COLUMN_GAP = 1.0
ROW_GAP = 2.0
MIN_ROWS = 3
MAX_SINGLES = 2
MAX_CELL_WORDS = 3
# A grid without rows whose every column holds this many lines of at least this many words is panels
# of prose side by side, not a table.
PANEL_LINES = 2
PROSE_WORDS = 6
# Drawn curves and slanted lines inside a block of aligned text that make it a chart.
MIN_CHART_STROKES = 8
# A line above an unruled table is its (spanning) header when it is at most this many words...
MAX_HEADER_WORDS = 6
# ...and not closer than this many line heights under a caption's or a paragraph's line.
TIGHT = 0.5


@dataclass
class Region:
    box: tuple[float, float, float, float]
    cols: list[float] = field(default_factory=list)  # x of vertical rulings inside it
    rows: list[float] = field(default_factory=list)  # y of horizontal rulings inside it
    # (x0, x1, y) of every horizontal rule inside it, partial ones too: a rule under a header label
    # shows the columns the label spans
    rules: list[tuple[float, float, float]] = field(default_factory=list)

    def holds(self, w: Word) -> bool:
        x0, y0, x1, y1 = self.box
        return x0 <= w.cx <= x1 and y0 <= w.cy <= y1


def find_regions(page, words: list[Word]) -> list[Region]:
    """Every table region of the page, top to bottom."""
    drawings = page.get_drawings()
    strokes = chart_strokes(drawings, page.rotation_matrix)
    grids = _find_tables(page) if _draws_grid(drawings) else []  # the costly part: only where it can find some
    regions = [g for g in (Region(tuple(t.bbox), *_grid_rules(t)) for t in grids)
               if not is_chart(g.box, strokes, curves=False) and not _panels(g, words)]

    rules = horizontal_rules(drawings, page.rotation_matrix)
    across: list[Region] = []
    bodies: list[Region] = []  # tables ruled across whose body is a grid
    for r in ruled_across(rules, words):
        inner = sorted((g for g in regions if _overlaps(r.box, g.box)), key=lambda g: g.box[1])
        if is_chart(r.box, strokes) or any(_overlaps(r.box, b.box) for b in bodies):
            continue
        if inner:
            table = _ruled_body(r, inner, words)
            if table is None:
                continue  # the grid's own rules, rules across tables, or wider than they are
            for g in inner:
                regions.remove(g)
            bodies.append(table)
            r = table
        across.append(r)
    lines = _free_lines(words, regions + across)
    height = statistics.median(line.height for line in lines) if lines else 0.0
    if any([_take_header(g, words, lines, height) for g in regions]):
        lines = _free_lines(words, regions + across)
    for block in aligned_blocks(lines):
        if is_chart(block.box, strokes):
            continue
        # The body of a table ruled across whose bottom rule is missing or far below: one table.
        head = next((r for r in across if 0 <= block.box[1] - r.box[3] <= ROW_GAP * height
                     and _shared_width(r.box, block.box) >= 0.5 * (block.box[2] - block.box[0])), None)
        if head:
            head.box = (min(head.box[0], block.box[0]), head.box[1], max(head.box[2], block.box[2]), block.box[3])
        else:
            regions.append(block)
    regions = sorted(regions + across, key=lambda r: (round(r.box[1]), r.box[0]))
    for r in regions:
        r.rules = [rule for rule in rules if _within((rule[0], rule[2], rule[1], rule[2]), r.box)]
    return regions


def _panels(grid: Region, words: list[Word]) -> bool:
    """Whether a grid is boxes of prose side by side (cards, a sidebar's frame), not a table: no rule
    parts it into rows, and each of its columns holds PANEL_LINES lines of running text or more."""
    x0, y0, x1, y1 = grid.box
    if len(grid.cols) == 0 or any(y0 + 1 < y < y1 - 1 for y in grid.rows):
        return False
    edges = [x0, *grid.cols, x1]
    for left, right in zip(edges, edges[1:]):
        inside = [w for w in words if grid.holds(w) and left <= w.cx <= right]
        if sum(len(line.words) >= PROSE_WORDS for line in group_lines(inside)) < PANEL_LINES:
            return False
    return True


def _free_lines(words: list[Word], regions: list[Region]) -> list[Line]:
    return group_lines([w for w in words if not any(r.holds(w) for r in regions)])


def _take_header(grid: Region, words: list[Word], lines: list[Line], height: float) -> bool:
    """Whether `grid`, whose first line holds values (a body row: what its rulings or shading box is
    only the body), took the header lines right above it among the free `lines`."""
    body = group_lines([w for w in words if grid.holds(w)])
    if not body or not has_value(body[0]):
        return False
    x0, y0, x1, y1 = grid.box
    head = _header_above(x0, x1, y0, [line for line in lines if line.cy < y0], height)
    if head:
        grid.box = (x0, head[0].y0, x1, y1)
    return bool(head)


def _shared_width(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0]))


def _ruled_body(ruled: Region, grids: list[Region], words: list[Word]) -> Region | None:
    """The table ruled across whose body is `grids` (top to bottom: its cell shading, say, in parts
    that a double rule over the totals parts): the grids inside the rules and as wide, with nothing
    but rules between them, under the top rule with only header lines between them (a caption or a
    paragraph between rules is none), down to the rule next below the last grid, with the grids'
    rulings; else None."""
    x0, top, x1, _ = ruled.box
    if any(not _within(g.box, ruled.box) or _shared_width(g.box, ruled.box) < RULE_WIDTH * (x1 - x0)
           for g in grids):
        return None
    if top >= grids[0].box[1] - 1:
        return None  # the grid's own rules

    def between(y0: float, y1: float) -> list[Word]:
        return [w for w in words if x0 <= w.cx <= x1 and y0 < w.cy < y1]

    if any(between(a.box[3], b.box[1]) for a, b in zip(grids, grids[1:])):
        return None  # text between them: several tables
    head = group_lines(between(top, grids[0].box[1]))
    if not all(_header_line(line, x0, x1, line.height) for line in head):
        return None
    bottom = min((y for y in ruled.rows if y > grids[-1].box[3] + 1), default=grids[-1].box[3])
    rows = {y for y in ruled.rows if top <= y <= bottom}.union(*(g.rows for g in grids))
    return Region((x0, top, x1, bottom), sorted(set(ruled.cols).union(*(g.cols for g in grids))), sorted(rows))


def _within(a, b, slack: float = 2.0) -> bool:
    """Whether box `a` lies inside box `b`."""
    return a[0] >= b[0] - slack and a[1] >= b[1] - slack and a[2] <= b[2] + slack and a[3] <= b[3] + slack


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def is_chart(box, strokes: list[tuple], curves: bool = True) -> bool:
    """Whether `box` holds a plot (its gridlines and labels line up as a table's would): enough of the
    page's chart strokes, or of its slanted lines only (`curves` False: rounded cell corners are curves)."""
    found = 0
    for s in strokes:
        if (curves or not s[4]) and _overlaps(box, s):
            found += 1
            if found >= MIN_CHART_STROKES:
                return True
    return False


def _draws_grid(drawings: list[dict]) -> bool:
    """Whether the page draws rules both ways or a box: without either, find_tables() has no grid to find."""
    across = down = False
    for path in drawings:
        for item in path["items"]:
            if item[0] == "l":
                dx, dy = abs(item[1].x - item[2].x), abs(item[1].y - item[2].y)
                across, down = across or dx > dy, down or dy > dx
            elif item[0] in ("re", "qu"):
                r = item[1] if item[0] == "re" else item[1].rect
                if r.width > 2 and r.height > 2:
                    return True
                across, down = across or r.width > r.height, down or r.height > r.width  # hairline rules
            if across and down:
                return True
    return False


def _find_tables(page) -> list:
    """find_tables(); it prints its own failures to stdout, which carries docvl's data, so that is
    swallowed, and a failure means no tables."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            found = page.find_tables(use_layout=False)
    except Exception:
        return []
    return list(found.tables) if found else []


def _grid_rules(table) -> tuple[list[float], list[float]]:
    """x of vertical rulings and y of horizontal rulings inside a find_tables() region, from the
    edges of its cells."""
    x0, y0, x1, y1 = table.bbox
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


def horizontal_rules(drawings: list[dict], m) -> list[tuple[float, float, float]]:
    """(x0, x1, y) of the horizontal lines and hairline boxes among the page's drawings, as displayed
    (`m`: the page's rotation matrix), top to bottom."""
    rules = []
    for path in drawings:
        for item in path["items"]:
            if item[0] == "l":
                a, b = item[1] * m, item[2] * m
                if abs(a.y - b.y) < 1:
                    rules.append((min(a.x, b.x), max(a.x, b.x), (a.y + b.y) / 2))
            elif item[0] == "re":
                r = item[1] * m
                if r.height < 2:
                    rules.append((r.x0, r.x1, (r.y0 + r.y1) / 2))
    # A rule drawn cell by cell (as word processors draw cell borders) is one rule.
    joined: list[tuple[float, float, float]] = []
    for x0, x1, y in sorted(rules, key=lambda r: (round(r[2]), r[0])):
        if joined and abs(joined[-1][2] - y) < 1 and x0 - joined[-1][1] <= 3:
            joined[-1] = (joined[-1][0], max(joined[-1][1], x1), joined[-1][2])
        else:
            joined.append((x0, x1, y))
    return sorted(joined, key=lambda r: r[2])


def chart_strokes(drawings: list[dict], m) -> list[tuple[float, float, float, float, bool]]:
    """Boxes of the curves and slanted lines the page draws, what plots are made of (tables are not),
    each with whether it is a curve."""
    boxes = []
    for path in drawings:
        for item in path["items"]:
            if item[0] == "c" or (item[0] == "l" and abs(item[1].x - item[2].x) > 1 and abs(item[1].y - item[2].y) > 1):
                r = pymupdf.Rect(item[1], item[-1]).normalize() * m
                boxes.append((r.x0 - 1, r.y0 - 1, r.x1 + 1, r.y1 + 1, item[0] == "c"))
    return boxes


def ruled_across(rules: list[tuple[float, float, float]], words: list[Word]) -> list[Region]:
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
        regions.append(Region((x0, top, x1, g[-1][2]), [], [r[2] for r in g]))
    return regions


def _cells(line: Line) -> list[list[Word]]:
    return phrases(line, COLUMN_GAP)


def aligned_blocks(lines: list[Line]) -> list[Region]:
    """Unruled tables among `lines` (top to bottom): blocks of lines of several phrases, close together,
    whose phrases are short and whose column gaps line up."""
    if not lines:
        return []
    height = statistics.median(line.height for line in lines)
    blocks: list[list[Line]] = []
    current: list[Line] = []
    singles = 0
    for line in lines:
        many = len(_cells(line)) >= 2
        near = current and line.y0 - current[-1].y1 <= ROW_GAP * height
        if current and near and (many or singles < MAX_SINGLES):
            current.append(line)
            singles = 0 if many else singles + 1
            continue
        if current:
            blocks.append(current)
        current, singles = ([line], 0) if many else ([], 0)
    if current:
        blocks.append(current)
    regions = []
    for block in blocks:
        while len(_cells(block[-1])) < 2:
            block.pop()
        if _is_table(block):
            block = _with_header(block, lines, height)
            regions.append(Region((min(line.x0 for line in block), block[0].y0,
                                   max(line.x1 for line in block), block[-1].y1)))
    return regions


def _is_table(block: list[Line]) -> bool:
    """Enough rows of short phrases, with a column gap that most of its lines leave open."""
    many = [line for line in block if len(_cells(line)) >= 2]
    if len(many) < MIN_ROWS:
        return False
    # Prose in columns has long phrases side by side; a table row has a short cell (a number, a code).
    if statistics.median(min(len(c) for c in _cells(line)) for line in many) > MAX_CELL_WORDS:
        return False
    cells = [c for line in block for c in _cells(line)]
    gaps = open_gaps(block, COLUMN_GAP)
    return len(gaps) >= 2 or (bool(gaps) and any(is_number(" ".join(w.text for w in c)) for c in cells))


def crossings_allowed(lines: int, tolerance: float = 0.15) -> int:
    """How many of a table's lines may cross a column edge: `tolerance` of them, at least one in a
    table of four lines or more (a spanning label, a note)."""
    return max(1, int(tolerance * lines)) if lines >= 4 else 0


def open_gaps(lines: list[Line], gap: float, tolerance: float = 0.15, head: int = 0) -> list[tuple[float, float]]:
    """x ranges between the lines' phrases (`gap` line heights apart) that at most `tolerance` of the
    lines cross (spanning notes do): the gaps between columns, left to right. The first `head` lines
    (a header, whose labels span the columns they head) may cross them all."""
    spans = [[(p[0].x0, p[-1].x1) for p in phrases(line, gap)] for line in lines]
    points = sorted({x for line in spans for s in line for x in s})
    if len(points) < 2:
        return []
    body = spans[head:]
    allowed = crossings_allowed(len(spans), tolerance)
    gaps: list[tuple[float, float]] = []
    run: list[tuple[float, float, int]] = []  # (a, b, lines crossing) of the intervals of one gap
    for a, b in zip(points, points[1:]):
        mid = (a + b) / 2
        crossing = sum(any(s0 < mid < s1 for s0, s1 in line) for line in body)
        if crossing <= allowed and b > a:
            run.append((a, b, crossing))
            continue
        if run:
            gaps.append(_clearest(run))
            run = []
    return [(a, b) for a, b in gaps if a > points[0] and b < points[-1]]


def _clearest(run: list[tuple[float, float, int]]) -> tuple[float, float]:
    """Of a gap's intervals, the widest stretch that the fewest lines cross: where the edge between
    the columns is (the tolerated crossing lines are a spanning label, or a cell reaching into it)."""
    fewest = min(c for _, _, c in run)
    stretches: list[tuple[float, float]] = []
    for a, b, c in run:
        if c != fewest:
            continue
        if stretches and stretches[-1][1] == a:
            stretches[-1] = (stretches[-1][0], b)
        else:
            stretches.append((a, b))
    return max(stretches, key=lambda s: s[1] - s[0])


def _with_header(block: list[Line], lines: list[Line], height: float) -> list[Line]:
    """The block with the header lines right above it."""
    x0, x1 = min(line.x0 for line in block), max(line.x1 for line in block)
    return [*_header_above(x0, x1, block[0].y0, lines[:lines.index(block[0])], height), *block]


def _header_above(x0: float, x1: float, top: float, lines: list[Line], height: float) -> list[Line]:
    """The header lines right above a table body that spans x0..x1 from `top` down, among `lines` (those
    above it, top to bottom): short lines (a spanning header, a wrapped column name, a date over each
    column) without a value in them, that stand over the table's columns rather than at its left edge,
    as a caption does."""
    head: list[Line] = []
    stop = None  # the line above the header
    for above in reversed(lines):
        if top - above.y1 > ROW_GAP * height or not _header_line(above, x0, x1, height):
            stop = above
            break
        head.insert(0, above)
        top = above.y0
    # A phrase set as close under a caption or a paragraph as its lines are goes on with it ("(in %)")
    while head and stop and len(_cells(head[0])) < 2 and head[0].y0 - stop.y1 < TIGHT * height:
        stop = head.pop(0)
    return head


def _header_line(line: Line, x0: float, x1: float, height: float) -> bool:
    """Whether `line` may head columns spanning x0..x1: short phrases, no value, within the columns'
    extent, and not one phrase at their left edge (a caption, a paragraph's line)."""
    values = has_value(line)
    cells = len(_cells(line))
    return not (len(line.words) > MAX_HEADER_WORDS * cells or line.x0 < x0 - height or line.x1 > x1 + height
                or values or (cells < 2 and line.x0 <= x0 + height))


def numeric_blocks(lines: list[Line]) -> list[tuple[float, float, float, float]]:
    """Boxes of what reads as a table's body whatever else it is: MIN_ROWS or more lines close together,
    each with two or more numbers standing alone, whose numbers line up (left, right or centre) in two
    or more columns."""
    if not lines:
        return []
    height = statistics.median(line.height for line in lines)
    runs: list[list[tuple[Line, list]]] = []
    for line in lines:
        numbers = [p for p in phrases(line) if is_number(" ".join(w.text for w in p))]
        if len(numbers) < 2:
            continue
        if runs and line.y0 - runs[-1][-1][0].y1 <= ROW_GAP * height:
            runs[-1].append((line, numbers))
        else:
            runs.append([(line, numbers)])
    boxes = []
    for run in runs:
        if len(run) < MIN_ROWS:
            continue
        aligned = 0
        for edge in (lambda p: p[0].x0, lambda p: p[-1].x1, lambda p: (p[0].x0 + p[-1].x1) / 2):
            bins = [[round(edge(p) / 2) for p in numbers] for _, numbers in run]  # 2-point bins
            shared = [x for x in sorted({x for line in bins for x in line})
                      if sum(any(abs(b - x) <= 1 for b in line) for line in bins) >= MIN_ROWS]
            columns = sum(1 for a, b in zip([None, *shared], shared) if a is None or b - a > 2)
            aligned = max(aligned, columns)
        if aligned >= 2:
            boxes.append((min(line.x0 for line, _ in run), run[0][0].y0,
                          max(line.x1 for line, _ in run), run[-1][0].y1))
    return boxes
