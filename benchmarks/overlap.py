"""Overlap: the streaming runner renders pages while the model generates.

In one process, on the same synthetic letter pages and the same random tiny Qwen2-VL: (1) rasterization
alone (every page rendered in turn, as one worker does), (2) the model alone (the pre-rendered pages in
batches of --batch-size through the engine), (3) end to end through docvl's runner with one raster
worker. Rendering is sized to take about as long as the model on this machine: each page carries a vector
drawing whose number of strokes is calibrated first (--strokes fixes it). All pages have one shape, so
the runner's batches (by visual tokens) are the same as (2)'s. Without overlap (3) would take (1) + (2);
with perfect overlap max((1), (2)). Reports the ratio (3) / ((1) + (2)), medians over --repeat rounds.

    python benchmarks/overlap.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE.parent / "tests")]

import report  # noqa: E402
from synthetic import SHAPES, synthetic_pdf  # noqa: E402

from docvl.budget import Budget  # noqa: E402
from docvl.engines import Request  # noqa: E402
from docvl.raster import render_page  # noqa: E402
from docvl.sources import open_document  # noqa: E402
from docvl.tasks.ocr import ocr_task  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=48)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--tokens", type=int, default=4, help="tokens generated per page")
    p.add_argument("--strokes", type=int, default=None, help="vector strokes per page (default: calibrated)")
    p.add_argument("--min-pixels", type=int, default=64 * 784)
    p.add_argument("--max-pixels", type=int, default=256 * 784)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=report.RESULTS / "overlap.json")
    return p.parse_args(argv)


def raster_pass(pdf: Path, budget: Budget):
    start = time.perf_counter()
    doc = open_document(str(pdf))
    pages = [render_page(doc, n, budget) for n in range(1, doc.page_count + 1)]
    doc.close()
    return pages, time.perf_counter() - start


def model_pass(engine, task, pages, batch_size: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(pages), batch_size):
        batch = pages[i:i + batch_size]
        engine.generate([Request(p.image, task.prompt(p, engine.family)) for p in batch])
    return time.perf_counter() - start


def set_tokens(engine, tokens: int) -> None:
    engine.options.max_new_tokens = engine.options.min_new_tokens = tokens


LETTER = SHAPES[:1]
PROBE_STROKES = 400


def calibrate(engine, task, folder: Path, args, budget: Budget) -> int:
    """Strokes per page at which rendering a page takes about as long as the model's share of it."""
    plain, plain_s = raster_pass(synthetic_pdf(folder / "plain.pdf", 2 * args.batch_size, shapes=LETTER), budget)
    model_pass(engine, task, plain, args.batch_size)  # warm
    model_pp = model_pass(engine, task, plain, args.batch_size) / len(plain)
    probe = synthetic_pdf(folder / "probe.pdf", 2 * args.batch_size, shapes=LETTER, strokes=PROBE_STROKES)
    _, probe_s = raster_pass(probe, budget)
    per_stroke = max(1e-7, (probe_s - plain_s) / len(plain) / PROBE_STROKES)
    return max(0, min(50_000, round((model_pp - plain_s / len(plain)) / per_stroke)))


def main(argv=None) -> dict:
    from tinymodel import build_checkpoint

    from docvl.engines.local import LocalEngine, LocalOptions
    from docvl.runner import Runner, RunOptions

    args = parse_args(argv)
    budget = Budget(args.min_pixels, args.max_pixels)
    task = ocr_task()
    engine = LocalEngine(LocalOptions(model=str(build_checkpoint("tiny")), device=args.device), budget)
    runner = Runner(task, lambda: engine, RunOptions(budget, batch_size=args.batch_size, workers=1))
    rounds = []
    set_tokens(engine, args.tokens)
    with tempfile.TemporaryDirectory() as tmp:
        strokes = args.strokes if args.strokes is not None else calibrate(engine, task, Path(tmp), args, budget)
        pdf = synthetic_pdf(Path(tmp) / "pages.pdf", args.pages, shapes=LETTER, strokes=strokes)
        warmup = synthetic_pdf(Path(tmp) / "warmup.pdf", args.batch_size, seed=1, shapes=LETTER)
        runner.run_document(str(warmup))  # starts the raster worker, warms the model
        for _ in range(args.repeat):
            pages, raster_s = raster_pass(pdf, budget)
            model_s = model_pass(engine, task, pages, args.batch_size)
            del pages
            start = time.perf_counter()
            record = runner.run_document(str(pdf))
            end_to_end_s = time.perf_counter() - start
            assert record["status"] == "ok", record["error"]
            assert len(record["pages"]) == args.pages
            assert {p["completion_tokens"] for p in record["pages"]} == {args.tokens}
            rounds.append({"raster_s": round(raster_s, 3), "model_s": round(model_s, 3),
                           "end_to_end_s": round(end_to_end_s, 3),
                           "ratio": round(end_to_end_s / (raster_s + model_s), 3)})
            print(rounds[-1], file=sys.stderr)
    runner.close()
    med = {k: statistics.median(r[k] for r in rounds) for k in ("raster_s", "model_s", "end_to_end_s")}
    payload = {
        "benchmark": "overlap",
        "command": report.command(__file__, sys.argv[1:] if argv is None else argv),
        "machine": report.machine(args.device),
        "versions": report.versions(),
        "setup": {"model": "tiny random Qwen2-VL", "pages": args.pages, "tokens_per_page": args.tokens,
                  "strokes_per_page": strokes, "calibrated": args.strokes is None, "batch_size": args.batch_size,
                  "raster_workers": 1,
                  "min_pixels": budget.min_pixels, "max_pixels": budget.max_pixels},
        "rounds": rounds,
        "median": {k: round(v, 3) for k, v in med.items()},
        "ratios": {
            # 1.0: no overlap at all; max/sum (0.5 when the two are equal): perfect overlap
            "end_to_end_over_raster_plus_model": round(med["end_to_end_s"] / (med["raster_s"] + med["model_s"]), 3),
            "perfect_overlap_would_be": round(max(med["raster_s"], med["model_s"]) /
                                              (med["raster_s"] + med["model_s"]), 3),
            "model_over_raster": round(med["model_s"] / med["raster_s"], 3),
        },
    }
    report.write(args.out, payload)
    print(payload["ratios"], file=sys.stderr)
    return payload


if __name__ == "__main__":
    main()
