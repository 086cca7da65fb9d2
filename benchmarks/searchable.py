"""Searchable PDFs: how much the text layer adds to a file, and how long writing it takes per page.

For every page image of ../shared/corpus/sroie (receipts, with their ground-truth lines and boxes) and
../shared/corpus/tesseract (scans; their transcripts have no boxes, so their lines are laid out evenly
down the page: the amount of text is real, the boxes are not), it builds the `ocr --boxes` record docvl
would produce if the model read every line right, then writes (a) the image as a searchable PDF
(`docvl ocr IMAGE --format pdf`) and (b) the text layer into a one-page scan PDF of that image (`docvl
ocr SCAN.pdf --format pdf`, saved incrementally), and reports sizes (input, output, UTF-8 bytes of the
text) and seconds per page. The OCR time it compares with is docvl's recorded throughput
(benchmarks/results/throughput-*.json, the docvl runner's best pages/s).

    python benchmarks/searchable.py --out benchmarks/results/searchable.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"


def _page(width_px: int, height_px: int, dpi: float, lines: list[tuple[str, list[float]]]) -> dict:
    per_pt = dpi / 72.0
    return {"page": 1, "status": "ok", "source": "model", "width_pt": width_px / per_pt,
            "height_pt": height_px / per_pt, "rotation": 0, "width_px": width_px, "height_px": height_px,
            "dpi": dpi, "lines": [{"text": t, "box": [v / per_pt for v in box], "box_px": box} for t, box in lines]}


def sroie_lines(path: Path) -> list[tuple[str, list[float]]]:
    lines = []
    with open(path.with_suffix(".csv"), encoding="utf-8", errors="replace") as f:
        for row in csv.reader(f):
            if len(row) < 9:
                continue
            xs, ys = [float(v) for v in row[0:8:2]], [float(v) for v in row[1:8:2]]
            lines.append((",".join(row[8:]), [min(xs), min(ys), max(xs), max(ys)]))
    return lines


def transcript_lines(path: Path, width: int, height: int) -> list[tuple[str, list[float]]]:
    transcript = path.with_suffix(".txt")
    if not transcript.exists():  # phototest-rotated-*.png are phototest.tif turned
        transcript = path.with_name(path.stem.split("-rotated")[0] + ".txt")
    if not transcript.exists():
        return []
    text = [t for t in transcript.read_text(encoding="utf-8", errors="replace").splitlines() if t.strip()]
    if not text:
        return []
    step = height * 0.9 / len(text)
    return [(t, [width * 0.05, height * 0.05 + i * step, width * 0.95, height * 0.05 + i * step + step * 0.8])
            for i, t in enumerate(text)]


def ocr_seconds_per_page() -> dict:
    """docvl's recorded OCR speed: the best docvl-runner pages/s of each throughput result."""
    found = {}
    for path in sorted((ROOT / "benchmarks" / "results").glob("throughput-*.json")):
        data = json.loads(path.read_text())
        runs = [r for r in data.get("runs", []) if r.get("engine") == "docvl" and r.get("pages_per_s")]
        if runs:
            best = max(runs, key=lambda r: r["pages_per_s"])
            found[path.name] = round(1.0 / best["pages_per_s"], 4)
    return found


def main() -> None:
    import pymupdf
    from PIL import Image

    from docvl.raster import _image_dpi
    from docvl.searchable import searchable_pdf

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--limit", type=int, default=0, help="at most this many images per folder (0: all)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for folder in ("sroie", "tesseract"):
            images = sorted(p for p in (CORPUS / folder).glob("*") if p.suffix.lower() in (".jpg", ".png", ".tif"))
            for path in images[: args.limit or None]:
                with Image.open(path) as img:
                    w, h, dpi, frames = img.width, img.height, _image_dpi(img), getattr(img, "n_frames", 1)
                if frames != 1:
                    continue
                lines = sroie_lines(path) if folder == "sroie" else transcript_lines(path, w, h)
                record = {"source": {"path": str(path)}, "pages": [_page(w, h, dpi, lines)]}
                text_bytes = sum(len(t.encode("utf-8")) for t, _ in lines)
                start = time.perf_counter()
                from_image = searchable_pdf(record, str(path))
                image_s = time.perf_counter() - start
                scan = Path(tmp, path.stem + ".pdf")
                doc = pymupdf.open()
                page = doc.new_page(width=w * 72 / dpi, height=h * 72 / dpi)
                page.insert_image(page.rect, filename=str(path))
                doc.save(scan)
                doc.close()
                start = time.perf_counter()
                from_pdf = searchable_pdf(record, str(scan))
                pdf_s = time.perf_counter() - start
                rows.append({"file": f"{folder}/{path.name}", "lines": len(lines), "text_bytes": text_bytes,
                             "image_bytes": path.stat().st_size, "image_to_pdf_bytes": len(from_image),
                             "image_ratio": round(len(from_image) / path.stat().st_size, 4),
                             "image_seconds": round(image_s, 4),
                             "scan_pdf_bytes": scan.stat().st_size, "searchable_pdf_bytes": len(from_pdf),
                             "added_bytes": len(from_pdf) - scan.stat().st_size,
                             "pdf_ratio": round(len(from_pdf) / scan.stat().st_size, 4),
                             "pdf_seconds": round(pdf_s, 4)})
                print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for folder in ("sroie", "tesseract"):
        mine = [r for r in rows if r["file"].startswith(folder + "/")]
        if mine:
            summary[folder] = {
                "files": len(mine),
                "pdf_ratio_median": statistics.median(r["pdf_ratio"] for r in mine),
                "pdf_ratio_max": max(r["pdf_ratio"] for r in mine),
                "added_bytes_per_text_byte_median": statistics.median(r["added_bytes"] / max(1, r["text_bytes"]) for r in mine),
                "added_bytes_max": max(r["added_bytes"] for r in mine),
                "image_ratio_median": statistics.median(r["image_ratio"] for r in mine),
                "image_ratio_max": max(r["image_ratio"] for r in mine),
                "pdf_seconds_median": statistics.median(r["pdf_seconds"] for r in mine),
                "image_seconds_median": statistics.median(r["image_seconds"] for r in mine),
            }
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "benchmark": "searchable",
              "command": "python " + " ".join(sys.argv),
              "machine": {"cpu": platform.machine(), "cpu_count": os.cpu_count()},
              "versions": {"python": platform.python_version(), "pymupdf": pymupdf.VersionBind},
              "summary": summary, "ocr_seconds_per_page_recorded": ocr_seconds_per_page(), "files": rows}
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
