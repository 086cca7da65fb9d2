"""Tables from a born-digital page: regions (regions.py), then each region's grid from its words.

- columns: x ranges that no text line crosses (spanning headers tolerated), plus vertical rulings;
- rows: text lines, merged where horizontal rulings box several lines into one row, and, in tables
  whose rows are not ruled, where a line only continues the text cells of the line above (a wrapped
  cell: no stub, no number, every phrase under a text cell of the row above);
- cell text: the phrases whose left edge falls in the cell; a phrase crossing a column edge spans;
- header: the rows above the first ruling inside the table (else the first row), plus the rows under
  a header row whose stub (first cell) is empty, as a stacked header's upper rows are (not a lone
  label under a rule: a section of the body); collapsed into
  one name per column: a spanning label over each column it spans ("2023 / H1"), the lines of a
  wrapped name joined by a space.
"""

from __future__ import annotations

from dataclasses import dataclass

import pymupdf

from .lines import Line, group_lines, has_value, is_number, is_value, phrases
from .regions import Region, chart_strokes, crossings_allowed, find_regions, is_chart, numeric_blocks, open_gaps
from .words import PageWords, Word, read_words

# Rulings box several lines into one row only in tables with at least this many ruled bands (a table
# ruled only above and below its header has a header band and a body band of many rows).
MIN_BANDS = 3


@dataclass
class Cell:
    words: list[Word]
    span: int = 1  # columns it covers

    @property
    def text(self) -> str:
        return cell_text(self.words)


def cell_text(words: list[Word]) -> str:
    return "\n".join(" ".join(w.text for w in line.words) for line in group_lines(words))


def column_edges(lines: list[Line], ruled: list[float]) -> dict[float, float]:
    """x positions that separate columns, each with the width of white space it stands in: gaps few
    lines of the body cross (a header's labels over numbers may span columns), and vertical rulings
    as few lines cross (a spanning cell), in place of the gap they stand in and infinitely wide: a
    ruling is never closed."""
    edges = {(a + b) / 2: b - a for a, b in open_gaps(lines, gap=0.6, head=header_lines(lines))}
    gaps = list(edges)
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    for x in ruled:
        crossed = sum(any(w.x0 < x < w.x1 for w in line.words) for line in lines)
        if left < x < right and crossed <= crossings_allowed(len(lines)):
            for g in gaps:
                if abs(g - x) <= max(3.0, edges.get(g, 0.0) / 2):
                    edges.pop(g, None)
            edges[x] = float("inf")
    return edges


def header_lines(lines: list[Line]) -> int:
    """Lines above the first one with a number standing alone in it (a year is a label), when that is
    not past half of the table: a header's labels over numeric columns."""
    for i, line in enumerate(lines[: (len(lines) + 1) // 2]):
        if has_value(line):
            return i
    return 0


def row_groups(lines: list[Line], ruled: list[float], stub_edge: float) -> list[list[Line]]:
    """Lines into rows: in a table ruled into MIN_BANDS or more bands, a band is one row (its lines
    wrapped cells) unless two of its lines read as whole rows (text in the stub, left of `stub_edge`,
    and right of it); other bands are a row per line, and so is each line above the first ruling (a
    header set over a ruled or shaded body)."""
    first = min(ruled, default=float("inf"))
    bands: list[list[Line]] = []
    for line in lines:
        if bands and line.cy > first and not any(bands[-1][-1].cy < y < line.cy for y in ruled):
            bands[-1].append(line)
        else:
            bands.append([line])
    rows: list[list[Line]] = []
    for band in bands:
        whole = sum(line.x0 < stub_edge < line.x1 for line in band)
        if len(bands) >= MIN_BANDS and whole <= 1:
            rows.append(band)
        else:
            rows.extend([line] for line in band)
    return rows


def _split(phrase: list[Word], edges: list[float]) -> list[list[Word]]:
    """A phrase cut where a column edge falls between two of its words (a label set close to the
    number beside it), whole where a word crosses the edge."""
    out = [[phrase[0]]]
    for w in phrase[1:]:
        if any(out[-1][-1].x1 <= e <= w.x0 for e in edges):
            out.append([w])
        else:
            out[-1].append(w)
    return out


def _row_cells(row: list[Line], edges: list[float], body: bool) -> list[Cell | None]:
    """Cells of one row; in the table's body (`body`), phrases are cut at column edges."""
    cells: list[Cell | None] = [None] * (len(edges) + 1)
    for line in row:
        for phrase in (p for whole in phrases(line) for p in (_split(whole, edges) if body else [whole])):
            col = sum(phrase[0].x0 >= e for e in edges)
            last = sum(phrase[-1].x1 > e for e in edges)
            if cells[col] is None:
                cells[col] = Cell([])
            cells[col].words.extend(phrase)
            cells[col].span = max(cells[col].span, last - col + 1)
    return cells


def _continues(cells: list[Cell | None], above: list[Cell | None]) -> bool:
    """A line that only carries on the text cells of the row above: a wrapped cell, not a row. A line
    with only a stub continues one whose stub is plainly unfinished (ends in a comma, a hyphen, an
    opening bracket) or itself starts in lower case or with a bracket."""
    filled = [k for k, c in enumerate(cells) if c]
    if filled == [0] and above[0] and not is_number(cells[0].text):
        head = above[0].text.rstrip()
        return head.endswith((",", "-", "(", "/", "&")) or cells[0].text[:1].islower() or cells[0].text[:1] == "("
    return (bool(filled) and cells[0] is None
            and all(above[k] and not is_number(above[k].text) and not is_number(cells[k].text)
                    for k in filled))


def build_rows(words: list[Word], region: Region) -> tuple[list[list[Cell | None]], list[float], list[float]]:
    """The region's rows of cells (None: empty), the y where each row's last line sits, and the x of
    the edges between its columns. A gap in
    the white space that leaves a column with a single cell is no column gap (the spacing of one
    justified or wrapped cell): it is closed, the narrowest gap first; rulings are always kept."""
    lines = group_lines(words)
    if not lines:
        return [], [], []
    widths = column_edges(lines, region.cols)
    edges = sorted(widths)
    while True:
        rows, tops = _rows(lines, edges, region)
        filled = [sum(row[k] is not None for row in rows) for k in range(len(edges) + 1)]
        weak = [(min(filled[i], filled[i + 1]), widths[e], i) for i, e in enumerate(edges)
                if widths[e] < float("inf")]
        if not weak or min(weak)[0] > 1:
            return rows, tops, edges
        del edges[min(weak)[2]]


def _rows(lines: list[Line], edges: list[float], region: Region) -> tuple[list[list[Cell | None]], list[float]]:
    # any rule between two lines parts them, a partial one too (the rule under a column's label)
    ruled_rows = [y for y in [*region.rows, *(r[2] for r in region.rules)]
                  if region.box[1] + 1 < y < region.box[3] - 1]
    head = header_lines(lines)
    body_top = lines[head].y0 if head else -1.0
    rows: list[list[Cell | None]] = []
    tops: list[float] = []  # y of each row's last line
    for group in row_groups(lines, region.rows, edges[0] if edges else float("inf")):
        cells = _row_cells(group, edges, body=group[0].y0 >= body_top)
        # Only where no rule separates them: a ruled row is a row, however it reads.
        ruled_between = rows and any(tops[-1] < y < group[0].cy for y in ruled_rows)
        if rows and not ruled_between and _continues(cells, rows[-1]):
            for k, c in enumerate(cells):
                if c:
                    rows[-1][k].words.extend(c.words)
            continue
        rows.append(cells)
        tops.append(group[-1].cy)
    return rows, tops


def header_rows(rows: list[list[Cell | None]], tops: list[float], region: Region) -> int:
    """How many leading rows are the header: those above the first ruling inside the table (at least
    one), then each next row without numbers that has an empty stub (a lower header row: the stub's
    label stands in one row) or lies under a row with an empty stub and a spanning label (an upper
    header row over the row with the stub's label)."""
    inner = [y for y in region.rows if region.box[1] + 2 < y < region.box[3] - 2 and y > tops[0]]
    n = sum(t < inner[0] for t in tops) if inner else 1
    n = max(1, min(n, len(rows) - 1))
    while (n < len(rows) - 1 and not _numeric_row(rows[n])
           and (rows[n][0] is None or _spanning_head(rows[n - 1]))
           and not (_lone_label(rows[n]) and any(tops[n - 1] < y < tops[n] for y in inner))):
        n += 1
    return n


def _lone_label(cells: list[Cell | None]) -> bool:
    """A row of one label across columns: under a rule, a section of the body names itself so (a
    header row under a spanning label has a label per column; a column name's wrapped line stays in
    its column)."""
    filled = [c for c in cells if c is not None]
    return len(filled) == 1 and filled[0].span > 1


def _underlined(cells: list[Cell | None], edges: list[float], rules: list[tuple[float, float, float]]) -> None:
    """A header label with a rule right under it, wider than it, spans the columns the rule covers (a
    label centred over the columns it groups, underlined over them, as financial statements and
    booktabs' partial rules set it), where those columns hold no other label of its row; the stub
    is never under a spanning label."""
    for k, cell in enumerate(cells):
        if cell is None:
            continue
        x0, x1 = min(w.x0 for w in cell.words), max(w.x1 for w in cell.words)
        y0, y1 = min(w.y0 for w in cell.words), max(w.y1 for w in cell.words)
        h = y1 - y0
        for a, b, y in rules:
            if not (a <= x0 and x1 <= b and 0 <= y - y1 <= h):
                continue
            first = sum(a + h / 2 >= e for e in edges)
            last = sum(b - h / 2 > e for e in edges)
            if 1 <= first <= k and last >= k + cell.span - 1 and all(
                    cells[j] is None for j in range(first, last + 1) if j != k):
                cells[k] = None
                cells[first] = cell
                cell.span = last - first + 1
            break


def _spanning_head(cells: list[Cell | None]) -> bool:
    """A header row over another: an empty stub and a label spanning columns."""
    return cells[0] is None and any(c and c.span > 1 for c in cells)


def _numeric_row(cells: list[Cell | None]) -> bool:
    return any(c and is_value(c.text) for c in cells[1:])


def label_extents(rows: list[list[Cell | None]]) -> list[dict[int, list[int]]]:
    """Each header row's labels (by the column they stand in) with the columns [first, last] they head:
    those they span, and a label over spanning labels heads all of their columns (a group's name over
    its sub-groups), found from the lowest header row up."""
    width = len(rows[0])
    extents = [{k: [k, min(width, k + c.span) - 1] for k, c in enumerate(row) if c} for row in rows]
    for upper, lower in reversed(list(zip(extents, extents[1:]))):
        for ext in upper.values():
            for a, b in lower.values():
                if b > a and a <= ext[1] and ext[0] <= b:
                    ext[0], ext[1] = min(ext[0], a), max(ext[1], b)
    return extents


def column_names(rows: list[list[Cell | None]]) -> list[str]:
    """One name per column from stacked header rows: a spanning label heads every column it spans, and
    those of the spanning labels under it (joined to the label under it by " / "); lines of one
    wrapped name are joined by a space."""
    parts: list[list[tuple[str, bool]]] = [[] for _ in rows[0]]  # (label, spans) per column
    for row, ext in zip(rows, label_extents(rows)):
        for k, (first, last) in sorted(ext.items(), key=lambda e: e[1][0]):
            text = row[k].text.replace("\n", " ")
            for j in range(first, last + 1):
                parts[j].append((text, last > first))
    names = []
    for labels in parts:
        name = ""
        for i, (text, spans) in enumerate(labels):
            if not name:
                name = text
            elif spans or labels[i - 1][1]:
                name += " / " + text
            else:
                name += " " + text
        names.append(name)
    return names


def stacked_header(rows: list[list[Cell | None]], keep: list[int]) -> list[list[tuple[str, int]]]:
    """Header rows as printed, over the columns `keep`: each a list of (label, columns it spans), an
    empty label where none stands."""
    out = []
    for row, ext in zip(rows, label_extents(rows)):
        heads = [next((k for k, (a, b) in ext.items() if a <= j <= b), None) for j in keep]
        cells: list[tuple[str, int]] = []
        for i, k in enumerate(heads):
            if k is not None and i and heads[i - 1] == k:
                cells[-1] = (cells[-1][0], cells[-1][1] + 1)
            else:
                cells.append((row[k].text.replace("\n", " ") if k is not None else "", 1))
        if any(text for text, _ in cells):
            out.append(cells)
    return out


def build_table(words: list[Word], region: Region) -> tuple[list[list[str]], list[list[tuple[str, int]]]]:
    """The region's grid, its header collapsed into the first row (one name per column), and, when its
    header has several rows and a label in them spans columns, those rows as printed (stacked_header)."""
    rows, tops, edges = build_rows(words, region)
    if not rows:
        return [], []
    n = header_rows(rows, tops, region) if len(rows) > 1 else len(rows)
    for row in rows[:n]:
        _underlined(row, edges, region.rules)
    grid = [column_names(rows[:n])] + [[c.text if c else "" for c in row] for row in rows[n:]]
    grid = [row for row in grid if any(row)]
    if not grid:
        return [], []
    keep = [k for k in range(len(grid[0])) if any(row[k] for row in grid)]
    head = stacked_header(rows[:n], keep) if n > 1 else []
    spanning = len(head) > 1 and any(span > 1 for row in head for _, span in row)
    return [[row[k] for k in keep] for row in grid], head if spanning else []


def page_tables(page, text: PageWords, number: int, spans: bool = False) -> list[dict]:
    """Tables of one page as records: {"page", "index", "header", "rows", "box", "box_px"}, and with
    `spans`, "head": the header rows as printed where there are several (build_table). A page whose
    text mostly runs up or down (a landscape table set on a portrait page) is read turned so that it
    runs left to right; its boxes are given back in the page's displayed coordinates."""
    if sum(not w.horizontal for w in text.words) > len(text.words) / 2:
        turn = _reading_turn(page)
        if turn:
            return _turned_tables(page, number, turn, spans)
    return _tables(page, [w for w in text.words if w.horizontal], number, pymupdf.Identity, spans)


def _tables(page, words: list[Word], number: int, to_page, spans: bool) -> list[dict]:
    records = []
    for region in find_regions(page, words):
        grid, head = build_table([w for w in words if region.holds(w)], region)
        if len(grid) < 2 or len(grid[0]) < 2:
            continue  # a box around text, not a table
        box = pymupdf.Rect(region.box) * to_page
        records.append({"page": number, "index": len(records) + 1, "header": grid[0], "rows": grid[1:],
                        "box": [round(v, 2) for v in box], "box_px": None})
        if spans and head:
            records[-1]["head"] = head
    return records


def _reading_turn(page) -> int:
    """Degrees to add to the page's rotation so that most of its text lines read left to right."""
    up = down = 0
    m = page.rotation_matrix
    for block in page.get_text("dict", flags=0)["blocks"]:
        for line in block.get("lines", []):
            d = pymupdf.Point(line["dir"]) * pymupdf.Matrix(m.a, m.b, m.c, m.d, 0, 0)
            up += d.y < -0.99
            down += d.y > 0.99
    return 90 if up > down else 270 if down else 0


def _turned_tables(page, number: int, turn: int, spans: bool) -> list[dict]:
    """The page's tables read with `turn` degrees more rotation, the page's own rotation restored."""
    rotation = page.rotation
    to_page = page.rotation_matrix
    try:
        page.set_rotation((rotation + turn) % 360)
        to_page = page.derotation_matrix * to_page  # turned display -> unrotated -> displayed
        words = [w for w in read_words(page).words if w.horizontal]
        return _tables(page, words, number, to_page, spans)
    finally:
        page.set_rotation(rotation)


def unexplained(page, text: PageWords, tables: list[dict]) -> list[list[float]]:
    """Boxes (page points) of aligned columns of numbers that lie outside every table found and every
    chart: a table the text layer shows but docvl did not read as one (set in a way no rule above
    covers)."""
    def inside(w: Word) -> bool:
        return any(t["box"][0] - 1 <= w.cx <= t["box"][2] + 1 and t["box"][1] - 1 <= w.cy <= t["box"][3] + 1
                   for t in tables)

    left = [w for w in text.words if w.horizontal and not inside(w)]
    blocks = numeric_blocks(group_lines(left))
    if blocks:
        charts = chart_strokes(page.get_drawings(), page.rotation_matrix)
        blocks = [b for b in blocks if not is_chart(b, charts)]
    return [[round(v, 2) for v in box] for box in blocks]
