"""Page orientation detection (docvl/orientation.py): accuracy per angle and CPU time per page.

    python benchmarks/orientation.py        # ../shared/corpus: tesseract, sroie scans; icdar2013-eu, tables-public PDFs
    python benchmarks/orientation.py --scans DIR --pdfs DIR --out benchmarks/results/orientation.json

Pages are rendered as `docvl ocr` renders them (default pixel budget), then turned by 0, 90, 180 and 270
degrees clockwise; the detector must give the turn back. Truth: a scan with a transcript beside it
(`STEM.txt`, tesseract) or SROIE's line file (`STEM.csv`) stands upright; a born-digital page's
orientation is its text layer's: the direction most of its characters run in. Reported: the share of
pages whose text axis is found (0 vs 90/270: horizontal or vertical lines), the share of those whose
up/down is right (0 vs 180), the share fully right per angle, and milliseconds per page.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import report  # noqa: E402

from docvl.budget import Budget  # noqa: E402
from docvl.orientation import ANGLES, detect, turn  # noqa: E402
from docvl.raster import render_page  # noqa: E402
from docvl.sources import open_document  # noqa: E402

CORPUS = HERE.parents[1] / "shared" / "corpus"
IMAGES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scans", type=Path, action="append",
                   help=f"folder of scans with transcripts (repeatable; default {CORPUS}/tesseract and sroie)")
    p.add_argument("--pdfs", type=Path, action="append",
                   help=f"folder of born-digital PDFs (repeatable; default {CORPUS}/icdar2013-eu and tables-public)")
    p.add_argument("--pages-per-pdf", type=int, default=2)
    p.add_argument("--out", type=Path, default=HERE / "results" / "orientation.json")
    return p.parse_args(argv)


def text_layer_turn(page) -> int | None:
    """The clockwise turn that stands a born-digital page's text upright, from the direction most of its
    characters run in (as displayed); None without text."""
    votes: dict[int, int] = {}
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            dx, dy = line["dir"]
            runs = round(((math.degrees(math.atan2(dy, dx)) + page.rotation) % 360) / 90) % 4 * 90
            votes[runs] = votes.get(runs, 0) + sum(len(s["text"].strip()) for s in line["spans"])
    if not votes or not max(votes.values()):
        return None
    return (360 - max(votes, key=votes.get)) % 360


def pages(scans: list[Path], pdfs: list[Path], per_pdf: int, budget: Budget):
    """(set, name, PageImage, the turn that stands it upright)."""
    for folder in scans:
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGES):
            if not (path.with_suffix(".txt").exists() or path.with_suffix(".csv").exists()):
                continue  # no transcript: its orientation is not known
            doc = open_document(str(path))
            try:
                for n in range(1, doc.page_count + 1):
                    yield folder.name, f"{path.name}#{n}", render_page(doc, n, budget), 0
            finally:
                doc.close()
    for folder in pdfs:
        for path in sorted(folder.rglob("*.pdf")):
            doc = open_document(str(path))
            try:
                for n in range(1, min(per_pdf, doc.page_count) + 1):
                    truth = text_layer_turn(doc.handle[n - 1])
                    if truth is not None:
                        yield folder.name, f"{path.name}#{n}", render_page(doc, n, budget), truth
            finally:
                doc.close()


def main(argv=None) -> dict:
    args = parse_args(argv)
    scans = args.scans or [CORPUS / "tesseract", CORPUS / "sroie"]
    pdfs = args.pdfs or [CORPUS / "icdar2013-eu", CORPUS / "tables-public"]
    budget = Budget()
    rows, times, cpu = [], [], []
    for name_set, name, page, truth in pages(scans, pdfs, args.pages_per_pdf, budget):
        for angle in ANGLES:
            image = turn(page.image, angle)  # the page lying turned by `angle`
            expected = (truth - angle) % 360
            start, start_cpu = time.perf_counter(), time.thread_time()
            got = detect(image)
            times.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
            rows.append({"set": name_set, "page": name, "turned": angle, "expected": expected, "detected": got})
    axis_right = [r for r in rows if r["detected"] % 180 == r["expected"] % 180]
    summary = {
        "pages": len(rows) // len(ANGLES),
        "samples": len(rows),
        "axis_accuracy_0_vs_90_270": round(len(axis_right) / len(rows), 4),
        "updown_accuracy_0_vs_180": round(sum(r["detected"] == r["expected"] for r in axis_right) / len(axis_right), 4),
        "accuracy_per_angle": {str(a): round(sum(r["detected"] == r["expected"] for r in rows if r["turned"] == a)
                                             / sum(r["turned"] == a for r in rows), 4) for a in ANGLES},
        "accuracy_per_set": {s: round(sum(r["detected"] == r["expected"] for r in rows if r["set"] == s)
                                      / sum(r["set"] == s for r in rows), 4) for s in sorted({r["set"] for r in rows})},
        "ms_per_page_mean": round(1000 * statistics.mean(times), 2),
        "ms_per_page_median": round(1000 * statistics.median(times), 2),
        "ms_per_page_max": round(1000 * max(times), 2),
        # CPU time of the detecting thread: what a page costs when the machine is shared (wall time counts
        # the waits for a core too)
        "cpu_ms_per_page_mean": round(1000 * statistics.mean(cpu), 2),
        "cpu_ms_per_page_max": round(1000 * max(cpu), 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    payload = {
        "benchmark": "orientation",
        "command": report.command(__file__, sys.argv[1:] if argv is None else argv),
        "machine": report.machine(),
        "versions": report.versions(),
        "setup": {"scans": [str(f) for f in scans], "pdfs": [str(f) for f in pdfs],
                  "pages_per_pdf": args.pages_per_pdf, "budget_max_pixels": budget.max_pixels,
                  "timing": "detect() alone on the rendered page image, one thread: wall and thread CPU time"},
        "summary": summary,
        "wrong": [r for r in rows if r["detected"] != r["expected"]],
    }
    report.write(args.out, payload)
    print(summary, file=sys.stderr)
    return payload


if __name__ == "__main__":
    main()
