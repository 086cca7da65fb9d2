"""Blank-page decision (docvl/blank.py) on real scans and generated pages.

    python benchmarks/blank.py                      # ../shared/corpus/tesseract and sroie
    python benchmarks/blank.py --corpus DIR --out benchmarks/results/blank.json

Every page of the scans holds text and must not be called blank. The generated pages are letter-size
scans at 100, 150 and 200 DPI: blank (white, scanner noise, dark scanner borders, faint show-through of a
text page, all together) must be called blank; sparse ones (a page number, a short line, a signature,
the same over noise, borders and show-through) must not. Each page goes through docvl's own rendering
at the default pixel budget, as `docvl ocr` renders it.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import report  # noqa: E402

from docvl.blank import is_blank  # noqa: E402
from docvl.budget import Budget  # noqa: E402
from docvl.raster import render_page  # noqa: E402
from docvl.sources import open_document  # noqa: E402

CORPUS = HERE.parents[1] / "shared" / "corpus"
SCANS = ("tesseract", "sroie")
SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"}
LETTER = (612, 792)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, action="append",
                   help=f"folder of scans with text (repeatable; default {', '.join(SCANS)} in {CORPUS})")
    p.add_argument("--dpi", type=int, action="append", help="generated pages' resolutions (default 100 150 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=HERE / "results" / "blank.json")
    return p.parse_args(argv)


# -- generated pages ---------------------------------------------------------------------------------

def text_layer_image(lines: list[tuple[float, float, str, float]], dpi: int, size=LETTER):
    """A white page with text drawn by MuPDF: (x_pt, y_pt, text, fontsize) each."""
    import pymupdf
    from PIL import Image

    doc = pymupdf.open()
    page = doc.new_page(width=size[0], height=size[1])
    for x, y, text, fontsize in lines:
        page.insert_text((x, y), text, fontsize=fontsize)
    pix = page.get_pixmap(dpi=dpi, colorspace="gray")
    image = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    doc.close()
    return image


def signature(image, dpi: int, rng: random.Random):
    """A pen scribble, about 1.5 x 0.5 inches, low on the page."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    x0, y0 = image.width * 0.55, image.height * 0.82
    points = [(x0 + dpi * 1.5 * t / 40, y0 + dpi * 0.2 * math.sin(t * 0.9 + rng.random())) for t in range(41)]
    draw.line(points, fill=30, width=max(1, dpi // 70))
    return image


def noise(image, rng: random.Random, sigma: float = 10.0, specks: int = 300):
    """Sensor noise, salt and pepper, and a few dust specks of 1-2 px."""
    import numpy as np
    from PIL import Image

    a = np.asarray(image, dtype=np.float32)
    g = np.random.default_rng(rng.randrange(2**32))
    a = a + g.normal(0, sigma, a.shape)
    salt = g.random(a.shape) < 0.002
    a[salt] = g.uniform(0, 120, int(salt.sum()))
    h, w = a.shape
    for _ in range(specks // 30):
        y, x, r = g.integers(5, h - 5), g.integers(5, w - 5), g.integers(1, 3)
        a[y - r // 2:y + r, x - r // 2:x + r] = g.uniform(20, 90)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def borders(image, rng: random.Random):
    """Dark scanner borders along two or three edges, ragged, 1-5% of the page."""
    import numpy as np
    from PIL import Image

    a = np.asarray(image).copy()
    h, w = a.shape
    g = np.random.default_rng(rng.randrange(2**32))
    left = int(w * g.uniform(0.01, 0.05))
    top = int(h * g.uniform(0.01, 0.04))
    for y in range(h):
        a[y, : left + int(g.integers(0, 4))] = 25
    a[: top, :] = 35
    if g.random() < 0.5:
        a[:, w - int(w * 0.02):] = 40
    return Image.fromarray(a)


def show_through(image, dpi: int, rng: random.Random, contrast: float = 45.0):
    """A mirrored, blurred text page bleeding through the paper at `contrast` gray levels."""
    import numpy as np
    from PIL import Image, ImageFilter, ImageOps

    back = text_layer_image([(72, 90 + 16 * i, f"Reverse side line {i} of a letter with ordinary words in it", 11)
                             for i in range(40)], dpi)
    back = ImageOps.mirror(back).filter(ImageFilter.GaussianBlur(dpi / 100))
    a = np.asarray(image, dtype=np.float32)
    b = 1.0 - np.asarray(back.resize(image.size), dtype=np.float32) / 255.0
    return Image.fromarray(np.clip(a - contrast * b, 0, 255).astype(np.uint8))


def generated(dpis: list[int], rng: random.Random):
    """(name, image, dpi, expected blank)."""
    from PIL import Image

    for dpi in dpis:
        w, h = round(LETTER[0] * dpi / 72), round(LETTER[1] * dpi / 72)
        white = lambda: Image.new("L", (w, h), 255)  # noqa: E731
        yield "white", white(), dpi, True
        yield "off-white paper", Image.new("L", (w, h), 228), dpi, True
        yield "noise", noise(white(), rng), dpi, True
        yield "heavy noise", noise(white(), rng, sigma=16, specks=900), dpi, True
        yield "borders", borders(white(), rng), dpi, True
        yield "show-through", show_through(white(), dpi, rng), dpi, True
        yield "show-through 55", show_through(white(), dpi, rng, 55), dpi, True
        yield "noise+borders+show-through", noise(borders(show_through(white(), dpi, rng), rng), rng), dpi, True
        sparse = {
            "page number": [(300, 760, "7", 10)],
            "page number 8pt": [(300, 760, "12", 8)],
            "short line": [(72, 100, "Approved", 11)],
            "one word 9pt corner": [(40, 60, "Draft", 9)],
            "faint gray line": [(72, 400, "Copy", 11)],
        }
        for name, lines in sparse.items():
            page = text_layer_image(lines, dpi)
            if name == "faint gray line":  # gray text, 100 levels below the paper
                import numpy as np

                a = np.asarray(page, dtype=np.float32)
                page = Image.fromarray((255 - (255 - a) * 100 / 255).astype(np.uint8))
            yield name, page, dpi, False
            yield name + " + noise", noise(page, rng), dpi, False
            yield name + " + borders + show-through", borders(show_through(page, dpi, rng), rng), dpi, False
        yield "signature", signature(white(), dpi, rng), dpi, False
        yield "signature + noise + borders", noise(borders(signature(white(), dpi, rng), rng), rng), dpi, False


def decide(path: Path, budget: Budget, pages: int | None = None):
    """(page, blank, seconds of the decision) for each page of a file, rendered as docvl renders it."""
    doc = open_document(str(path))
    try:
        for n in range(1, (pages or doc.page_count) + 1):
            page = render_page(doc, n, budget)
            start = time.thread_time()  # CPU time: the machine may be shared
            blank = is_blank(page.image, page.dpi)
            yield n, blank, time.thread_time() - start
    finally:
        doc.close()


def main(argv=None) -> dict:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    budget = Budget()
    folders = args.corpus or [CORPUS / s for s in SCANS]
    rows, times = [], []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES):
            for n, blank, seconds in decide(path, budget):
                rows.append({"set": folder.name, "page": f"{path.name}#{n}", "expected_blank": False, "blank": blank})
                times.append(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, image, dpi, expected) in enumerate(generated(args.dpi or [100, 150, 200], rng)):
            path = Path(tmp) / f"{i}.png"
            image.save(path, dpi=(dpi, dpi))
            [(_, blank, seconds)] = list(decide(path, budget))
            rows.append({"set": "generated", "page": f"{name} @{dpi}dpi", "expected_blank": expected, "blank": blank})
            times.append(seconds)
    wrong = [r for r in rows if r["blank"] != r["expected_blank"]]
    text_called_blank = [r for r in wrong if not r["expected_blank"]]
    summary = {
        "pages": len(rows),
        "pages_with_text": sum(not r["expected_blank"] for r in rows),
        "blank_pages": sum(r["expected_blank"] for r in rows),
        "text_called_blank": len(text_called_blank),
        "blank_sent_to_model": len(wrong) - len(text_called_blank),
        "cpu_ms_per_page_mean": round(1000 * sum(times) / len(times), 2),
        "cpu_ms_per_page_max": round(1000 * max(times), 2),
    }
    payload = {
        "benchmark": "blank",
        "command": report.command(__file__, sys.argv[1:] if argv is None else argv),
        "machine": report.machine(),
        "versions": report.versions(),
        "setup": {"corpus": [str(f) for f in folders], "budget_max_pixels": budget.max_pixels,
                  "generated_dpi": args.dpi or [100, 150, 200], "seed": args.seed},
        "summary": summary,
        "wrong": wrong,
        "pages": rows,
    }
    report.write(args.out, payload)
    print(summary, file=sys.stderr)
    for r in wrong:
        print("wrong:", r, file=sys.stderr)
    return payload


if __name__ == "__main__":
    main()
