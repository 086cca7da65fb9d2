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


def write_rows(page, rows, xs, top, step=16, fontsize=10, align="left"):
    """Each row's cells at xs (left edges; right edges with align="right"), one line every `step` points."""
    for r, row in enumerate(rows):
        for x, cell in zip(xs, row):
            if cell:
                width = pymupdf.get_text_length(cell, fontsize=fontsize) if align == "right" else 0
                page.insert_text((x - width, top + step * r), cell, fontsize=fontsize)


STACKED = [["", "2019", "", "2020", ""],  # each year spans the two halves under it
           ["Region", "H1", "H2", "H1", "H2"],
           ["North", "10.5", "11.0", "12.25", "13.0"],
           ["South", "9.0", "9.5", "10.0", "10.75"],
           ["West", "4.0", "4.5", "5.0", "5.5"]]


def test_stacked_header_rows_become_one_name_per_column(tmp_path):
    # A header ruled across (top rule, header rule, bottom rule): a year centred over two columns,
    # then the half-year names; through the CLI, as a user runs it.
    from test_textlayer_ocr import fresh_machine

    doc = pymupdf.open()
    page = doc.new_page()
    xs = [72, 200, 280, 360, 440]
    write_rows(page, STACKED[1:], xs, 150)
    page.insert_text((232, 134), "2019", fontsize=10)  # over H1 (200) and H2 (280) of 2019
    page.insert_text((392, 134), "2020", fontsize=10)
    for y in (120, 141, 210):
        page.draw_line((72, y), (500, y))
    doc.save(tmp_path / "t.pdf")
    proc = fresh_machine(tmp_path, "extract-tables", tmp_path / "t.pdf", "--text-layer", "only", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    [table] = json.loads(proc.stdout)["pages"][0]["tables"]
    assert table["header"] == ["Region", "2019 / H1", "2019 / H2", "2020 / H1", "2020 / H2"]
    assert table["rows"] == STACKED[2:]


UNRULED = [["Country", "Population", "Share of", "Change"],
           ["", "", "total", ""],  # a wrapped column name
           ["France", "67,750", "15.1%", "+0.3%"],
           ["Germany", "83,200", "18.6%", "-0.1%"],
           ["Italy", "58,900", "13.2%", "-0.6%"],
           ["Spain", "47,400", "10.6%", "+0.7%"]]


def unruled_pdf(path, rows=UNRULED):
    """A table without a single rule, columns only from white space, between two paragraphs."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "A paragraph before the table, which is plain running text of the report.", fontsize=10)
    write_rows(page, rows, [72, 200, 300, 400], 140)
    page.insert_text((72, 300), "A paragraph after the table, which is not part of it either, at all.", fontsize=10)
    doc.save(path)
    return path


def test_an_unruled_table_comes_from_the_alignment_of_its_text(tmp_path):
    doc = open_document(str(unruled_pdf(tmp_path / "t.pdf")))
    [table] = document_tables(doc)
    doc.close()
    assert table["header"] == ["Country", "Population", "Share of total", "Change"]
    assert table["rows"] == UNRULED[2:]


def test_a_wrapped_cell_stays_in_its_cell(tmp_path):
    rows = [["Item", "Description", "Amount"],
            ["A-1", "Paper, A4, white,", "20.80"],
            ["", "80 g, five reams", ""],
            ["B-2", "Toner cartridge", "89.00"],
            ["C-3", "Stapler", "12.00"]]
    doc = pymupdf.open()
    page = doc.new_page()
    write_rows(page, rows, [72, 150, 400], 140)
    for y in (128, 145, 210):  # ruled across: top, under the header, bottom
        page.draw_line((72, y), (460, y))
    doc.save(tmp_path / "t.pdf")
    doc = open_document(str(tmp_path / "t.pdf"))
    [table] = document_tables(doc)
    doc.close()
    assert table["rows"] == [["A-1", "Paper, A4, white,\n80 g, five reams", "20.80"],
                             ["B-2", "Toner cartridge", "89.00"], ["C-3", "Stapler", "12.00"]]


def test_two_columns_of_prose_are_no_table(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    left = "The committee met on several occasions during the year to discuss the"
    right = "budget and it agreed that the next report should include more detail"
    for i in range(12):
        page.insert_text((72, 100 + 14 * i), left[: 30 + i % 5], fontsize=10)
        page.insert_text((320, 100 + 14 * i), right[: 30 + i % 4], fontsize=10)
    doc.save(tmp_path / "p.pdf")
    doc = open_document(str(tmp_path / "p.pdf"))
    assert document_tables(doc) == []
    doc.close()


def test_framed_panels_of_prose_side_by_side_are_no_table(tmp_path):
    """Two cards drawn as shaded boxes a point and a half apart, each a heading over a paragraph, which
    find_tables() reads as one grid of one row: panels of a layout, not a table."""
    doc = pymupdf.open()
    page = doc.new_page()
    text = ["The first panel holds a paragraph of running", "text that wraps over several lines of",
            "its own box, as a card on a poster does."]
    for x in (60, 301.5):
        page.draw_rect(pymupdf.Rect(x, 100, x + 240, 260), color=None, fill=(0.9, 0.9, 0.9))
        page.insert_text((x + 10, 125), "A panel heading", fontsize=12)
        for i, line in enumerate(text):
            page.insert_text((x + 10, 160 + 14 * i), line, fontsize=10)
    doc.save(tmp_path / "p.pdf")
    doc = open_document(str(tmp_path / "p.pdf"))
    assert document_tables(doc) == []
    doc.close()


def grid_and_loose_numbers_pdf(path, loose: bool):
    """A ruled grid table; with `loose`, below it lines of numbers in aligned columns with a line of
    prose across the columns after each, which no rule of docvl's reads as a table."""
    table_pdf(path.with_suffix(".grid.pdf"), "grid")
    doc = pymupdf.open(path.with_suffix(".grid.pdf"))
    if loose:
        numbers = [["10.5", "11.2", "12.9"], ["8.25", "9.50", "7.75"], ["1.00", "2.50", "3.75"],
                   ["4.20", "5.10", "6.30"]]
        note = "a note that runs on across all of the columns of figures"
        for i, row in enumerate(numbers):
            write_rows(doc[0], [row], [320, 380, 440], 480 + 28 * i, align="right")
            doc[0].insert_text((200, 494 + 28 * i), note, fontsize=10)
    doc.save(path)
    return path


def test_auto_sends_a_page_with_unexplained_aligned_numbers_to_the_model(tmp_path):
    doc = open_document(str(grid_and_loose_numbers_pdf(tmp_path / "clean.pdf", loose=False)))
    fields = TextLayerAnswer("tables")(doc, 1)
    doc.close()
    assert fields["source"] == "text-layer" and len(fields["tables"]) == 1 and fields["warnings"] == []

    doc = open_document(str(grid_and_loose_numbers_pdf(tmp_path / "loose.pdf", loose=True)))
    assert TextLayerAnswer("tables")(doc, 1) is None  # auto: the model reads the whole page
    fields = TextLayerAnswer("tables", only=True)(doc, 1)  # only: the tables found, and a warning
    doc.close()
    assert len(fields["tables"]) == 1
    [warning] = fields["warnings"]
    assert "outside every table found" in warning


def test_dot_leaders_stay_with_their_label_and_missing_values_stay_cells():
    from docvl.textlayer.lines import Line, phrases
    from docvl.textlayer.words import Word

    def line(*words):
        return Line([Word(x0, 100, x1, 110, text, True) for x0, x1, text in words])

    # "Total" then widely spaced leader dots, then the value: two cells, the dots with the label.
    leaders = [(40 + 12 * i, 42 + 12 * i, ".") for i in range(6)]
    cells = phrases(line((0, 30, "Total"), *leaders, (150, 170, "12.5")))
    assert [" ".join(w.text for w in p) for p in cells] == ["Total . . . . . .", "12.5"]
    # "..." standing alone between numbers is a cell (a value not available), not a leader.
    cells = phrases(line((0, 30, "Spain"), (60, 70, "1.2"), (100, 108, "..."), (140, 150, "3.4")))
    assert [" ".join(w.text for w in p) for p in cells] == ["Spain", "1.2", "...", "3.4"]


def test_a_table_ruled_across_with_a_shaded_body_is_one_table_its_section_label_a_row(tmp_path):
    # booktabs: top rule, header, mid rule, bottom rule; its body shaded cell by cell (what find_tables
    # reads as a grid of its own), opening with a section's name centred over the columns.
    rows = [["Source", "Type", "Tokens", "Docs"],
            ["Web crawl", "Web pages", "3.71", "2.95"],
            ["Code", "Code", "83.0", "78.7"],
            ["Papers", "Academic", "58.6", "38.8"]]
    xs, width = [72, 180, 300, 400], 470
    doc = pymupdf.open()
    page = doc.new_page()
    write_rows(page, rows[:1], xs, 112)
    page.insert_text((220, 132), "Pretraining data mix", fontsize=10)  # over Type and Tokens
    write_rows(page, rows[1:], xs, 152, step=18)
    for r in range(len(rows) - 1):  # one filled box a cell, abutting
        for x0, x1 in zip(xs, [*xs[1:], width]):
            page.draw_rect(pymupdf.Rect(x0, 140 + 18 * r, x1, 158 + 18 * r), color=None, fill=(0.95, 0.95, 0.95))
    for y in (100, 118, 194):
        page.draw_line((72, y), (width, y), width=0.5)
    doc.save(tmp_path / "t.pdf")
    doc = open_document(str(tmp_path / "t.pdf"))
    [table] = document_tables(doc)
    doc.close()
    assert table["header"] == rows[0]
    assert table["rows"] == [["", "Pretraining data mix", "", ""], *rows[1:]]


def financial_pdf(path):
    """A statement's table as reports print it: a body of shaded rows (a grid to find_tables) whose
    header stands above it, "Year ended" centred over the three years and underlined across them,
    each year underlined over its currency sign and amount."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Stock-based compensation expense was as follows:", fontsize=9)
    page.insert_text((365, 130), "Year ended", fontsize=9)
    cols = [(300, 360), (370, 430), (440, 500)]  # currency sign and amount under each year
    for (a, b), year in zip(cols, ("2025", "2024", "2023")):
        page.insert_text((a + 20, 144), year, fontsize=9)
        page.draw_line((a, 147), (b, 147), width=0.5)
    page.draw_line((300, 133), (500, 133), width=0.5)
    rows = [("Cost of revenue", "178", "141", "138"), ("Research", "3,423", "2,532", "1,892"),
            ("Sales", "1,136", "876", "680")]
    edges = [72, 300, 310, 370, 380, 440, 450, 500]  # label | $ | amount | $ | amount | ...
    for r, (label, *amounts) in enumerate(rows):
        y = 152 + 12 * r
        for x0, x1 in zip(edges, edges[1:]):  # shaded cell by cell, every other row
            page.draw_rect(pymupdf.Rect(x0, y, x1, y + 12), color=None, fill=(0.93,) * 3 if r % 2 == 0 else (1, 1, 1))
        page.insert_text((74, y + 9), label, fontsize=9)
        for (a, b), amount in zip(cols, amounts):
            if r == 0:
                page.insert_text((a + 2, y + 9), "$", fontsize=9)
            page.insert_text((b - 2 - pymupdf.get_text_length(amount, fontsize=9), y + 9), amount, fontsize=9)
    doc.save(path)
    return path


def test_a_header_above_a_shaded_body_joins_it_and_an_underlined_label_spans_its_columns(tmp_path):
    from docvl.textlayer.tables import page_tables
    from docvl.textlayer.words import read_words

    doc = pymupdf.open(financial_pdf(tmp_path / "t.pdf"))
    [table] = page_tables(doc[0], read_words(doc[0]), 1, spans=True)
    assert table["header"] == ["", "Year ended / 2025", "Year ended / 2025", "Year ended / 2024",
                               "Year ended / 2024", "Year ended / 2023", "Year ended / 2023"]
    assert table["rows"][2] == ["Sales", "", "1,136", "", "876", "", "680"]
    assert table["head"] == [[("", 1), ("Year ended", 6)], [("", 1), ("2025", 2), ("2024", 2), ("2023", 2)]]


def test_a_shaded_body_parted_by_a_double_rule_over_its_totals_is_one_table(tmp_path):
    # booktabs with a shaded body, and its totals under a double rule, shaded apart (two grids)
    rows = [["Team", "Staff", "Hired", "Left"], ["North", "12", "3", "1"], ["South", "9", "2", "0"],
            ["West", "7", "1", "2"], ["Total", "28", "6", "3"]]
    xs, width = [72, 200, 300, 400], 470
    doc = pymupdf.open()
    page = doc.new_page()
    write_rows(page, rows[:1], xs, 112)
    write_rows(page, rows[1:4], xs, 132, step=18)
    write_rows(page, rows[4:], xs, 197)
    for y0, n in ((120, 3), (185, 1)):  # clear of the rules between them
        for r in range(n):
            for x0, x1 in zip(xs, [*xs[1:], width]):
                page.draw_rect(pymupdf.Rect(x0, y0 + 18 * r, x1, y0 + 18 * (r + 1)), color=None, fill=(0.95,) * 3)
    for y in (100, 118, 179, 181, 205):
        page.draw_line((72, y), (width, y), width=0.5)
    doc.save(tmp_path / "t.pdf")
    doc = open_document(str(tmp_path / "t.pdf"))
    [table] = document_tables(doc)
    doc.close()
    assert [table["header"], *table["rows"]] == rows
