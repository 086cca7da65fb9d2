"""Tables from born-digital PDFs: docvl's text-layer tables vs PyMuPDF find_tables() (defaults) vs
camelot 2.0 (flavor hybrid, its best on this set), scored in one run on ICDAR 2013 (EU set) by the
competition's cell-adjacency relations (docvl.evaluate). Every page of every PDF is read, so tables
found where the truth has none count against precision.

Each tool runs in its own process, as its users run it: docvl as its CLI does (PyMuPDF 2.0's ONNX
layout model left out; docvl calls find_tables(use_layout=False)), plain find_tables() with what
PyMuPDF loads by default, its layout model included.

    python benchmarks/tables_icdar.py [--corpus ../shared/corpus/icdar2013-eu] [--out benchmarks/results/tables-icdar2013.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docvl.evaluate import evaluate  # noqa: E402


def docvl_tables(pdf: Path) -> list[dict]:
    """What `docvl extract-tables --text-layer only` does: the runner, every page answered by the text
    layer hook, no model (the engine factory must never be called)."""
    from docvl.runner import Runner, RunOptions
    from docvl.tasks.tables import tables_task
    from docvl.textlayer.answer import with_text_layer

    def no_model():
        raise AssertionError("--text-layer only must not load a model")

    runner = Runner(with_text_layer(tables_task(), "tables", "only"), no_model, RunOptions())
    try:
        record = runner.run_document(str(pdf))
    finally:
        runner.close()
    return [t for p in record["pages"] if p["status"] == "ok" for t in p["tables"]]


def pymupdf_tables(pdf: Path) -> list[dict]:
    import pymupdf

    grids = []
    with pymupdf.open(pdf) as doc:
        for page in doc:
            with contextlib.redirect_stdout(io.StringIO()):  # find_tables() prints its failures
                found = page.find_tables()
            for t in found.tables if found else []:
                rows = [[c or "" for c in row] for row in t.extract()]
                header = [c or "" for c in t.header.names] if t.header.external else []
                grids.append({"page": page.number + 1, "header": header, "rows": rows})
    return grids


def camelot_tables(pdf: Path) -> list[dict]:
    import camelot

    with contextlib.redirect_stdout(io.StringIO()):
        tables = camelot.read_pdf(str(pdf), pages="all", flavor="hybrid")
    return [{"page": t.page, "header": [], "rows": t.df.astype(str).values.tolist()} for t in tables]


def versions() -> dict:
    """Installed versions of the compared libraries; camelot comes only with the `bench` extra."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pymupdf", "camelot-py"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


TOOLS = {"docvl text layer": docvl_tables, "pymupdf find_tables": pymupdf_tables, "camelot hybrid": camelot_tables}


def worker(tool: str, pdfs: list[Path]) -> None:
    """One tool over every PDF, in this process; records (docvl output shape) and seconds as JSON."""
    if tool == "docvl text layer":
        import docvl.cli  # noqa: F401  (as the CLI: PyMuPDF's layout model left out)
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    records, errors, start = [], {}, time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the tools' chatter; stdout carries the result
        for pdf in pdfs:
            try:
                tables = TOOLS[tool](pdf)
            except Exception as e:  # a tool failing on a document scores it as finding nothing
                tables, errors[pdf.stem] = [], f"{type(e).__name__}: {e}"
            # As docvl output: one page record holding all the document's tables.
            records.append({"source": {"path": str(pdf), "kind": "pdf"},
                            "pages": [{"page": 1, "status": "ok", "source": tool, "tables": tables}]})
    seconds = time.perf_counter() - start
    sys.stdout.write("\n" + json.dumps({"records": records, "errors": errors, "seconds": round(seconds, 2),
                                 "layout_model": sys.modules.get("pymupdf.layout") is not None}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "icdar2013-eu")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "tables-icdar2013.json")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    pdfs = sorted(args.corpus / (p.name[:-8] + ".pdf") for p in args.corpus.glob("*-str.xml"))
    pdfs = [p for p in pdfs if p.exists()]
    if args.worker:
        return worker(args.worker, pdfs)
    tools = [t.strip() for t in args.tools.split(",")]
    runs, seconds, errors, layout = [], {}, {}, {}
    for tool in tools:
        proc = subprocess.run([sys.executable, __file__, "--worker", tool, "--corpus", str(args.corpus)],
                              capture_output=True, text=True, check=True)
        result = json.loads(proc.stdout.splitlines()[-1])  # MuPDF may have printed before it
        runs.append((tool, result["records"]))
        seconds[tool], layout[tool] = result["seconds"], result["layout_model"]
        if result["errors"]:
            errors[tool] = result["errors"]
    # Scored by docvl eval's own code, against the -str.xml files next to the PDFs.
    scored = evaluate(runs, [str(args.corpus)])["runs"]
    summary = {run["run"]: {**{k: run["tables"][k] for k in ("precision", "recall", "f1", "doc_mean_f1")},
                            "seconds": seconds[run["run"]], "pymupdf_layout_model": layout[run["run"]]}
               for run in scored}
    detail = {run["run"]: {Path(d["path"]).stem: d.get("tables") for d in run["per_document"]} for run in scored}
    report = {"benchmark": "tables-icdar2013-eu", "documents": len(pdfs), "metric": "ICDAR 2013 cell adjacency "
              "relations; precision/recall/f1 summed over all documents (micro), doc_mean_* averaged per document",
              "python": platform.python_version(), "versions": versions(), "summary": summary,
              "errors": errors, "documents_detail": detail}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    width = max(map(len, tools))
    print(f"{'tool':<{width}}  precision  recall     f1  doc-mean f1  seconds")
    for tool, s in summary.items():
        print(f"{tool:<{width}}  {s['precision']:9.3f}  {s['recall']:6.3f}  {s['f1']:5.3f}  "
              f"{s['doc_mean_f1']:11.3f}  {s['seconds']:7.1f}")


if __name__ == "__main__":
    main()
