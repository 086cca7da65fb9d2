"""docvl's Markdown against PyMuPDF's text and pymupdf4llm on olmOCR-Bench, scored by its own scorer.

Fetches nothing: give it a checkout of the public allenai/olmocr repository (Apache-2.0). It copies the
sample (`olmocr/bench/sample_data`: PDFs and `*.jsonl` unit tests) into a work folder, writes one
candidate folder per tool there (`<pdf stem>_pg<N>_repeat1.md`, as the scorer reads them), runs the
scorer (`python -m olmocr.bench.benchmark --dir WORK`, with the checkout on its PYTHONPATH, in
--scorer-python: a Python with the scorer's requirements, pypdf, fuzzysearch, rapidfuzz, bs4, tqdm), and
reports each tool's pass rate per test type, over every page and over the pages with a text layer
docvl trusts (a scan, handwriting or a blank page has none: docvl `--text-layer only` leaves them
empty, and the model would read them). Math tests render KaTeX in a headless Chromium through
playwright: --chromium names a browser to use (Debian's `chromium` package serves; playwright's own
download needs the internet); --no-math leaves the math tests out, and says so in the results.

    python benchmarks/olmocr_bench.py ~/src/olmocr --scorer-python ~/olmocr-env/bin/python \\
        [--chromium /usr/bin/chromium | --no-math] [--tools docvl,pymupdf,pymupdf4llm] [--work DIR] \\
        [--out benchmarks/results/olmocr_bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOOLS = ("docvl", "pymupdf", "pymupdf4llm")

# The scorer, run with playwright's Chromium launch pointed at a browser of the system's.
_SCORER_WITH_CHROMIUM = """
import runpy, sys
from playwright.sync_api._generated import BrowserType
launch, chromium = BrowserType.launch, sys.argv.pop(1)
BrowserType.launch = lambda self, **kw: launch(self, **{"executable_path": chromium, "args": ["--no-sandbox"], **kw})
sys.argv[0] = "benchmark"
runpy.run_module("olmocr.bench.benchmark", run_name="__main__")
"""


def pages_of(pdf: Path) -> int:
    import pymupdf

    with pymupdf.open(pdf) as doc:
        return doc.page_count


def docvl_pages(pdf: Path) -> tuple[list[str], list[int]]:
    """Markdown of each page from the text layer alone, and the pages without a trusted one."""
    import docvl
    from docvl.errors import DocvlError

    out, scans = [], []
    for n in range(1, pages_of(pdf) + 1):
        try:
            doc = docvl.ocr(str(pdf), markdown=True, text_layer="only", pages=str(n))
            out.append(doc.markdown)
        except DocvlError:
            out.append("")
            scans.append(n)
    return out, scans


def tool_pages(tool: str, pdf: Path) -> list[str]:
    import pymupdf

    if tool == "pymupdf":
        with pymupdf.open(pdf) as doc:
            return [page.get_text() for page in doc]
    import pymupdf4llm

    return [pymupdf4llm.to_markdown(str(pdf), pages=[n]) for n in range(pages_of(pdf))]


def write_candidates(work: Path, tools: list[str]) -> dict[str, list[int]]:
    """Each tool's candidate folder; returns the pages (per PDF, relative path) docvl found no text layer on."""
    scans: dict[str, list[int]] = {}
    for tool in tools:
        shutil.rmtree(work / tool, ignore_errors=True)
        for pdf in sorted((work / "pdfs").rglob("*.pdf")):
            rel = pdf.relative_to(work / "pdfs")
            if tool == "docvl":
                texts, scans[rel.as_posix()] = docvl_pages(pdf)
            else:
                texts = tool_pages(tool, pdf)
            for n, text in enumerate(texts, start=1):
                target = work / tool / rel.parent / f"{rel.stem}_pg{n}_repeat1.md"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return scans


def load_tests(work: Path) -> list[dict]:
    tests = []
    for path in sorted(work.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                tests.append({**json.loads(line), "_file": path.name})
    return tests


def failures(output: str) -> dict[str, set[str]]:
    """Failed test ids per candidate, from the scorer's `Candidate: NAME` sections."""
    failed: dict[str, set[str]] = defaultdict(set)
    candidate = None
    for line in output.splitlines():
        if line.startswith("Candidate: "):
            candidate = line.split(": ", 1)[1].strip()
        elif line.startswith("="):
            candidate = None
        elif candidate and (m := re.match(r"\s*\[(FAIL|ERROR)\] Test (\S+)", line)):
            failed[candidate].add(m.group(2))
    return failed


def rates(tests: list[dict], failed: set[str]) -> dict:
    by_type: dict[str, list[bool]] = defaultdict(list)
    for t in tests:
        by_type[t["type"]].append(t["id"] not in failed)
    everything = [ok for oks in by_type.values() for ok in oks]
    table = {k: {"passed": sum(v), "tests": len(v), "rate": round(sum(v) / len(v), 3)} for k, v in sorted(by_type.items())}
    table["all"] = {"passed": sum(everything), "tests": len(everything),
                    "rate": round(sum(everything) / len(everything), 3) if everything else None}
    return table


def _commit(checkout: Path) -> str:
    run = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    return run.stdout.strip() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("olmocr", type=Path, help="a checkout of github.com/allenai/olmocr")
    ap.add_argument("--scorer-python", default=sys.executable, help="a Python with the scorer's requirements")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--chromium", help="a Chromium for the math tests (default: playwright's own)")
    ap.add_argument("--no-math", action="store_true", help="leave the math tests out (they need Chromium)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "olmocr_bench.json")
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    sample = args.olmocr / "olmocr" / "bench" / "sample_data"
    if not (sample / "pdfs").is_dir():
        sys.exit(f"{sample}/pdfs: not found; give a checkout of allenai/olmocr")
    work = args.work or Path(tempfile.mkdtemp(prefix="olmocr-bench-"))
    shutil.rmtree(work / "pdfs", ignore_errors=True)
    shutil.copytree(sample / "pdfs", work / "pdfs")
    for path in sample.glob("*.jsonl"):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if args.no_math:
            lines = [line for line in lines if json.loads(line).get("type") != "math"]
        (work / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    scans = write_candidates(work, tools)
    path = [str(args.olmocr.resolve()), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    scorer = ["-c", _SCORER_WITH_CHROMIUM, args.chromium] if args.chromium else ["-m", "olmocr.bench.benchmark"]
    run = subprocess.run([args.scorer_python, *scorer, "--dir", str(work)], capture_output=True, text=True, env=env)
    if run.returncode != 0:
        sys.exit(f"the scorer failed ({run.returncode}):\n{run.stderr[-3000:]}")
    failed = failures(run.stdout)
    tests = [t for t in load_tests(work) if t["_file"] == "dataset.jsonl"]
    scanned = {(pdf, n) for pdf, ns in scans.items() for n in ns}
    text_pages = [t for t in tests if (t["pdf"], t.get("page", 1)) not in scanned]
    results = {
        "sample": f"allenai/olmocr@{_commit(args.olmocr)} olmocr/bench/sample_data",
        "math": ("left out (--no-math)" if args.no_math
                 else f"scored (KaTeX in {args.chromium or 'playwright Chromium'})"),
        "scanned_pages": sorted(f"{pdf}:{n}" for pdf, n in scanned),
        "summary": [line for line in run.stdout.split("Final Summary", 1)[-1].splitlines()
                    if line.strip() and not line.startswith("Cleaning up")],  # playwright's farewells
        "tools": {tool: {"dataset": rates(tests, failed.get(tool, set())),
                         "text_layer_pages": rates(text_pages, failed.get(tool, set()))} for tool in tools},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    kinds = sorted({t["type"] for t in tests})
    print(f"dataset.jsonl: {len(tests)} tests; {len(scanned)} pages without a trusted text layer "
          f"({len(tests) - len(text_pages)} tests on them)")
    print(f"| tool | pages | all | {' | '.join(kinds)} |")
    for tool in tools:
        for where in ("dataset", "text_layer_pages"):
            r = results["tools"][tool][where]
            cells = [f"{r[k]['rate']:.0%}" if k in r else "" for k in kinds]
            print(f"| {tool} | {'all' if where == 'dataset' else 'text layer'} | {r['all']['rate']:.1%} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
