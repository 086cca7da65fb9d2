"""`docvl info`: what each page is and what it would cost, without loading a model."""

from __future__ import annotations

import json
import sys

from .budget import Budget, visual_tokens
from .errors import DocvlError
from .raster import page_geometry, plan_size
from .sources import open_document, parse_pages
from .textlayer import read_page


def inspect_document(path: str, budget: Budget, pages: str | None, password: str | None) -> dict:
    try:
        doc = open_document(path, password)
    except DocvlError as e:
        return {"path": path, "status": "failed", "error": e.message}
    try:
        report = {"path": path, "status": "ok", "kind": doc.kind, "page_count": doc.page_count, "pages": []}
        for number in parse_pages(pages, doc.page_count):
            w_pt, h_pt, rotation, scan = page_geometry(doc, number)
            h, w = plan_size(w_pt, h_pt, scan, budget)
            read = read_page(doc, number)
            report["pages"].append({
                "page": number, "width_pt": round(w_pt, 2), "height_pt": round(h_pt, 2),
                "rotation": rotation, "scan_dpi": None if scan is None else round(scan, 1),
                "text_layer": None if read is None else read[1].as_dict(), "width_px": w, "height_px": h,
                "visual_tokens": visual_tokens(h, w),
            })
        return report
    except DocvlError as e:
        return {"path": path, "status": "failed", "error": e.message}
    finally:
        doc.close()


def print_info(reports: list[dict], as_json: bool) -> None:
    if as_json:
        body = reports[0] if len(reports) == 1 else reports
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    out = Console()
    for r in reports:
        if r["status"] == "failed":
            print(f"docvl: error: {r['error']}", file=sys.stderr)
            continue
        table = Table(title=f"{r['path']} ({r['kind']}, {r['page_count']} pages)")
        for col in ("page", "size (pt)", "rot", "scan DPI", "text layer", "pixels", "visual tokens"):
            table.add_column(col, justify="right")
        for p in r["pages"]:
            table.add_row(str(p["page"]), f"{p['width_pt']:.0f} x {p['height_pt']:.0f}", str(p["rotation"]),
                          "-" if p["scan_dpi"] is None else f"{p['scan_dpi']:.0f}",
                          "-" if p["text_layer"] is None else p["text_layer"]["verdict"], f"{p['width_px']} x {p['height_px']}",
                          str(p["visual_tokens"]))
        out.print(table)
