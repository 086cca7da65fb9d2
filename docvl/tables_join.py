"""Tables continued on the next page: linked in the page records, or joined into one table.

A table continues another when
- it is the first table of its page and the other the last table of the page before;
- both have the same number of columns;
- where both boxes are known, their left and right edges match (EDGE_TOLERANCE), the other ends in
  the lower half of its page and this one starts in the upper half of its own;
- its header row repeats the other's header, or it has none, or its header row is plainly a data
  row: it has a number, each cell is blank or of a kind (number, year, text) its column has in the
  other's rows, and its kinds are not the header's. So tables of all-text columns continued without
  their header are not linked: their first row cannot be told from a new table's header.

Linking adds `"continues": {"page": N, "index": K}` to the continuation only, pointing at the table
it continues; the first part gets nothing, so that a link is stated once. Joining appends each
continuation's rows (a repeated header dropped, a data row taken for a header kept as a row) to the
table it continues, which then carries `row_pages` (each row's page) and `parts` (each part's page,
index and boxes); the continuations leave their pages' lists. Both are pure: new records, inputs
left as they were.
"""

from __future__ import annotations

import re

# Left and right edges of two parts of one table differ by at most this share of the page's width.
EDGE_TOLERANCE = 0.05
DEFAULT_PAGE_WIDTH = 612.0  # points, for pages whose record has no width
_NUMBER = re.compile(r"[(]?[-+\u2212]?[$\u20ac\u00a3]?\d[\d,.' \u00a0]*%?[)]?")
_YEAR = re.compile(r"(19|20)\d\d")
_MISSING = {"-", "--", "\u2013", "\u2014", "\u2212", "n/a", "na", "..", "...", "\u2026", "x"}


def link_continued(pages: list[dict]) -> list[dict]:
    """The page records with `continues` on every table that continues one on the page before."""
    links = continuations(pages)
    out = []
    for page in pages:
        if not page.get("tables"):
            out.append(page)
            continue
        tables = [dict(t, continues=links[_key(t)]) if _key(t) in links else t for t in page["tables"]]
        out.append(dict(page, tables=tables))
    return out


def join_continued(pages: list[dict]) -> list[dict]:
    """The page records with each continued table joined into its first part, on its first page."""
    links = continuations(pages)
    if not links:
        return pages
    by_key = {_key(t): t for p in pages for t in p.get("tables") or []}
    first_of: dict[tuple, tuple] = {}  # a part -> the first part of its table
    joined: dict[tuple, dict] = {}
    for page in pages:
        for t in page.get("tables") or []:
            key = _key(t)
            if key not in links:
                continue
            before = (links[key]["page"], links[key]["index"])
            head = first_of.get(before, before)
            first_of[key] = head
            table = joined.get(head) or _start(by_key[head])
            joined[head] = _append(table, t, repeated=repeats_header(by_key[head], t))
    out = []
    for page in pages:
        if not page.get("tables"):
            out.append(page)
            continue
        tables = [joined.get(_key(t), t) for t in page["tables"] if _key(t) not in first_of]
        out.append(dict(page, tables=tables))
    return out


def continuations(pages: list[dict]) -> dict[tuple, dict]:
    """(page, index) of each continuation -> {"page", "index"} of the table it continues."""
    links: dict[tuple, dict] = {}
    heads: dict[tuple, dict] = {}  # a continuation -> the first part of its table, whose header counts
    ordered = sorted((p for p in pages if isinstance(p.get("page"), int)), key=lambda p: p["page"])
    for before, after in zip(ordered, ordered[1:]):
        if after["page"] != before["page"] + 1 or not before.get("tables") or not after.get("tables"):
            continue
        last, first = before["tables"][-1], after["tables"][0]
        head = heads.get(_key(last), last)
        if _placed_as_parts(last, first, before, after) and _continues(head, last, first):
            links[_key(first)] = {"page": last["page"], "index": last["index"]}
            heads[_key(first)] = head
    return links


def _placed_as_parts(last: dict, first: dict, before: dict, after: dict) -> bool:
    """Where both boxes are known: the same left and right edges, the first part ending in the lower
    half of its page and the continuation starting in the upper half of its own."""
    a, b = last.get("box"), first.get("box")
    if not a or not b:
        return True
    tolerance = EDGE_TOLERANCE * (before.get("width_pt") or after.get("width_pt") or DEFAULT_PAGE_WIDTH)
    if abs(a[0] - b[0]) > tolerance or abs(a[2] - b[2]) > tolerance:
        return False
    return a[3] >= before.get("height_pt", 0) / 2 and b[1] <= after.get("height_pt", float("inf")) / 2


def _continues(head: dict, last: dict, first: dict) -> bool:
    """Same columns, and a repeated header or a data row (or nothing) where the header would be."""
    n = _columns(head)
    if n == 0 or _columns(first) != n or any(len(r) != n for r in first.get("rows") or []):
        return False
    if repeats_header(head, first):
        return True
    # No header on the continuation: the model gave none, or the text layer took its first row for one.
    top = first.get("header") if first.get("header") is not None else next(iter(first.get("rows") or []), None)
    rows = (head.get("rows") or []) + ((last.get("rows") or []) if last is not head else [])
    return top is not None and _is_data_row(top, head.get("header"), rows)


def repeats_header(head: dict, part: dict) -> bool:
    """Whether a part's header row is the table's header again (spacing and case aside)."""
    a, b = head.get("header"), part.get("header")
    return bool(a) and bool(b) and [_norm(c) for c in a] == [_norm(c) for c in b] and any(_norm(c) for c in a)


def _is_data_row(row: list, header: list | None, rows: list[list]) -> bool:
    """Whether `row` reads as one of the table's data rows rather than a header: it has a number,
    each of its cells is blank or of a kind (number, year, text) its column has in the table's rows
    (a column of blanks takes any), and its kinds are not the header's."""
    kinds = _kinds(row)
    columns = [set(column) - {"blank"} for column in zip(*(_kinds(r) for r in rows))]
    if "number" not in kinds or len(columns) != len(kinds):
        return False
    if any(k != "blank" and column and k not in column for k, column in zip(kinds, columns)):
        return False
    return header is None or _kinds(header) != kinds


def _kinds(row: list) -> list[str]:
    """Each cell's kind: blank (empty or a missing-value mark), year (as headers name columns),
    number, or text."""
    out = []
    for cell in row:
        text = _norm(cell)
        if not text or text in _MISSING:
            out.append("blank")
        elif _YEAR.fullmatch(text):
            out.append("year")
        else:
            out.append("number" if _NUMBER.fullmatch(text) else "text")
    return out


def _columns(table: dict) -> int:
    header, rows = table.get("header"), table.get("rows") or []
    return len(header) if header else max((len(r) for r in rows), default=0)


def _norm(cell) -> str:
    return " ".join(str(cell or "").split()).casefold()


def _key(table: dict) -> tuple:
    return table.get("page"), table.get("index")


def _part(table: dict) -> dict:
    return {k: table.get(k) for k in ("page", "index", "box", "box_px")}


def _start(table: dict) -> dict:
    rows = list(table.get("rows") or [])
    return dict(table, rows=rows, row_pages=[table["page"]] * len(rows), parts=[_part(table)])


def _append(table: dict, part: dict, repeated: bool) -> dict:
    rows = list(part.get("rows") or [])
    if not repeated and part.get("header") is not None:
        rows.insert(0, part["header"])  # a data row read as the part's header
    joined = dict(table, rows=table["rows"] + rows, row_pages=table["row_pages"] + [part["page"]] * len(rows),
                  parts=table["parts"] + [_part(part)])
    # Cell confidences (model tables) follow their cells: the header's row first where there is one.
    cells = part.get("cell_confidence")
    if "cell_confidence" in table and cells is not None:
        skip = 1 if repeated and part.get("header") is not None else 0
        joined["cell_confidence"] = table["cell_confidence"] + cells[skip:]
    else:
        joined.pop("cell_confidence", None)
    return joined
