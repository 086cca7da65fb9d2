"""CSV cells through the CLI: dashes and negative numbers are data and come out as they are; cells a
spreadsheet would run as formulas get a leading apostrophe (unless --raw-cells)."""

import csv
import io

import pymupdf
import pytest

from docvl.table_output import neutralise

# (what the page shows, what the CSV holds)
CELLS = [
    ("-", "-"), ("--", "--"), ("-12.5", "-12.5"), ("\u22123", "\u22123"), ("-1,234.50", "-1,234.50"),
    ("+3", "+3"), ("-.5", "-.5"), ("12%", "12%"),
    ("=1+1", "'=1+1"), ("-2+3", "'-2+3"), ("+SUM(A1)", "'+SUM(A1)"), ("@cmd", "'@cmd"), ("-Total", "'-Total"),
    ("--1", "'--1"),
]
XS, TOP, HEIGHT = (72, 200, 330), 72, 20


def grid_pdf(path):
    """A ruled two-column table, "Case" and "Value", a row per cell of CELLS; drawn with an embedded
    font, so that U+2212 MINUS SIGN is on the page as itself."""
    rows = [("Case", "Value")] + [(f"case {k}", shown) for k, (shown, _) in enumerate(CELLS, start=1)]
    doc = pymupdf.open()
    page = doc.new_page()
    writer, font = pymupdf.TextWriter(page.rect), pymupdf.Font("helv")
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            writer.append((XS[c] + 4, TOP + HEIGHT * r + 14), text, font=font, fontsize=10)
        page.draw_line((XS[0], TOP + HEIGHT * r), (XS[-1], TOP + HEIGHT * r))
    writer.write_text(page)
    page.draw_line((XS[0], TOP + HEIGHT * len(rows)), (XS[-1], TOP + HEIGHT * len(rows)))
    for x in XS:
        page.draw_line((x, TOP), (x, TOP + HEIGHT * len(rows)))
    doc.save(path)
    return path


def csv_values(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Case", "Value"]
    return [value for _, value in rows[1:]]


def test_dashes_and_negative_numbers_are_data_and_formulas_are_neutralised(run_cli, tmp_path):
    pdf = grid_pdf(tmp_path / "cells.pdf")
    code, out, err = run_cli("extract-tables", pdf, "--text-layer", "only", "-o", tmp_path / "out.csv")
    assert code == 0, err
    assert csv_values((tmp_path / "out.csv").read_text(encoding="utf-8")) == [safe for _, safe in CELLS]
    code, out, err = run_cli("extract-tables", pdf, "--text-layer", "only", "--raw-cells")
    assert code == 0, err
    assert csv_values(out) == [shown for shown, _ in CELLS]


@pytest.mark.parametrize("cell, safe", [
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("\t@x", "'\t@x"), ("\r-Total", "'\r-Total"),  # tab, CR first
    (" - ", " - "), ("\t-12", "\t-12"),  # spacing around data does not make it a formula
])
def test_tab_and_carriage_return_first(cell, safe):
    # A page's words never start with a tab or CR, so these cells only ever come from a model.
    assert neutralise(cell) == safe
