"""Text-layer text in visual reading order: a printed line on one line, columns one after the other,
whatever order the PDF draws its text in."""

import json

import pymupdf
import pytest

from cliproc import run_docvl

LEFT = [f"Left column line {i} has several words of prose" for i in range(1, 9)]
RIGHT = [f"Right column line {i} carries more words here" for i in range(1, 9)]


def width(text: str, size: float = 11) -> float:
    return pymupdf.get_text_length(text, fontname="helv", fontsize=size)


def pieces_page(doc):
    """One printed line drawn as separate pieces, out of order; one word drawn in two touching parts."""
    page = doc.new_page(width=612, height=792)
    x = {"Total": 72, "due:": 72 + width("Total "), "1,234.56": 72 + width("Total due: ")}
    for word in ("1,234.56", "Total", "due:"):
        page.insert_text((x[word], 100), word, fontsize=11)
    page.insert_text((72, 130), "Hel", fontsize=11)
    page.insert_text((72 + width("Hel"), 130), "lo world", fontsize=11)
    return "Total due: 1,234.56\nHello world"


def columns_page(doc, offset: float = 0):
    """Two columns of prose drawn row by row across the page, under a title and above a footer."""
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 72), "A title that runs across both of the columns below", fontsize=14)
    for i, (left, right) in enumerate(zip(LEFT, RIGHT)):
        page.insert_text((320, 110 + 14 * i + offset), right, fontsize=10)
        page.insert_text((72, 110 + 14 * i), left, fontsize=10)
    page.insert_text((72, 300), "A footer line that also runs across the whole page width", fontsize=10)
    return "\n".join(["A title that runs across both of the columns below", *LEFT, *RIGHT,
                      "A footer line that also runs across the whole page width"])


def header_page(doc):
    """A header whose right part is drawn first, above an address and a table ruled by nothing."""
    page = doc.new_page(width=612, height=792)
    page.insert_text((400, 80), "INVOICE", fontsize=22)
    page.insert_text((72, 80), "ACME Office Supplies Ltd.", fontsize=18)
    page.insert_text((72, 104), "12 Harbour Road, Portsmouth", fontsize=10)
    rows = [("Item", "Qty", "Price"), ("Paper", "10", "4.50"), ("Stapler", "2", "12.00"), ("Ink", "3", "18.90")]
    for col, x in enumerate((72, 320, 420)):  # drawn column by column
        for r, row in enumerate(rows):
            page.insert_text((x, 150 + 16 * r), row[col], fontsize=11)
    return "\n".join(["ACME Office Supplies Ltd. INVOICE", "12 Harbour Road, Portsmouth",
                      *(" ".join(row) for row in rows)])


def table_page(doc):
    """A table whose cells hold several words, drawn column by column: its column gaps run down every
    row, as a page's column gap does, but it reads row by row."""
    page = doc.new_page(width=612, height=792)
    rows = [(f"MENA JUAN MARTIN {i}", f"27.083.46{i} 20-27083460-{i}", f"09/10/2013 EFECTIVO $ 10.00{i},00")
            for i in range(8)]
    for col, x in enumerate((72, 240, 400)):
        for r, row in enumerate(rows):
            page.insert_text((x, 100 + 14 * r), row[col], fontsize=10)
    return "\n".join(" ".join(row) for row in rows)


ABSTRACT = [f"Abstract line {i} set large across its column" for i in range(1, 5)]
BODY = [f"Body line {i} in small type beside it" for i in range(1, 9)]
DROPPED = ["ver the first line the capital stands", "beside the second line of this text",
           "and the third line of the paragraph", "then a fourth line below the capital"]


def column_at(page, x: float, y: float, step: float, texts: list[str], size: float):
    for i, text in enumerate(texts):
        page.insert_text((x, y + step * i), text, fontsize=size)


def mixed_page(doc):
    """A column of large type beside one of small type (each large line overlaps two small ones); below
    them, a paragraph that opens with a drop capital."""
    page = doc.new_page(width=612, height=792)
    column_at(page, 72, 100, 16, ABSTRACT, 13)
    column_at(page, 360, 96, 8, BODY, 7)
    page.insert_text((180, 272), "O", fontsize=36)
    for i, text in enumerate(DROPPED):
        page.insert_text((210 if i < 3 else 180, 250 + 12 * i), text, fontsize=10)
    return "\n".join([*ABSTRACT, *BODY, "O" + DROPPED[0], *DROPPED[1:]])


SIDEBAR = ["Correspondence to:", "Dr A Author", "12 Some Street", "Some City", "Received 2026"]
COLUMN = [f"Column line {i} runs on with the prose of the page" for i in range(1, 8)]
LABELS = [("Name:", "Ada Lovelace of the Analytical Engine Society"), ("Address:", "12 Some Street in the old town"),
          ("Phone:", "0123 456 789 during office hours only"), ("Notes:", "call before noon on any working day")]


def sidebar_page(doc):
    """A sidebar of short lines in small type on its own baselines beside a column of prose, which it
    does not label; below them, under a heading across, labels on the baselines of the values they
    name (a form)."""
    page = doc.new_page(width=612, height=792)
    column_at(page, 72, 103, 9, SIDEBAR, 7)
    column_at(page, 200, 100, 13, COLUMN, 10)
    page.insert_text((72, 225), "The contact form of the society, as it was filled in", fontsize=10)
    for i, (label, value) in enumerate(LABELS):
        page.insert_text((72, 250 + 14 * i), label, fontsize=10)
        page.insert_text((200, 250 + 14 * i), value, fontsize=10)
    return "\n".join([*SIDEBAR, *COLUMN, "The contact form of the society, as it was filled in",
                      *(f"{label} {value}" for label, value in LABELS)])


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    path = tmp_path_factory.mktemp("order") / "order.pdf"
    doc = pymupdf.open()
    expected = [pieces_page(doc), columns_page(doc), columns_page(doc, offset=7), header_page(doc),
                table_page(doc), mixed_page(doc), sidebar_page(doc)]
    doc.save(path)
    r = run_docvl("ocr", path, "--text-layer", "only", "--boxes")
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)["pages"], expected


@pytest.mark.parametrize("n, what", [(0, "a line drawn in pieces"), (1, "two columns"),
                                     (2, "two columns, baselines offset"), (3, "a header drawn right part first"),
                                     (4, "a table with several words a cell"),
                                     (5, "large type beside small, a drop capital"),
                                     (6, "a sidebar beside a column; labels beside values")])
def test_text_layer_reads_in_visual_order(pages, n, what):
    got, expected = pages
    assert got[n]["source"] == "text-layer"
    assert got[n]["text"] == expected[n], what
    assert [line["text"] for line in got[n]["lines"]] == expected[n].split("\n")  # --boxes: the same lines


def test_the_invoice_reads_line_by_line():
    r = run_docvl("ocr", "examples/invoice.pdf", "--format", "text", cwd=pytest.importorskip("cliproc").ROOT)
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines()[:3] == ["ACME Office Supplies Ltd. INVOICE", "12 Harbour Road, Portsmouth PO1 3AX",
                                         "Invoice number: INV-2026-0142"]
    assert "Item Qty Unit price Amount\nA4 paper, 500 sheets 10 4.50 45.00\n" in r.stdout
    assert r.stdout.endswith("Total 125.70\n")
