"""Regenerate the sample documents in this folder (they are committed; this shows how they were made)."""

from pathlib import Path

import pymupdf

HERE = Path(__file__).parent


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
    doc.save(path, garbage=4, deflate=True)


if __name__ == "__main__":
    invoice(HERE / "invoice.pdf")
