"""Regenerate the sample documents in this folder (they are committed; this shows how they were made).

    python examples/make_examples.py

Deterministic: the same PyMuPDF and Pillow write the same bytes (no dates, a fixed PDF /ID, seeded
noise). The files:

- invoice.pdf      a born-digital one-page invoice (text layer; items table ruled under its header)
- report.pdf       a born-digital 4-page report: a fully ruled table (p1), a table ruled only across
                   (p2), and a ruled table that starts on p3 and continues on p4
- scan.png         a scanned-looking page (no text layer: only the model can read it), 150 DPI
- truth/           what scan.png says: its transcript (scan.txt) and key fields (scan.json), the
                   ground truth `docvl eval --truth examples/truth` scores a run on scan.png against
- batch/           a folder for the batch job: two born-digital PDFs and one page image
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pymupdf
from PIL import Image, ImageFilter

HERE = Path(__file__).parent
LETTER = (612, 792)


def _save(doc: pymupdf.Document, path: Path) -> None:
    doc.set_metadata({})
    doc.save(path, garbage=4, deflate=True, no_new_id=True)
    doc.close()
    # PyMuPDF writes a random /ID into new files; make it a fixed one so the bytes are reproducible.
    data = path.read_bytes()
    start = data.rfind(b"/ID[")
    if start != -1:
        end = data.index(b"]", start)
        fixed = b"/ID[<" + b"0" * 32 + b"><" + b"0" * 32 + b">]"
        old = data[start:end + 1]
        if len(old) == len(fixed):  # keep every byte offset (xref) as it was
            data = data[:start] + fixed + data[end + 1:]
    path.write_bytes(data)


def invoice(path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 80), "ACME Office Supplies Ltd.", fontsize=18)
    page.insert_text((72, 104), "12 Harbour Road, Portsmouth PO1 3AX", fontsize=10)
    page.insert_text((400, 80), "INVOICE", fontsize=22)
    rows = [("Invoice number", "INV-2026-0142"), ("Date", "2026-11-02"), ("Customer", "Northwind Traders")]
    for i, (k, v) in enumerate(rows):
        page.insert_text((72, 150 + 16 * i), f"{k}:", fontsize=11)
        page.insert_text((200, 150 + 16 * i), v, fontsize=11)
    header = ["Item", "Qty", "Unit price", "Amount"]
    items = [("A4 paper, 500 sheets", "10", "4.50", "45.00"), ("Stapler", "2", "12.00", "24.00"),
             ("Ink cartridge, black", "3", "18.90", "56.70")]
    xs = [72, 320, 380, 470]
    y = 240
    for x, h in zip(xs, header):
        page.insert_text((x, y), h, fontsize=11)
    page.draw_line((72, y + 6), (540, y + 6))
    for r, item in enumerate(items):
        for x, cell in zip(xs, item):
            page.insert_text((x, y + 24 + 18 * r), cell, fontsize=11)
    page.draw_line((72, y + 80), (540, y + 80))
    page.insert_text((380, y + 100), "Total", fontsize=12)
    page.insert_text((470, y + 100), "125.70", fontsize=12)
    _save(doc, path)


def _paragraph(page, y: float, lines: list[str], size: float = 10.5) -> float:
    """Lines of text from the left margin; a tab puts what follows it in a column at x = 300."""
    for line in lines:
        left, _, right = line.partition("\t")
        page.insert_text((72, y), left, fontsize=size)
        if right:
            page.insert_text((300, y), right, fontsize=size)
        y += size * 1.5
    return y + 8


def _grid_table(page, top: float, xs: list[float], rows: list[list[str]], row_h: float = 20) -> float:
    """A table with every cell ruled: horizontal lines between rows, vertical lines between columns.
    xs: left edge of each column and the table's right edge. The first row is the header (bold)."""
    bottom = top + row_h * len(rows)
    for r in range(len(rows) + 1):
        page.draw_line((xs[0], top + r * row_h), (xs[-1], top + r * row_h), width=0.8)
    for x in xs:
        page.draw_line((x, top), (x, bottom), width=0.8)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            page.insert_text((xs[c] + 5, top + r * row_h + 14), cell, fontsize=10,
                             fontname="hebo" if r == 0 else "helv")
    return bottom


def _ruled_across_table(page, top: float, xs: list[float], right: float, rows: list[list[str]],
                        row_h: float = 18) -> float:
    """A table ruled only across: a rule above the header, one under it and one at the bottom;
    no vertical rules, columns only by alignment."""
    page.draw_line((xs[0], top), (right, top), width=1.2)
    page.draw_line((xs[0], top + row_h + 4), (right, top + row_h + 4), width=0.6)
    y = top + 14
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            page.insert_text((xs[c], y), cell, fontsize=10, fontname="hebo" if r == 0 else "helv")
        y += row_h + (6 if r == 0 else 0)
    bottom = y - row_h + 8
    page.draw_line((xs[0], bottom), (right, bottom), width=1.2)
    return bottom


def _footer(page, n: int, of: int) -> None:
    page.insert_text((72, 760), "Northwind Traders - Quarterly report Q3 2026", fontsize=8)
    page.insert_text((500, 760), f"Page {n} of {of}", fontsize=8)


REGIONS = [["Region", "Q1", "Q2", "Q3", "Change"],
           ["North", "1,204", "1,310", "1,422", "+8.5%"],
           ["South", "986", "1,002", "1,115", "+11.3%"],
           ["East", "1,530", "1,498", "1,561", "+4.2%"],
           ["West", "742", "801", "779", "-2.7%"],
           ["Total", "4,462", "4,611", "4,877", "+5.8%"]]

STAFF = [["Team", "Staff", "Hired", "Left", "Open roles"],
         ["Sales", "42", "5", "2", "3"],
         ["Warehouse", "67", "9", "6", "4"],
         ["Finance", "12", "1", "0", "1"],
         ["Support", "25", "4", "3", "2"]]

ORDERS = [(f"SO-{3100 + i}", f"2026-{7 + i // 10:02d}-{1 + (i * 3) % 28:02d}",
           ["Contoso", "Fabrikam", "Litware", "Tailspin", "Wingtip"][i % 5],
           f"{(i * 37) % 90 + 10}", f"{((i * 7919) % 90000) / 100 + 100:,.2f}") for i in range(30)]


def report(path: Path) -> None:
    doc = pymupdf.open()
    pages = 4

    p = doc.new_page(width=LETTER[0], height=LETTER[1])
    p.insert_text((72, 80), "Quarterly Report Q3 2026", fontsize=20, fontname="hebo")
    p.insert_text((72, 102), "Northwind Traders - prepared by the finance team, 2026-10-15", fontsize=10)
    y = _paragraph(p, 140, [
        "Revenue grew in three of four regions this quarter. The table below gives revenue per region",
        "in thousands of euros; the last column compares Q3 with Q2. The West region fell slightly after",
        "the closing of the Bristol depot in August.",
    ])
    p.insert_text((72, y + 6), "Table 1. Revenue by region (EUR thousands)", fontsize=10, fontname="hebo")
    _grid_table(p, y + 16, [72, 200, 280, 360, 440, 540], REGIONS)
    _footer(p, 1, pages)

    p = doc.new_page(width=LETTER[0], height=LETTER[1])
    y = _paragraph(p, 80, [
        "Staffing. Hiring continued in the warehouse teams ahead of the winter season. The table below",
        "is ruled only across: a rule above and below its header and one under its last row.",
    ])
    p.insert_text((72, y + 6), "Table 2. Staff by team, end of Q3", fontsize=10, fontname="hebo")
    _ruled_across_table(p, y + 16, [72, 220, 300, 380, 450], 540, STAFF)
    _paragraph(p, y + 160, [
        "Open roles are advertised on the company website and filled through the usual process.",
    ])
    _footer(p, 2, pages)

    header = ["Order", "Date", "Customer", "Items", "Amount (EUR)"]
    xs = [72, 150, 250, 380, 440, 540]
    p = doc.new_page(width=LETTER[0], height=LETTER[1])
    y = _paragraph(p, 80, [
        "Orders. Every order of the quarter over EUR 100, by order number. The list continues on the",
        "next page.",
    ])
    p.insert_text((72, y + 6), "Table 3. Orders of Q3 2026", fontsize=10, fontname="hebo")
    split = 22
    _grid_table(p, y + 16, xs, [header] + [list(o) for o in ORDERS[:split]])
    _footer(p, 3, pages)

    p = doc.new_page(width=LETTER[0], height=LETTER[1])
    p.insert_text((72, 80), "Table 3 (continued)", fontsize=10, fontname="hebo")
    bottom = _grid_table(p, 90, xs, [header] + [list(o) for o in ORDERS[split:]])
    _paragraph(p, bottom + 30, ["End of report."])
    _footer(p, 4, pages)

    _save(doc, path)


def page_pdf(lines: list[str], title: str) -> pymupdf.Document:
    doc = pymupdf.open()
    page = doc.new_page(width=LETTER[0], height=LETTER[1])
    page.insert_text((72, 80), title, fontsize=16, fontname="hebo")
    _paragraph(page, 120, lines, size=11)
    return doc


SCAN_LINES = [
    "Receipt no. 20931",
    "Date: 2026-11-14",
    "",
    "Coffee beans, 1 kg\t18.50",
    "Milk, 2 l\t2.40",
    "Paper cups, 100\t6.90",
    "",
    "Total\t27.80",
    "",
    "Paid by card. Thank you for your visit.",
]


def scan(path: Path, dpi: int = 150) -> None:
    """A page as a scanner delivers it: a picture with no text layer, in grey, slightly soft, with
    specks of dust, a faint uneven background, and the page's DPI recorded in the PNG."""
    doc = page_pdf(SCAN_LINES, "Harbour Cafe")
    pix = doc[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    img = Image.open(io.BytesIO(pix.tobytes("png"))).convert("L")
    doc.close()
    img = img.filter(ImageFilter.GaussianBlur(0.7))
    rng = random.Random(14)
    px = img.load()
    w, h = img.size
    for _ in range(w * h // 2000):  # dust
        x, y = rng.randrange(w), rng.randrange(h)
        px[x, y] = rng.randrange(60, 160)
    # Paper tone: off-white, darker toward one edge, in few grey levels (small PNG).
    shade = Image.linear_gradient("L").rotate(90).resize((w, h)).point(lambda v: 255 - v // 24)
    img = Image.composite(img, shade, img.point(lambda v: 255 if v < 235 else 0))
    img = img.quantize(16, dither=Image.Dither.NONE).convert("L")
    img.save(path, format="PNG", dpi=(dpi, dpi), optimize=True)


def truth(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    lines = ["Harbour Cafe"] + [line.replace("\t", " ") for line in SCAN_LINES if line]
    (folder / "scan.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fields = {"date": "2026-11-14", "total": "27.80"}
    (folder / "scan.json").write_text(json.dumps(fields, indent=2) + "\n", encoding="utf-8")


def batch(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    doc = page_pdf([
        "Dear Ms Okafor,",
        "",
        "thank you for your order SO-3107 of 2026-07-22. The goods left our warehouse today",
        "and should reach you within three working days.",
        "",
        "Kind regards,",
        "Northwind Traders",
    ], "Delivery note")
    _save(doc, folder / "letter.pdf")
    doc = pymupdf.open()
    for n in range(2):
        page = doc.new_page(width=LETTER[0], height=LETTER[1])
        page.insert_text((72, 80), f"Meeting minutes, part {n + 1}", fontsize=16, fontname="hebo")
        _paragraph(page, 120, [f"Item {n * 3 + i + 1}: agreed, owner named, due by the next meeting."
                               for i in range(3)], size=11)
    _save(doc, folder / "minutes.pdf")
    doc = page_pdf(["Parcel 77-4411 received at the front desk.", "Signed: J. Berg"], "Receipt")
    pix = doc[0].get_pixmap(dpi=100, colorspace=pymupdf.csGRAY)
    doc.close()
    img = Image.open(io.BytesIO(pix.tobytes("png"))).convert("L").quantize(16, dither=Image.Dither.NONE)
    img.convert("L").save(folder / "receipt.png", format="PNG", dpi=(100, 100), optimize=True)


if __name__ == "__main__":
    invoice(HERE / "invoice.pdf")
    report(HERE / "report.pdf")
    scan(HERE / "scan.png")
    truth(HERE / "truth")
    batch(HERE / "batch")
