"""Tables from the text layer of born-digital pages: header, rows and box in page points."""

import csv
import json

import pymupdf
import pytest

from docvl.sources import open_document
from docvl.textlayer.answer import TextLayerAnswer, document_tables

ROWS = [["Region", "2019", "2020", "Change"],
        ["North", "1,204.5", "1,310.0", "+8.8%"],
        ["South-east coast", "988.0", "1,002.3", "+1.4%"],
        ["West", "450.25", "", "n/a"]]
XS = [72, 230, 330, 430, 540]
TOP, HEIGHT = 120, 22


# Rulings of the generated tables: a grid; as many reports draw them, rules above and below the
# header and at the bottom; as many invoices do, a rule under the header and one at the bottom.
RULES = {"grid": range(len(ROWS) + 1), "across": (0, 1, len(ROWS)), "under header": (1, len(ROWS))}


def table_pdf(path, rules: str):
    """A table ruled as RULES[rules] says (columns ruled only in the grid); a paragraph follows it."""
    doc = pymupdf.open()
    page = doc.new_page()
    for r, row in enumerate(ROWS):
        for c, cell in enumerate(row):
            page.insert_text((XS[c] + 4, TOP + HEIGHT * r + 15), cell, fontsize=10)
    for r in RULES[rules]:
        page.draw_line((XS[0], TOP + HEIGHT * r), (XS[-1], TOP + HEIGHT * r))
    if rules == "grid":
        for x in XS:
            page.draw_line((x, TOP), (x, TOP + HEIGHT * len(ROWS)))
    page.insert_text((72, 400), "A paragraph after the table, which is not part of it at all.", fontsize=10)
    doc.save(path)
    return path


@pytest.mark.parametrize("rules", RULES)
def test_header_rows_and_box(tmp_path, rules):
    doc = open_document(str(table_pdf(tmp_path / "t.pdf", rules)))
    [table] = document_tables(doc)
    doc.close()
    assert table["page"] == 1 and table["index"] == 1
    assert [table["header"], *table["rows"]] == ROWS
    x0, y0, x1, y1 = table["box"]
    assert XS[0] - 1 <= x0 < x1 <= XS[-1] + 1 and TOP - 1 <= y0 < y1 <= TOP + HEIGHT * len(ROWS) + 1


def test_the_tables_hook_answers_with_the_tables_task_record_shape(tmp_path):
    doc = open_document(str(table_pdf(tmp_path / "t.pdf", "across")))
    fields = TextLayerAnswer("tables", only=True)(doc, 1)
    doc.close()
    assert fields["source"] == "text-layer" and fields["warnings"] == []
    [table] = fields["tables"]
    assert set(table) == {"page", "index", "header", "rows", "box", "box_px"} and table["box_px"] is None


def test_two_rules_without_a_header_line_above_them_are_no_table(tmp_path):
    # Two rules around a block in two columns (say, under a running head and over a footnote),
    # with nothing right above the first one, are not a table's header rule and bottom rule.
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Running head of the report", fontsize=10)
    page.draw_line((72, 130), (540, 130))
    for i in range(6):
        page.insert_text((72, 150 + 14 * i), f"Term {i}", fontsize=10)
        page.insert_text((300, 150 + 14 * i), f"its meaning {i}", fontsize=10)
    page.draw_line((72, 260), (540, 260))
    doc.save(tmp_path / "p.pdf")
    doc = open_document(str(tmp_path / "p.pdf"))
    assert document_tables(doc) == []
    doc.close()


def test_a_page_without_tables_has_none(tmp_path):
    from docs import text_pdf

    doc = open_document(str(text_pdf(tmp_path / "p.pdf", pages=1)))
    assert document_tables(doc) == []
    doc.close()


def test_extract_tables_text_layer_only_loads_no_model(tmp_path):
    from test_textlayer_ocr import fresh_machine

    pdf = table_pdf(tmp_path / "t.pdf", "across")
    proc = fresh_machine(tmp_path, "extract-tables", pdf, "--text-layer", "only", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr
    [page] = json.loads(proc.stdout)["pages"]
    assert page["source"] == "text-layer"
    [table] = page["tables"]
    assert [table["header"], *table["rows"]] == ROWS
    proc = fresh_machine(tmp_path, "extract-tables", pdf, "--text-layer", "only", "-o", tmp_path / "t.csv")
    assert proc.returncode == 0, proc.stderr
    [csv_file] = tmp_path.glob("t*.csv")
    assert list(csv.reader(csv_file.open())) == ROWS


def test_ocr_boxes_from_the_text_layer_are_valid_docvl_json(tmp_path):
    from importlib import resources

    from jsonschema import Draft202012Validator

    from test_textlayer_ocr import fresh_machine

    schema = json.loads((resources.files("docvl.schemas") / "docvl-1.schema.json").read_text())

    pdf = table_pdf(tmp_path / "t.pdf", "grid")
    proc = fresh_machine(tmp_path, "ocr", pdf, "--boxes")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert not list(Draft202012Validator(schema).iter_errors(document))
    [page] = document["pages"]
    assert page["source"] == "text-layer" and page["text"].splitlines() == [line["text"] for line in page["lines"]]
    # Each row of the table is one printed line, read left to right.
    north = next(line for line in page["lines"] if line["text"].startswith("North "))
    assert north["box_px"] is None and TOP + HEIGHT < north["box"][1] < north["box"][3] < TOP + 2 * HEIGHT
