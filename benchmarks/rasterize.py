"""Rasterization throughput: docvl's page rendering (PyMuPDF, straight to the budget's size) against
pdftoppm (poppler) and pypdfium2 (Docling's, Marker's and MinerU's choice), at equal output pixels.

    python benchmarks/rasterize.py                       # the PDFs in ../shared/corpus
    python benchmarks/rasterize.py --corpus DIR --max-pages-per-doc 10

docvl renders first and fixes every page's pixel size; the others render the same pages to the same
size (pdftoppm: -scale-to-x/-scale-to-y; pypdfium2: the scale giving the same pixel count), each into a
PIL image in memory, one thread each. A tool that is not installed is skipped. Ratios are docvl's pages/s
over the other's: above 1, docvl is faster.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # this checkout's docvl, and the benchmark's modules

import report  # noqa: E402

from docvl.budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, Budget  # noqa: E402
from docvl.errors import DocvlError  # noqa: E402
from docvl.raster import render_page  # noqa: E402
from docvl.sources import open_document, parse_pages  # noqa: E402

CORPUS = HERE.parents[1] / "shared" / "corpus"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, action="append", help=f"folder of PDFs, searched recursively "
                                                                 f"(repeatable; default {CORPUS})")
    p.add_argument("--max-pages-per-doc", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3, help="passes per tool, interleaved; the median is kept")
    p.add_argument("--min-pixels", type=int, default=DEFAULT_MIN_PIXELS)
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    p.add_argument("--out", type=Path, default=report.RESULTS / "rasterize.json")
    return p.parse_args(argv)


def docvl_render(pdfs: list[Path], budget: Budget, limit: int) -> tuple[dict, list[tuple[Path, int, int, int]]]:
    """Time docvl over every page it can render; return the timing and (pdf, page, width, height) of each."""
    pages, pixels, failed = [], 0, 0
    start = time.perf_counter()
    for pdf in pdfs:
        try:
            doc = open_document(str(pdf))
        except DocvlError:
            failed += 1
            continue
        try:
            for number in parse_pages(f"1-{limit}", doc.page_count):
                try:
                    image = render_page(doc, number, budget).image
                except DocvlError:
                    failed += 1
                    continue
                pixels += image.width * image.height
                pages.append((pdf, number, image.width, image.height))
        finally:
            doc.close()
    return timing("docvl (PyMuPDF)", len(pages), pixels, time.perf_counter() - start, failed), pages


def pdftoppm_render(pages: list[tuple[Path, int, int, int]]) -> dict | None:
    """One pdftoppm process per run of consecutive same-size pages (as pdf2image calls it), PPM output,
    loaded into PIL images."""
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        return None
    runs: list[list] = []
    for pdf, number, w, h in pages:
        last = runs[-1] if runs else None
        if last and last[0] == pdf and last[2] == number - 1 and last[3:] == [w, h]:
            last[2] = number
        else:
            runs.append([pdf, number, number, w, h])
    rendered, pixels, failed = 0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i, (pdf, first, last, w, h) in enumerate(runs):
            prefix = Path(tmp) / f"r{i}"
            proc = subprocess.run(["pdftoppm", "-f", str(first), "-l", str(last), "-scale-to-x", str(w),
                                   "-scale-to-y", str(h), str(pdf), str(prefix)], capture_output=True)
            files = sorted(Path(tmp).glob(f"r{i}-*.ppm"))
            failed += (last - first + 1) - len(files) if proc.returncode == 0 else last - first + 1
            for f in files if proc.returncode == 0 else []:
                with Image.open(f) as image:
                    image.load()
                    pixels += image.width * image.height
                rendered += 1
        seconds = time.perf_counter() - start
    return timing("pdftoppm", rendered, pixels, seconds, failed)


def pdfium_render(pages: list[tuple[Path, int, int, int]]) -> dict | None:
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return None
    rendered, pixels, failed = 0, 0, 0
    start = time.perf_counter()
    current, doc = None, None
    for pdf, number, w, h in pages:
        try:
            if pdf != current:
                if doc is not None:
                    doc.close()
                current, doc = pdf, pdfium.PdfDocument(str(pdf))
            page = doc[number - 1]
            pw, ph = page.get_size()
            image = page.render(scale=math.sqrt(w * h / (pw * ph))).to_pil()
            pixels += image.width * image.height
            rendered += 1
        except Exception:  # pdfium raises PdfiumError and others on hostile files
            failed += 1
    if doc is not None:
        doc.close()
    return timing("pypdfium2", rendered, pixels, time.perf_counter() - start, failed)


def median(runs: list[dict | None]) -> dict | None:
    if runs[0] is None:
        return None
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return {**ordered[len(ordered) // 2], "passes_seconds": [r["seconds"] for r in runs]}


def timing(tool: str, pages: int, pixels: int, seconds: float, failed: int) -> dict:
    return {"tool": tool, "pages": pages, "failed": failed, "seconds": round(seconds, 3),
            "pages_per_s": round(pages / seconds, 2) if seconds > 0 else None,
            "megapixels": round(pixels / 1e6, 2), "megapixels_per_s": round(pixels / 1e6 / seconds, 2)}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    folders = args.corpus or [CORPUS]
    pdfs = sorted(p for folder in folders for p in folder.rglob("*.pdf"))
    if not pdfs:
        raise SystemExit(f"rasterize: no PDFs under {', '.join(map(str, folders))}")
    for pdf in pdfs:  # read every file once, so the first tool does not pay the disk alone
        pdf.read_bytes()
    budget = Budget(args.min_pixels, args.max_pixels)
    # Warm-up, untimed: imports (PyMuPDF's alone takes about a second) and the libraries' first-use setup.
    _, first = docvl_render(pdfs[:1], budget, 1)
    pdftoppm_render(first), pdfium_render(first)
    passes: dict[str, list] = {"docvl": [], "pdftoppm": [], "pypdfium2": []}
    for _ in range(args.repeat):  # interleaved, so a busy moment of the machine hits every tool alike
        ours, pages = docvl_render(pdfs, budget, args.max_pages_per_doc)
        passes["docvl"].append(ours)
        passes["pdftoppm"].append(pdftoppm_render(pages))
        passes["pypdfium2"].append(pdfium_render(pages))
    ours = median(passes.pop("docvl"))
    others = {name: median(runs) for name, runs in passes.items()}
    results = [ours, *(r for r in others.values() if r)]
    payload = {
        "benchmark": "rasterize",
        "command": report.command(__file__, sys.argv[1:] if argv is None else argv),
        "machine": report.machine(),
        "versions": {**report.versions(), "poppler": poppler_version()},
        "setup": {"corpus": [str(f) for f in folders], "documents": len(pdfs),
                  "max_pages_per_doc": args.max_pages_per_doc, "repeat": args.repeat, "min_pixels": budget.min_pixels,
                  "max_pixels": budget.max_pixels},
        "results": results,
        "skipped": [name for name, r in others.items() if r is None],
        "ratios": {f"docvl_over_{name}_pages_per_s": round(ours["pages_per_s"] / r["pages_per_s"], 3)
                   for name, r in others.items() if r and r["pages_per_s"]},
    }
    report.write(args.out, payload)
    for r in results:
        print(f"{r['tool']:16} {r['pages']:5} pages {r['pages_per_s']:8.2f} pages/s {r['megapixels_per_s']:8.2f} "
              f"MP/s ({r['failed']} failed)", file=sys.stderr)
    for name, ratio in payload["ratios"].items():
        print(f"{name}: {ratio:.2f}x", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return payload


def poppler_version() -> str | None:
    if shutil.which("pdftoppm") is None:
        return None
    proc = subprocess.run(["pdftoppm", "-v"], capture_output=True, text=True)
    return (proc.stderr or proc.stdout).split("\n", 1)[0].removeprefix("pdftoppm version ").strip()


if __name__ == "__main__":
    main()
