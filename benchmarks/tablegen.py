"""Born-digital test tables with exact truth: seeded random PDFs drawn with PyMuPDF, each with its
ICDAR 2013 structure truth (`NAME-str.xml`, as `docvl eval` reads it), the grids as docvl should give
them (`NAME.tables.json`) and a `MANIFEST.tsv` of the set.

    python benchmarks/tablegen.py --out DIR --count N --seed S

Tables are drawn cell by cell (insert_text and lines), not through HTML, so that every cell's text box
is known exactly. What varies, document by document (cycled so that a few documents cover it all):
- borders: none, across (rules over and under the header and at the bottom), grid, frame only;
- headers of 1 to 3 stacked rows, the upper ones spanning column groups, the first column's header
  spanning all header rows;
- wrapped (multi-line) cells in a text column;
- numbers: thousands separators, decimals, negatives, percentages, dashes for missing values;
- several tables a page between paragraphs; portrait, landscape and rotated pages (/Rotate 90,
  content upright as displayed);
- a long table continued on the next page, its header repeated there or not.

Truth conventions, those of the public corpus' grids: a spanning cell's text sits in its top-left
position of the grid (the others are empty); a wrapped cell is one cell, its lines joined by "\\n";
each page's part of a continued table is its own region (rows numbered from 0 in each), one <table>
with a region per page. Boxes in the XML are in PDF points of the unrotated page, origin bottom-left
(as ICDAR 2013); in NAME.tables.json they are in points of the page as displayed, origin top-left
(as docvl's own boxes).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pymupdf

BORDERS = ("none", "across", "grid", "frame")
# The vocabulary of the public corpus' manifest: ruled (a grid), partly ruled (some rules), unruled.
KIND = {"grid": "ruled", "across": "partly ruled", "frame": "partly ruled", "none": "unruled"}

FONT, BOLD = "helv", "hebo"
SIZE = 9
LEADING = 1.25 * SIZE  # baseline to baseline of a wrapped cell's lines
PAD_X, PAD_Y = 6, 3  # inside a cell: columns are at least 2 * PAD_X apart
MARGIN = 56
WRAP_WIDTH = 120  # a text column wraps at this width
GAP = 16  # between a table and the paragraphs around it

PLACES = ["North", "South", "East", "West", "Central", "Harbour", "Valley", "Upland", "Coastal", "Lakeside",
          "Riverside", "Hill", "Border", "Metro", "Rural", "Island", "Forest", "Plain"]
KINDS = ["district", "county", "zone", "area", "ward", "sector"]
WORDS = ["annual", "budget", "report", "estimate", "revised", "figures", "include", "transfers", "from",
         "regional", "funds", "and", "exclude", "capital", "grants", "paid", "during", "the", "year",
         "services", "public", "health", "schools", "roads", "water", "housing", "staff", "costs", "other",
         "net", "of", "refunds", "survey", "average", "household", "income", "based", "on", "returns"]
LABEL_HEADERS = ["Region", "Area", "Item", "Category", "Unit"]
TEXT_HEADERS = ["Description", "Notes", "Remarks", "Purpose"]
LEAF_HEADERS = ["2019", "2020", "2021", "2022", "Q1", "Q2", "Q3", "Q4", "Actual", "Planned", "Change", "Share"]
GROUP_HEADERS = ["Revenue", "Expenditure", "Budget", "Staff", "Households", "Outturn"]
TOP_HEADERS = ["Amounts in EUR thousand", "Values by year", "Reported figures"]
SINGLE_HEADERS = ["Total", "Rate", "Balance", "Count"]


@dataclass
class Features:
    """What one generated document has; `generate` cycles through combinations of these."""

    borders: str = "grid"
    header_rows: int = 1  # 1, 2 or 3 stacked header rows
    wrap: bool = False  # a text column with multi-line cells
    tables: int = 1  # tables a page (with paragraphs around them)
    orientation: str = "portrait"  # portrait | landscape | rotated (/Rotate 90)
    continued: str | None = None  # None | "repeat" | "no-repeat": a table over two pages, header repeated or not

    def tags(self) -> list[str]:
        tags = [f"header-rows={self.header_rows}"]
        tags += ["wrap"] * self.wrap + [f"tables={self.tables}"] * (self.tables > 1)
        tags += [self.orientation] * (self.orientation != "portrait")
        tags += [f"continued-{self.continued}"] * bool(self.continued)
        return tags


@dataclass
class Cell:
    lines: list[str]  # the text as drawn, one entry a line
    row: int
    col: int
    end_row: int
    end_col: int
    align: str = "left"  # left | right | center
    bold: bool = False
    box: tuple | None = None  # text box, displayed page points, once placed

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Table:
    """One region of a table: what one page shows of it."""

    page: int
    index: int  # 1-based, top to bottom on its page (docvl's order)
    cells: list[Cell]
    n_rows: int
    n_cols: int
    header_rows: int  # header rows in this region (0 on a continuation without its header)
    borders: str
    box: tuple = (0, 0, 0, 0)  # displayed page points
    continues: dict | None = None  # {"page", "index"} of the region this one continues

    def grid(self) -> list[list[str]]:
        """Rows of cell texts; a spanning cell's text in its top-left position, "" elsewhere."""
        rows = [[""] * self.n_cols for _ in range(self.n_rows)]
        for c in self.cells:
            rows[c.row][c.col] = c.text
        return rows


@dataclass
class GeneratedDocument:
    name: str
    pdf: Path
    features: Features
    pages: int
    tables: list[Table] = field(default_factory=list)  # regions, in page order

    @property
    def kind(self) -> str:
        return KIND[self.features.borders]

    @property
    def n_tables(self) -> int:
        return sum(t.continues is None for t in self.tables)


# -- content --------------------------------------------------------------------------------------


def number(rng: random.Random) -> str:
    """A cell of a numeric column as reports print them."""
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(["-", "--", "n/a"])  # missing (base-14 fonts here are Latin-1: no en dash)
    value = rng.uniform(-2500, 250000) if roll < 0.7 else rng.uniform(-99, 99)
    if roll < 0.25:
        return f"{value:,.0f}"
    if roll < 0.7:
        return f"{value:,.2f}"
    if roll < 0.85:
        return f"{value:+.1f}%"
    return f"{value:.1f}"


def label(rng: random.Random) -> str:
    return f"{rng.choice(PLACES)} {rng.choice(KINDS)}" if rng.random() < 0.7 else rng.choice(PLACES)


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize()


def wrap(text: str, width: float, font: str = FONT, size: float = SIZE) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and pymupdf.get_text_length(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def header_cells(rng: random.Random, n_cols: int, rows: int, text_col: int | None) -> list[Cell]:
    """Header cells: one row of names, or stacked rows: column names at the bottom, group names
    spanning them above, and with three rows a title spanning every group at the top. The first
    column's header, a text column's and a lone numeric column's span all header rows, text at the top."""
    last = rows - 1
    cells = [Cell([rng.choice(LABEL_HEADERS)], 0, 0, last, 0, bold=True)]
    if text_col is not None:
        cells.append(Cell([rng.choice(TEXT_HEADERS)], 0, text_col, last, text_col, bold=True))
    numeric = [c for c in range(1, n_cols) if c != text_col]
    leaves = rng.sample(LEAF_HEADERS, len(numeric))
    if rows == 1:
        return cells + [Cell([name], 0, c, 0, c, "right", True) for c, name in zip(numeric, leaves)]
    groups, start = [], 0
    while start < len(numeric):
        size = min(rng.choice((2, 2, 3)), len(numeric) - start)
        groups.append(numeric[start:start + size])
        start += size
    grouped = [c for g in groups if len(g) > 1 for c in g]
    if rows == 3 and grouped:
        cells.append(Cell([rng.choice(TOP_HEADERS)], 0, grouped[0], 0, grouped[-1], "center", True))
    for group, name in zip(groups, rng.sample(GROUP_HEADERS, len(groups))):
        if len(group) == 1:
            cells.append(Cell([rng.choice(SINGLE_HEADERS)], 0, group[0], last, group[0], "right", True))
            continue
        cells.append(Cell([name], last - 1, group[0], last - 1, group[-1], "center", True))
        cells += [Cell([leaves.pop()], last, c, last, c, "right", True) for c in group]
    return cells


def body_rows(rng: random.Random, n_rows: int, n_cols: int, text_col: int | None) -> list[list[Cell]]:
    rows = []
    for r in range(n_rows):
        row = [Cell([label(rng)], r, 0, r, 0)]
        for c in range(1, n_cols):
            if c == text_col:
                text = sentence(rng, 2, 9)
                row.append(Cell(wrap(text, WRAP_WIDTH), r, c, r, c))
            else:
                row.append(Cell([number(rng)], r, c, r, c, "right"))
        rows.append(row)
    return rows


# -- layout ---------------------------------------------------------------------------------------


def text_width(cell: Cell) -> float:
    font = BOLD if cell.bold else FONT
    return max(pymupdf.get_text_length(line, font, SIZE) for line in cell.lines)


def cell_height(cell: Cell) -> float:
    return SIZE + LEADING * (len(cell.lines) - 1) + 2 * PAD_Y


def column_widths(cells: list[Cell], n_cols: int) -> list[float]:
    widths = [0.0] * n_cols
    for c in sorted(cells, key=lambda c: c.end_col - c.col):
        need = text_width(c) + 2 * PAD_X
        have = sum(widths[c.col:c.end_col + 1])
        if need > have:  # a span wider than its columns widens its last one
            widths[c.end_col] += need - have
    return widths


def row_heights(cells: list[Cell], n_rows: int) -> list[float]:
    heights = [SIZE + 2 * PAD_Y] * n_rows
    for c in sorted(cells, key=lambda c: c.end_row - c.row):
        have = sum(heights[c.row:c.end_row + 1])
        if cell_height(c) > have:
            heights[c.end_row] += cell_height(c) - have
    return heights


def place(cells: list[Cell], xs: list[float], ys: list[float]) -> None:
    """Each cell's text box: its lines from the top of the cell, aligned in the columns it spans."""
    ascender, descender = pymupdf.Font(FONT).ascender, pymupdf.Font(FONT).descender
    for c in cells:
        left, right = xs[c.col] + PAD_X, xs[c.end_col + 1] - PAD_X
        width = text_width(c)
        x0 = {"left": left, "right": right - width, "center": (left + right - width) / 2}[c.align]
        top = ys[c.row] + PAD_Y
        c.box = (x0, top, x0 + width, top + SIZE * (ascender - descender) + LEADING * (len(c.lines) - 1))


def draw_cell_text(page, cell: Cell, to_page) -> None:
    font = BOLD if cell.bold else FONT
    ascender = pymupdf.Font(FONT).ascender
    x0, x1 = cell.box[0], cell.box[2]
    for k, line in enumerate(cell.lines):
        width = pymupdf.get_text_length(line, font, SIZE)
        x = {"left": x0, "right": x1 - width, "center": (x0 + x1 - width) / 2}[cell.align]
        baseline = cell.box[1] + SIZE * ascender + LEADING * k
        page.insert_text(to_page(x, baseline), line, fontname=font, fontsize=SIZE, rotate=page.rotation)


def draw_borders(page, borders: str, cells: list[Cell], xs: list[float], ys: list[float], header_rows: int,
                 to_page) -> None:
    """The table's rules; `cells` covers every grid position (empty ones too) for the grid's edges."""
    segments: set[tuple] = set()
    left, right, top, bottom = xs[0], xs[-1], ys[0], ys[-1]
    if borders == "frame":
        segments |= {(left, top, right, top), (left, bottom, right, bottom),
                     (left, top, left, bottom), (right, top, right, bottom)}
    elif borders == "across":
        segments |= {(left, y, right, y) for y in {top, ys[header_rows], bottom}}
    elif borders == "grid":  # every cell's edges, spans unbroken
        for c in cells:
            x0, y0, x1, y1 = xs[c.col], ys[c.row], xs[c.end_col + 1], ys[c.end_row + 1]
            segments |= {(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)}
    for x0, y0, x1, y1 in sorted(segments):
        page.draw_line(to_page(x0, y0), to_page(x1, y1), width=0.6)


def lay_out_table(page, table: Table, header: list[Cell], body: list[list[Cell]], widths: list[float],
                  x0: float, y0: float, to_page) -> float:
    """Draws a region (its header rows, then its body rows) at (x0, y0); returns its bottom."""
    n_header = table.header_rows
    cells = region_cells(header, body, n_header)
    heights = row_heights(cells, n_header + len(body))
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)
    ys = [y0]
    for h in heights:
        ys.append(ys[-1] + h)
    place(cells, xs, ys)
    covered = {(r, c) for cell in cells for r in range(cell.row, cell.end_row + 1)
               for c in range(cell.col, cell.end_col + 1)}
    empties = [Cell([""], r, c, r, c) for r in range(len(heights)) for c in range(len(widths))
               if (r, c) not in covered]
    table.cells = sorted((c for c in cells if c.text), key=lambda c: (c.row, c.col))
    table.n_rows, table.n_cols = len(heights), len(widths)
    table.box = (xs[0], ys[0], xs[-1], ys[-1])
    for cell in table.cells:
        draw_cell_text(page, cell, to_page)
    draw_borders(page, table.borders, cells + empties, xs, ys, n_header, to_page)
    return ys[-1]


def region_cells(header: list[Cell], body: list[list[Cell]], header_rows: int) -> list[Cell]:
    """Fresh cells of a region (placing sets their boxes; a repeated header is placed again), body
    rows numbered below the header."""
    return [replace(c) for c in header] + [replace(c, row=header_rows + r, end_row=header_rows + r)
                                           for r, row in enumerate(body) for c in row]


def table_height(header: list[Cell], body: list[list[Cell]], header_rows: int) -> float:
    return sum(row_heights(region_cells(header, body, header_rows), header_rows + len(body)))


# -- documents ------------------------------------------------------------------------------------


class Pages:
    """The document's pages, written top to bottom in displayed coordinates."""

    def __init__(self, doc, orientation: str):
        self.doc, self.orientation = doc, orientation
        self.page = None
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        a4 = (595, 842)
        size = a4[::-1] if self.orientation == "landscape" else a4
        self.page = self.doc.new_page(width=size[0], height=size[1])
        if self.orientation == "rotated":  # a landscape page stored portrait and turned to be read
            self.page.set_rotation(90)
        self.y = MARGIN

    @property
    def number(self) -> int:
        return self.page.number + 1

    @property
    def width(self) -> float:
        return self.page.rect.width  # as displayed

    @property
    def bottom(self) -> float:
        return self.page.rect.height - MARGIN

    def to_page(self, x: float, y: float):
        """Displayed coordinates to the page's own (unrotated) ones, which drawing takes."""
        return pymupdf.Point(x, y) * self.page.derotation_matrix

    def height_of(self, text: str, font: str = FONT, size: float = 10) -> float:
        return 1.3 * size * len(wrap(text, self.width - 2 * MARGIN, font, size)) + GAP

    def paragraph(self, text: str, font: str = FONT, size: float = 10) -> None:
        """Text lines across the page, then a gap; the last paragraph of a page may run past its bottom
        margin, never off the page."""
        for line in wrap(text, self.width - 2 * MARGIN, font, size):
            self.y += 1.3 * size
            self.page.insert_text(self.to_page(MARGIN, self.y), line, fontname=font, fontsize=size,
                                  rotate=self.page.rotation)
        self.y += GAP


def table_spec(rng: random.Random, features: Features, width: float, body: int):
    """Header cells, body rows and column widths of a table that fits `width` points."""
    n_cols = rng.randint(4, 6)  # a stacked header has at least two numeric columns to group
    while True:
        text_col = 1 if features.wrap else None
        header = header_cells(rng, n_cols, features.header_rows, text_col)
        rows = body_rows(rng, body, n_cols, text_col)
        widths = column_widths(header + [c for row in rows for c in row], n_cols)
        if sum(widths) <= width or n_cols <= 4:
            return header, rows, widths
        n_cols -= 1


def write_document(out_dir: Path, name: str, features: Features, rng: random.Random) -> GeneratedDocument:
    """NAME.pdf with the features asked for; its truth files are written by `write_truth`."""
    doc = pymupdf.open()
    pages = Pages(doc, features.orientation)
    result = GeneratedDocument(name, out_dir / f"{name}.pdf", features, 0)
    pages.paragraph(sentence(rng, 4, 8), BOLD, 12)
    n_tables = 1 if features.continued else features.tables
    row_height = SIZE + 2 * PAD_Y
    for t in range(n_tables):
        if features.continued:  # longer than a page holds: it goes on over the next
            body = int((pages.bottom - MARGIN) / row_height * rng.uniform(1.1, 1.5))
        else:
            body = rng.randint(3, 9 if n_tables > 1 else 14)
        header, rows, widths = table_spec(rng, features, pages.width - 2 * MARGIN, body)
        text, caption = sentence(rng, 12, 40), f"Table {t + 1}. {sentence(rng, 3, 7)}"
        need = pages.height_of(text) + pages.height_of(caption) + table_height(header, rows, features.header_rows)
        if not features.continued and pages.y + need > pages.bottom:
            pages.new_page()
        pages.paragraph(text)
        pages.paragraph(caption, BOLD)
        x0 = MARGIN + rng.uniform(0, max(0.0, pages.width - 2 * MARGIN - sum(widths)) / 2)
        previous = None
        while rows:
            with_header = previous is None or features.continued == "repeat"
            on_page = fitting_rows(header if with_header else [], rows, features.header_rows,
                                   pages.bottom - pages.y)
            if on_page == 0 and pages.y > MARGIN:
                pages.new_page()
                continue
            on_page = max(on_page, 1)
            index = 1 + sum(r.page == pages.number for r in result.tables)
            region = Table(pages.number, index, [], 0, 0, features.header_rows if with_header else 0,
                           features.borders, continues=previous)
            pages.y = lay_out_table(pages.page, region, header if with_header else [], rows[:on_page], widths,
                                    x0, pages.y, pages.to_page) + GAP
            result.tables.append(region)
            rows = rows[on_page:]
            previous = {"page": region.page, "index": region.index}
            if rows:
                pages.new_page()
    pages.paragraph(sentence(rng, 10, 30))
    result.pages = doc.page_count
    doc.set_metadata({"title": name, "producer": "docvl benchmarks/tablegen.py", "creationDate": "",
                      "modDate": ""})
    doc.save(result.pdf, garbage=3, deflate=True, no_new_id=True)
    doc.close()
    return result


def fitting_rows(header: list[Cell], rows: list[list[Cell]], header_rows: int, room: float) -> int:
    """How many of `rows` fit in `room` points under the header (none if not even one does)."""
    n = 0
    while n < len(rows) and table_height(header, rows[:n + 1], header_rows if header else 0) <= room:
        n += 1
    return n


# -- truth ----------------------------------------------------------------------------------------


def icdar_xml(result: GeneratedDocument, page_heights: dict[int, tuple]) -> str:
    """ICDAR 2013 structure: a <table> per table, a <region> per page it is on, its cells with their
    text box in PDF points of the unrotated page, origin bottom-left."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<document filename={quoteattr(result.pdf.name)}>"]
    table_id = 0
    for region in result.tables:
        if region.continues is None:
            if table_id:
                lines.append("</table>")
            table_id += 1
            lines.append(f'<table id="{table_id}">')
        derotate, height = page_heights[region.page]
        lines.append(f'<region id="{region.page}" page="{region.page}">')
        for k, c in enumerate(region.cells):
            ends = (f' end-row="{c.end_row}"' * (c.end_row != c.row) + f' end-col="{c.end_col}"' * (c.end_col != c.col))
            r = pymupdf.Rect(c.box) * derotate
            box = f'x1="{r.x0:.2f}" y1="{height - r.y1:.2f}" x2="{r.x1:.2f}" y2="{height - r.y0:.2f}"'
            lines.append(f'<cell id="{k}" start-row="{c.row}" start-col="{c.col}"{ends}>'
                         f'<bounding-box {box}/><content>{escape(c.text)}</content></cell>')
        lines.append("</region>")
    if table_id:
        lines.append("</table>")
    lines.append("</document>")
    return "\n".join(lines) + "\n"


def truth_json(result: GeneratedDocument) -> dict:
    return {"generator": "docvl benchmarks/tablegen.py", "file": result.pdf.name, "kind": result.kind,
            "borders": result.features.borders, "features": result.features.tags(), "pages": result.pages,
            "tables": [{"page": t.page, "index": t.index, "header_rows": t.header_rows, "rows": t.grid(),
                        "box": [round(v, 2) for v in t.box], "continues": t.continues} for t in result.tables]}


def write_truth(result: GeneratedDocument) -> None:
    with pymupdf.open(result.pdf) as doc:
        pages = {p.number + 1: (p.derotation_matrix, p.mediabox.height) for p in doc}
    result.pdf.with_name(f"{result.name}-str.xml").write_text(icdar_xml(result, pages), encoding="utf-8")
    result.pdf.with_name(f"{result.name}.tables.json").write_text(
        json.dumps(truth_json(result), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def text_mismatches(result: GeneratedDocument) -> list[str]:
    """Truth cells whose words are not the page's words inside the cell's box, in order (empty when the
    truth is exact): the page's words as PyMuPDF extracts them, in displayed coordinates."""
    problems = []
    with pymupdf.open(result.pdf) as doc:
        for region in result.tables:
            page = doc[region.page - 1]
            words = [(pymupdf.Rect(w[:4]) * page.rotation_matrix, w[4]) for w in page.get_text("words")]
            for c in region.cells:
                box = pymupdf.Rect(c.box) + (-0.5, -0.5, 0.5, 0.5)
                found = [text for r, text in sorted(words, key=lambda w: (round(w[0].y0), w[0].x0))
                         if box.contains(pymupdf.Point((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2))]
                if found != c.text.split():
                    problems.append(f"{result.name} p{region.page} t{region.index} ({c.row},{c.col}): "
                                    f"truth {c.text!r}, page {' '.join(found)!r}")
    return problems


# -- a set ----------------------------------------------------------------------------------------


def features_for(i: int, rng: random.Random) -> Features:
    """Document i's features: borders cycle fastest, then the other features in turn, so that any 16
    consecutive documents cover every border style with every feature."""
    variant = (i // len(BORDERS)) % 4
    return Features(
        borders=BORDERS[i % len(BORDERS)],
        header_rows=(1, 2, 3, rng.choice((1, 2)))[variant],
        wrap=variant in (1, 3) or rng.random() < 0.2,
        tables=(1, 2, 3, 1)[variant],
        orientation=("portrait", "landscape", "portrait", "rotated")[variant],
        continued=(None, None, None, ("repeat", "no-repeat")[(i // 2 + i // 16) % 2])[variant],
    )


def generate(out_dir, count: int, seed: int) -> list[GeneratedDocument]:
    """Writes `count` documents (NAME.pdf, NAME-str.xml, NAME.tables.json) and MANIFEST.tsv into
    out_dir. The same seed gives the same files, byte for byte; document i does not depend on count."""
    out = Path(out_dir)
    results = []
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        name = f"gen-{seed}-{i:03d}"
        results.append(make(out, name, features_for(i, rng), rng))
    manifest = ["file\tkind\tn_tables\tregions\tpages\tborders\tfeatures"]
    manifest += [f"{r.pdf.name}\t{r.kind}\t{r.n_tables}\t{len(r.tables)}\t{r.pages}\t{r.features.borders}\t"
                 f"{','.join(r.features.tags())}" for r in results]
    (out / "MANIFEST.tsv").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    return results


def make(out_dir, name: str, features: Features, rng: random.Random) -> GeneratedDocument:
    """One document and its truth; raises if the page's words do not match the truth (a generator bug)."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    result = write_document(Path(out_dir), name, features, rng)
    write_truth(result)
    problems = text_mismatches(result)
    if problems:
        raise RuntimeError(f"tablegen: truth does not match the page: {problems[0]}")
    return result


# -- comparing docvl's tables with the truth ------------------------------------------------------


def expected_record(table: Table) -> dict:
    """The table record docvl should give for a region: its header rows as one name per column (the
    distinct labels over the column, a spanning one over each column it spans, top to bottom, joined
    by " / "; a wrapped label's lines by a space), as the README promises; the other rows as rows. A
    region without header rows (a continuation) has its first row as header."""
    grid = table.grid()
    n = max(1, table.header_rows)
    if n == 1:
        return {"page": table.page, "index": table.index, "header": grid[0], "rows": grid[1:]}
    names = []
    for j in range(table.n_cols):
        labels = []
        for c in sorted((c for c in table.cells if c.row < n and c.col <= j <= c.end_col), key=lambda c: c.row):
            label = " ".join(c.lines)
            if label and label not in labels:
                labels.append(label)
        names.append(" / ".join(labels))
    return {"page": table.page, "index": table.index, "header": names, "rows": grid[n:]}


def round_trip_differences(truth: list[Table], records: list[dict]) -> list[str]:
    """Where docvl's table records differ from the truth regions, paired by page and index: missing or
    extra tables, the table a region continues, grid shape, header names and row cells (texts compared
    with runs of whitespace as one space; empty list: exact)."""
    def norm(grid):
        return [[" ".join(str(c or "").split()) for c in row] for row in grid]

    found = {(r["page"], r["index"]): r for r in records}
    problems = []
    for t in truth:
        want = expected_record(t)
        got = found.pop((t.page, t.index), None)
        if got is None:
            problems.append(f"p{t.page} t{t.index}: not found")
            continue
        if got.get("continues") != t.continues:
            problems.append(f"p{t.page} t{t.index}: continues {got.get('continues')}, truth {t.continues}")
        expect = norm([want["header"], *want["rows"]])
        have = norm([got.get("header") or [], *got.get("rows", [])])
        if [len(r) for r in have] != [len(r) for r in expect]:
            problems.append(f"p{t.page} t{t.index}: shape {len(have)}x{max(map(len, have), default=0)}, "
                            f"truth {len(expect)}x{len(expect[0])}")
            continue
        for r, (a, b) in enumerate(zip(expect, have)):
            for c, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    where = "header" if r == 0 else f"row {r}"
                    problems.append(f"p{t.page} t{t.index} {where} col {c}: {y!r}, truth {x!r}")
    problems += [f"p{page} t{index}: not in the truth" for page, index in found]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write into")
    parser.add_argument("--count", type=int, default=16, help="documents (16 cover every combination)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    results = generate(args.out, args.count, args.seed)
    print(f"tablegen: {len(results)} documents, {sum(r.n_tables for r in results)} tables in {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
