"""`docvl info`: what each page is and what it would cost, without loading a model."""

from __future__ import annotations

import json
import sys

from .budget import Budget, visual_tokens
from .errors import DocvlError, InputError, one_line, short_reason
from .raster import page_geometry, page_job, plan_size
from .sources import Document, open_document, parse_pages


def inspect_document(path: str, budget: Budget, pages: str | None, password: str | None,
                     time_limit: float | None = None) -> dict:
    """A report of the document: `status` ok, partial (some pages could not be read; each says why)
    or failed (the file could not be opened). Pages are read within the rasterization time limit:
    finding a page's images and text interprets it, which can take as long as rendering it."""
    try:
        doc = open_document(path, password)
    except DocvlError as e:
        return {"path": path, "status": "failed", "error": e.message}
    try:
        report = {"path": path, "status": "ok", "error": None, "kind": doc.kind, "page_count": doc.page_count,
                  "pages": []}
        for number in parse_pages(pages, doc.page_count):
            try:
                report["pages"].append(page_job(inspect_page, doc, number, budget, time_limit))
            except DocvlError as e:
                report["pages"].append({"page": number, "status": "failed", "error": e.message})
        failed = sum(p["status"] != "ok" for p in report["pages"])
        if failed:
            report["status"] = "failed" if failed == len(report["pages"]) else "partial"
            report["error"] = f"{failed} of {len(report['pages'])} pages could not be read"
        return report
    finally:
        doc.close()


def inspect_page(doc: Document, number: int, budget: Budget) -> dict:
    w_pt, h_pt, rotation, scan = page_geometry(doc, number)
    try:
        h, w = plan_size(w_pt, h_pt, scan, budget)
        text_layer = bool(doc.handle[number - 1].get_text().strip()) if doc.kind == "pdf" else False
    except Exception as e:
        raise InputError(f"{doc.path}: page {number} cannot be read ({short_reason(e)})") from None
    return {
        "page": number, "status": "ok", "width_pt": round(w_pt, 2), "height_pt": round(h_pt, 2),
        "rotation": rotation, "scan_dpi": None if scan is None else round(scan, 1),
        "text_layer": text_layer, "width_px": w, "height_px": h, "visual_tokens": visual_tokens(h, w),
    }


def print_info(reports: list[dict], as_json: bool) -> None:
    """Reports to stdout (a table, or JSON), and every failure as one line on stderr."""
    for r in reports:
        if r["status"] == "failed" and not r.get("pages"):
            print(f"docvl: error: {r['error']}", file=sys.stderr)
        for p in r.get("pages", []):
            if p["status"] != "ok":
                print(f"docvl: error: {p['error']}", file=sys.stderr)
    if as_json:
        from .output import dumps

        body = reports[0] if len(reports) == 1 else reports
        sys.stdout.write(dumps(body, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = Console()
    for r in reports:
        if "pages" not in r:
            continue
        # File names are data, not Rich markup, and may hold control characters.
        table = Table(title=escape(f"{one_line(r['path'])} ({r['kind']}, {r['page_count']} pages)"))
        for col in ("page", "size (pt)", "rot", "scan DPI", "text layer", "pixels", "visual tokens"):
            table.add_column(col, justify="right")
        for p in r["pages"]:
            if p["status"] != "ok":
                table.add_row(str(p["page"]), "cannot be read", *[""] * 5)
                continue
            table.add_row(str(p["page"]), f"{p['width_pt']:.0f} x {p['height_pt']:.0f}", str(p["rotation"]),
                          "-" if p["scan_dpi"] is None else f"{p['scan_dpi']:.0f}",
                          "yes" if p["text_layer"] else "no", f"{p['width_px']} x {p['height_px']}",
                          str(p["visual_tokens"]))
        out.print(table)
