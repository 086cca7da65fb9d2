"""Memory: peak RSS of `docvl ocr`'s runner over a generated 1000-page PDF, against the same run over 100 pages.

Each run is a process of its own (peak RSS is per process): the runner with the local engine on a random
tiny Qwen2-VL (speed and memory of the model do not depend on the page count; the runner's must not
either), one token a page. Reported per run: peak RSS of the docvl process, of each raster worker, the RSS
floor before the run (interpreter, torch, model), and what holding every rendered page would have cost.
The claim: peak RSS does not grow with the page count (ratio ~1.0 between the runs).

    python benchmarks/memory.py                     # 1000 pages against 100
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE.parent / "tests")]

import report  # noqa: E402
from synthetic import synthetic_pdf  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=1000)
    p.add_argument("--baseline-pages", type=int, default=100)
    p.add_argument("--min-pixels", type=int, default=64 * 784)
    p.add_argument("--max-pixels", type=int, default=256 * 784)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", type=Path, default=report.RESULTS / "memory.json")
    p.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)  # one run over this PDF
    return p.parse_args(argv)


def tree_peaks_mib() -> dict:
    """Peak RSS (VmHWM) of this process and of every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    peaks, todo = {}, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        peaks[pid] = round(kb / 1024, 1)
    return peaks


def child(args) -> dict:
    from tinymodel import build_checkpoint

    from docvl.budget import Budget
    from docvl.engines.local import LocalEngine, LocalOptions
    from docvl.runner import Runner, RunOptions
    from docvl.tasks.ocr import ocr_task

    budget = Budget(args.min_pixels, args.max_pixels)
    engine = LocalEngine(LocalOptions(model=str(build_checkpoint("tiny")), device="cpu", max_new_tokens=1), budget)
    runner = Runner(ocr_task(), lambda: engine, RunOptions(budget, batch_size=args.batch_size, workers=args.workers))
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    record = runner.run_document(str(args.child))
    seconds = time.perf_counter() - start
    peaks = tree_peaks_mib()
    runner.close()
    me = peaks.pop(os.getpid())
    pages = record["pages"]
    held = sum(p["width_px"] * p["height_px"] * 3 for p in pages if p["status"] == "ok")
    return {"pages": len(pages), "pages_ok": sum(p["status"] == "ok" for p in pages),
            "seconds": round(seconds, 2), "rss_floor_mib": round(floor, 1), "peak_rss_mib": me,
            "growth_mib": round(me - floor, 1),
            # the forkserver and the raster workers (all below this process)
            "helper_peak_rss_mib": sorted(peaks.values(), reverse=True),
            "all_rendered_pages_mib": round(held / 2**20, 1)}


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return {}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.baseline_pages, args.pages):
            pdf = synthetic_pdf(Path(tmp) / f"pages-{n}.pdf", n)
            cmd = [sys.executable, __file__, "--child", str(pdf), *(argv or sys.argv[1:])]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(f"{n} pages: peak RSS {run['peak_rss_mib']} MiB (floor {run['rss_floor_mib']}, growth "
                  f"{run['growth_mib']}), workers {run['helper_peak_rss_mib']} MiB, all pages would be "
                  f"{run['all_rendered_pages_mib']} MiB, {run['seconds']} s", file=sys.stderr)
    base, big = runs
    payload = {
        "benchmark": "memory",
        "command": report.command(__file__, sys.argv[1:] if argv is None else argv),
        "machine": report.machine("cpu"),
        "versions": report.versions(),
        "setup": {"model": "tiny random Qwen2-VL", "tokens_per_page": 1, "min_pixels": args.min_pixels,
                  "max_pixels": args.max_pixels, "batch_size": args.batch_size, "workers": args.workers},
        "runs": runs,
        "ratios": {
            "peak_rss_pages_over_baseline": round(big["peak_rss_mib"] / base["peak_rss_mib"], 3),
            "worker_peak_rss_pages_over_baseline": round(max(big["helper_peak_rss_mib"]) /
                                                         max(base["helper_peak_rss_mib"]), 3),
            "page_count_ratio": round(big["pages"] / base["pages"], 1),
        },
    }
    report.write(args.out, payload)
    print(json.dumps(payload["ratios"]), file=sys.stderr)
    return payload


if __name__ == "__main__":
    main()
