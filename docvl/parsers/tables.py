"""Tables from model text: HTML (asked for) and markdown (what models drift into).

A table comes out as {"header": [column names] or None, "rows": [[cell text]], "bbox": [4 numbers]
or None}: spanning cells are expanded (their text copied into every cell they cover), rows are padded
to the table's width, and the header is flattened to one name per column.
"""

from __future__ import annotations

import html
import math
import re

from .text import clean_answer

MAX_SPAN = 100  # a colspan or rowspan larger than this is a model glitch, not a layout
MAX_CELLS = 250_000  # spans expanded into more cells than this are a glitch too
_TAG = re.compile(r"<\s*(/?)\s*(table|thead|tbody|tfoot|tr|td|th|br|caption)\b([^<>]*)(?:>|$)", re.I)
_OTHER_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SPAN = re.compile(r"""\b(rowspan|colspan)\s*=\s*["']?\s*(\d{1,6})""", re.I)
_BBOX = re.compile(r"""\bdata-bbox\s*=\s*["']?([^"'>]*)""", re.I)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NUMERIC_CELL = re.compile(r"[-+(]?[$€£¥]?\s*[-+]?\d[\d,.\s]*%?\)?")
_SEPARATOR_CELL = re.compile(r":?-+:?")
_PIPE_SPLIT = re.compile(r"(?<!\\)\|")
_BR = re.compile(r"<br\s*/?>", re.I)


def parse_tables(text: str) -> tuple[list[dict], list[str]]:
    """All tables in the model's answer, in order, and warnings about what had to be repaired."""
    text, warnings = clean_answer(text)
    found, spans = _html_tables(text, warnings)
    masked = _mask(text, spans)
    found += _markdown_tables(masked)
    found.sort(key=lambda item: item[0])
    return [table for _, table in found], warnings


# -- HTML --------------------------------------------------------------------------------------


class _Builder:
    """Rows and cells of one HTML table as the tags arrive."""

    def __init__(self, start: int, attrs: str):
        self.start = start
        self.bbox = _bbox(attrs)
        self.rows: list[tuple[list[dict], bool]] = []  # (cells, in <thead>)
        self.row: list[dict] | None = None
        self.row_in_head = False
        self.cell: dict | None = None

    def open_row(self, in_head: bool) -> None:
        self.close_row()
        self.row, self.row_in_head = [], in_head

    def open_cell(self, attrs: str, header: bool, in_head: bool) -> None:
        if self.row is None:
            self.open_row(in_head)
        self.close_cell()
        spans = {k.lower(): int(v) for k, v in _SPAN.findall(attrs)}
        self.cell = {"parts": [], "rowspan": spans.get("rowspan", 1), "colspan": spans.get("colspan", 1),
                     "th": header}

    def close_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append(self.cell)
        self.cell = None

    def close_row(self) -> None:
        self.close_cell()
        if self.row:
            self.rows.append((self.row, self.row_in_head))
        self.row = None


def _html_tables(text: str, warnings: list[str]) -> tuple[list[tuple[int, dict]], list[tuple[int, int]]]:
    tables: list[tuple[int, dict]] = []
    spans: list[tuple[int, int]] = []
    current: _Builder | None = None
    in_head = in_caption = False
    pos = 0

    def finish(end: int, closed: bool) -> None:
        current.close_row()
        spans.append((current.start, end))
        table = _build(current.rows, current.bbox, warnings)
        if table is not None:
            tables.append((current.start, table))
            if not closed:
                warnings.append(f"table {len(tables)} was cut off before </table>; kept the rows read so far")

    for m in _TAG.finditer(text):
        if current is not None and current.cell is not None and not in_caption:
            current.cell["parts"].append(text[pos:m.start()])
        pos = m.end()
        closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name == "caption":
            in_caption = not closing
            continue
        if name == "table":
            if current is not None:
                finish(m.start() if not closing else m.end(), closing)
            current = None if closing else _Builder(m.start(), attrs)
            in_head = False
            continue
        if current is None:
            if closing or name == "br":
                continue
            current = _Builder(m.start(), "")  # rows without a <table> tag: still a table
        if name == "br":
            if current.cell is not None:
                current.cell["parts"].append("\n")
        elif name in ("thead", "tbody", "tfoot"):
            current.close_row()
            in_head = name == "thead" and not closing
        elif name == "tr":
            current.close_row() if closing else current.open_row(in_head)
        elif closing:  # </td>, </th>
            current.close_cell()
        else:
            current.open_cell(attrs, name == "th", in_head)
    if current is not None:
        if current.cell is not None and not in_caption:
            current.cell["parts"].append(text[pos:])
        finish(len(text), False)
    return tables, spans


def _bbox(attrs: str) -> list[float] | None:
    m = _BBOX.search(attrs)
    numbers = [float(n) for n in _NUMBER.findall(m.group(1))] if m else []
    return numbers if len(numbers) == 4 and all(math.isfinite(v) for v in numbers) else None


def _cell_text(parts: list[str]) -> str:
    raw = html.unescape(_OTHER_TAG.sub("", "".join(parts)))
    lines = (" ".join(line.split()) for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)


def _build(rows: list[tuple[list[dict], bool]], bbox, warnings: list[str]) -> dict | None:
    """Expand spans into a grid, then split off the header rows."""
    if not rows:
        return None
    grid: list[dict[int, str]] = [{} for _ in rows]
    clamped = False
    budget = MAX_CELLS
    for r, (cells, _) in enumerate(rows):
        c = 0
        for cell in cells:
            while c in grid[r]:
                c += 1
            rowspan, colspan = max(1, cell["rowspan"]), max(1, cell["colspan"])
            if rowspan > MAX_SPAN or colspan > MAX_SPAN or rowspan * colspan > budget:
                clamped = True
                rowspan, colspan = (1, 1) if budget < MAX_SPAN**2 else (min(rowspan, MAX_SPAN), min(colspan, MAX_SPAN))
            text = _cell_text(cell["parts"])
            for i in range(r, min(r + rowspan, len(rows))):
                for j in range(c, c + colspan):
                    grid[i].setdefault(j, text)
            budget -= rowspan * colspan
            c += colspan
    if clamped:
        warnings.append(f"a cell spanned more than {MAX_SPAN} rows or columns, or the table more than "
                        f"{MAX_CELLS} cells; spans were cut")
    width = max((max(line) + 1 for line in grid if line), default=0)
    if width * len(grid) > MAX_CELLS:
        width = max(1, MAX_CELLS // len(grid))
        warnings.append(f"the table would have more than {MAX_CELLS} cells; cut to its first {width} columns")
    matrix = [[line.get(j, "") for j in range(width)] for line in grid]
    explicit = 0
    for cells, in_head in rows:
        if not (in_head or all(cell["th"] for cell in cells)):
            break
        explicit += 1
    # <th> in every row (some models write nothing else): only the first row can be the header.
    return _table(matrix, min(explicit, len(matrix) - 1), bbox)


# -- markdown ----------------------------------------------------------------------------------


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out the HTML tables (lines kept) so their text is not read again as markdown."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _markdown_tables(text: str) -> list[tuple[int, dict]]:
    tables = []
    block: list[tuple[int, str]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if "|" in line:
            block.append((offset, line.strip()))
        else:
            tables += _markdown_block(block)
            block = []
        offset += len(line)
    return tables + _markdown_block(block)


def _markdown_block(block: list[tuple[int, str]]) -> list[tuple[int, dict]]:
    if len(block) < 2:
        return []
    rows = [_pipe_cells(line) for _, line in block]
    separator = next((i for i, cells in enumerate(rows)
                      if cells and all(_SEPARATOR_CELL.fullmatch(c.replace(" ", "")) for c in cells)), None)
    if separator is None and not all(line.startswith("|") for _, line in block):
        return []  # prose with a stray pipe
    if separator is not None:
        rows = rows[:separator] + rows[separator + 1:]
    width = max(len(cells) for cells in rows)
    matrix = [cells + [""] * (width - len(cells)) for cells in rows]
    if not matrix:
        return []
    return [(block[0][0], _table(matrix, separator, None))]


def _pipe_cells(line: str) -> list[str]:
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = []
    for cell in _PIPE_SPLIT.split(line):
        cell = html.unescape(_BR.sub("\n", cell.replace("\\|", "|")))
        cells.append("\n".join(" ".join(part.split()) for part in cell.split("\n")).strip())
    return cells


# -- header rows -------------------------------------------------------------------------------


def _table(matrix: list[list[str]], header_rows: int | None, bbox) -> dict:
    """`header_rows`: how many leading rows the markup marked as header (None or 0: unmarked)."""
    if not header_rows and _looks_like_header(matrix):
        header_rows = 1
    if not header_rows:
        return {"header": None, "rows": matrix, "bbox": bbox}
    return {"header": _column_names(matrix[:header_rows]), "rows": matrix[header_rows:], "bbox": bbox}


def _looks_like_header(matrix: list[list[str]]) -> bool:
    """Unmarked first row: a header when it is all distinct labels above a body with numbers in it."""
    if len(matrix) < 2:
        return False
    first = matrix[0]
    if any(not cell or _NUMERIC_CELL.fullmatch(cell) for cell in first) or len(set(first)) < len(first):
        return False
    return any(_NUMERIC_CELL.fullmatch(cell) for row in matrix[1:] for cell in row if cell)


def _column_names(rows: list[list[str]]) -> list[str]:
    """One name per column: the distinct labels above it joined with " / "; unique, never empty."""
    names: list[str] = []
    used: dict[str, int] = {}  # name -> last suffix tried
    for j in range(len(rows[0])):
        labels: list[str] = []
        for row in rows:
            label = row[j].replace("\n", " ")
            if label and label not in labels:
                labels.append(label)
        base = name = " / ".join(labels) or f"col{j + 1}"
        while name in used:
            used[base] = used.get(base, 1) + 1
            name = f"{base}_{used[base]}"
        used[name] = used.get(name, 1)
        names.append(name)
    return names
