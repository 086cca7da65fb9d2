"""`docvl info`: what each page is and what it would cost, without loading a model."""

from __future__ import annotations

import functools
import sys
from typing import Iterable, Iterator

from .budget import Budget, visual_tokens
from .errors import InputError, counted, one_line, short_reason
from .inputs import Input
from .raster import page_geometry, plan_size
from .rasterpool import Job, RasterPool, Source
from .sources import Document, select_pages
from .textlayer import read_page


def inspect_documents(inputs: Iterable[Input | str], budget: Budget, pages: str | None, password: str | None,
                      timeout: float | None = None) -> Iterator[dict]:
    """A report per input (inputs.expand_inputs, or plain paths), in order: `status` ok, partial (some
    pages could not be read; each says why) or failed (the file could not be opened). Files are opened
    and their pages read in a raster worker (rasterpool), `timeout` seconds at most each (--page-timeout):
    finding a page's images and text interprets it, which can take as long as rendering it, or forever."""
    pool = RasterPool(1, budget, functools.partial(inspect_page, budget=budget), timeout)
    try:
        for seq, item in enumerate(inputs):
            item = Input(item, item) if isinstance(item, str) else item
            if item.problem:
                yield {"path": item.path, "status": "failed", "error": item.problem}
                continue
            yield _inspect(pool, seq, Source(item.path, item.location, password), pages)
    finally:
        pool.close()


def _inspect(pool, seq: int, source, pages: str | None) -> dict:
    reply = _ask(pool, Job("open", seq, source))
    if reply[0] != "opened":
        return {"path": source.path, "status": "failed", "error": reply[1]}
    kind, page_count, _ = reply[1:]
    try:
        numbers = select_pages(source.path, pages, page_count)
    except InputError as e:
        return {"path": source.path, "status": "failed", "error": e.message}
    report = {"path": source.path, "status": "ok", "error": None, "kind": kind, "page_count": page_count,
              "pages": []}
    for number in numbers:
        reply = _ask(pool, Job("page", seq, source, number))
        ok = reply[0] == "answered"
        report["pages"].append(reply[1] if ok else {"page": number, "status": "failed", "error": reply[1]})
    failed = sum(p["status"] != "ok" for p in report["pages"])
    if failed:
        report["status"] = "failed" if failed == len(report["pages"]) else "partial"
        report["error"] = f"{failed} of {len(report['pages'])} pages could not be read"
    return report


def _ask(pool, job) -> tuple:
    """One job on the pool's one worker, waited for: its reply (an error if it timed out)."""
    [worker] = pool.idle()
    pool.submit(worker, job)
    while not (replies := pool.poll(1.0)):
        pass
    return replies[0][1]


def inspect_page(doc: Document, number: int, budget: Budget) -> dict:
    """One page's report (in a raster worker: rasterpool's answer_page hook)."""
    w_pt, h_pt, rotation, scan = page_geometry(doc, number)
    try:
        h, w = plan_size(w_pt, h_pt, scan, budget)
        read = read_page(doc, number)
    except Exception as e:
        raise InputError(f"{doc.path}: page {number} cannot be read ({short_reason(e)})") from None
    return {
        "page": number, "status": "ok", "width_pt": round(w_pt, 2), "height_pt": round(h_pt, 2),
        "rotation": rotation, "scan_dpi": None if scan is None else round(scan, 1),
        "text_layer": None if read is None else read[1].as_dict(), "width_px": w, "height_px": h, "visual_tokens": visual_tokens(h, w),
    }


def print_info(reports: list[dict], as_json: bool) -> None:
    """Reports to stdout (a table, or JSON), and every failure as one line on stderr."""
    for r in reports:
        failures = [r] if r["status"] == "failed" and not r.get("pages") else []
        for item in failures + [p for p in r.get("pages", []) if p["status"] != "ok"]:
            print(one_line(f"docvl: error: {item['error']}"), file=sys.stderr)
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
        table = Table(title=escape(f"{one_line(r['path'])} ({r['kind']}, {counted(r['page_count'], 'page')})"))
        for col in ("page", "size (pt)", "rot", "scan DPI", "text layer", "pixels", "visual tokens"):
            table.add_column(col, justify="right")
        for p in r["pages"]:
            if p["status"] != "ok":
                table.add_row(str(p["page"]), "cannot be read", *[""] * 5)
                continue
            table.add_row(str(p["page"]), f"{p['width_pt']:.0f} x {p['height_pt']:.0f}", str(p["rotation"]),
                          "-" if p["scan_dpi"] is None else f"{p['scan_dpi']:.0f}",
                          "-" if p["text_layer"] is None else p["text_layer"]["verdict"], f"{p['width_px']} x {p['height_px']}",
                          str(p["visual_tokens"]))
        out.print(table)
