"""Tables as CSV files (or CSV on stdout) or one xlsx workbook, through pandas DataFrames.

File names for `-o out.csv`: one table in all -> out.csv; several -> out-p{page}-t{n}.csv beside it;
with several input files, the input's stem goes in too: out-{stem}-p{page}-t{n}.csv.

Model output is untrusted: a cell that a spreadsheet would run as a formula (leading =, +, -, @, tab
or carriage return) is written with a leading apostrophe in CSV unless raw cells are asked for. Plain
numbers (-12.50, +3, -1,234.50, -.5, 12%) and cells of dashes only (-, --: a missing value) are left
alone: they are data, and a spreadsheet reads them as data. In xlsx every cell is a text cell, which a
spreadsheet never runs, so nothing needs changing there.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import TextIO

from .output import StemNamer, atomic_write, utf8_safe

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width
# Data however a spreadsheet reads it: a plain number, or dashes only (nothing there to run).
_PLAIN_DATA = re.compile(r"[-+]?(\d[\d,]*)?\.?\d+%?|-+")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would execute, made inert with a leading apostrophe."""
    if cell.lstrip(" \n").startswith(FORMULA_START) and not _PLAIN_DATA.fullmatch(cell.strip()):
        return "'" + cell
    return cell


def to_dataframe(table: dict, raw_cells: bool = False):
    """One table record ({"header", "rows"}) as a DataFrame of strings."""
    import pandas as pd

    clean = (lambda c: c) if raw_cells else neutralise
    rows = [[clean(c) for c in row] for row in table["rows"]]
    header = table.get("header")
    width = len(header) if header else max((len(r) for r in rows), default=0)
    columns = [clean(h) for h in header] if header else list(range(width))
    return pd.DataFrame(rows, columns=columns, dtype=object)


def table_csv(table: dict, raw_cells: bool = False) -> str:
    frame = to_dataframe(table, raw_cells)
    text = frame.to_csv(index=False, header=table.get("header") is not None, lineterminator="\n")
    # Valid UTF-8 and no NULs (which CSV readers refuse), whatever the model wrote in a cell.
    return utf8_safe(text).replace("\x00", "")


def tables_of(record: dict):
    for page in record.get("pages", []):
        yield from page.get("tables") or []


class TableSink:
    """Collects the tables of every document record; same add/close interface as DocumentSink."""

    def __init__(self, fmt: str, out: str | None, raw_cells: bool = False, stream: TextIO | None = None):
        self.fmt = fmt  # csv | xlsx
        self.out = None if out in (None, "-") else Path(out)
        self.raw_cells = raw_cells
        self.stream = stream or sys.stdout
        self.namer = StemNamer()
        self.documents = 0
        self.tables: list[tuple[str, dict]] = []  # (input stem, table)
        self.written: list[Path] = []

    def add(self, record: dict) -> None:
        self.documents += 1
        stem = self.namer.name(record["source"]["path"])
        for table in tables_of(record):
            if self.out is None:
                # stdout: each table as soon as its document is done, an empty line between tables.
                if self.tables:
                    self.stream.write("\n")
                self.stream.write(table_csv(table, self.raw_cells))
                self.stream.flush()
            self.tables.append((stem, table))

    def close(self) -> None:
        if not self.tables:
            print("docvl: no table found; nothing written", file=sys.stderr)
            return
        if self.out is None:
            return
        if self.fmt == "xlsx":
            atomic_write(self.out, self._workbook())
            self.written = [self.out]
            return
        for name, table in zip(self.names(), (t for _, t in self.tables)):
            path = self.out.with_name(name)
            atomic_write(path, table_csv(table, self.raw_cells))
            self.written.append(path)
        if len(self.written) > 1:
            print(f"docvl: {len(self.written)} tables written as {self.out.stem}-*{self.out.suffix} "
                  f"in {self.out.parent}", file=sys.stderr)

    def names(self) -> list[str]:
        """File (or sheet) names of the tables, by the rule in this module's docstring."""
        if len(self.tables) == 1:
            return [self.out.name]
        names = []
        for stem, table in self.tables:
            middle = f"-{stem}" if self.documents > 1 else ""
            names.append(f"{self.out.stem}{middle}-p{table['page']}-t{table['index']}{self.out.suffix}")
        return names

    def _workbook(self) -> bytes:
        from openpyxl import Workbook
        from openpyxl.cell.cell import TYPE_STRING

        book = Workbook()
        book.remove(book.active)
        taken: set[str] = set()
        for stem, table in self.tables:
            sheet = book.create_sheet(_sheet_title(stem if self.documents > 1 else "", table, taken))
            lines = ([table["header"]] if table.get("header") else []) + table["rows"]
            for r, line in enumerate(lines, start=1):
                for c, value in enumerate(line, start=1):
                    cell = sheet.cell(row=r, column=c)
                    cell.value = _printable(value)
                    if not self.raw_cells:
                        cell.data_type = TYPE_STRING  # never a formula
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


def _printable(value: str) -> str:
    # XML (and so xlsx) cannot hold most control characters; the model's text sometimes has them.
    return _ILLEGAL_XML.sub("", utf8_safe(value))


def _sheet_title(stem: str, table: dict, taken: set[str]) -> str:
    """`p{page}-t{n}`, after the input's stem when there are several inputs; Excel allows 31 characters."""
    tail = f"p{table['page']}-t{table['index']}"
    head = _SHEET_FORBIDDEN.sub("_", stem)[: 30 - len(tail)]
    title = base = f"{head}-{tail}" if head else tail
    n = 1
    while title.lower() in taken:
        n += 1
        title = f"{base[:26]}~{n}"
    taken.add(title.lower())
    return title
