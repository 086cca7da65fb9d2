"""Tables from born-digital PDFs: docvl's text-layer tables vs PyMuPDF find_tables() (defaults) vs
camelot 2.0 (hybrid, stream, lattice), on any number of sets, each tool in its own process, one run.

A set is a folder of PDFs with `STEM-str.xml` (ICDAR 2013 structure) truth beside them, and optionally a
MANIFEST.tsv (in the folder or its parent) whose `file` and `kind` columns say how each table is ruled
(ruled / partly ruled / unruled). Without one, a document's kind is read from the PDF: the rulings drawn
inside the table regions of its `STEM-reg.xml` (both ways: ruled; across only: partly ruled; none:
unruled). Scores are docvl eval's cell adjacency relations; every page is read, so tables found where
the truth has none count against precision.

    python benchmarks/tables.py [--set NAME=FOLDER ...] [--tools a,b] [--out benchmarks/results/tables.json]

Without --set it scores every table set of ../shared/corpus, plus the generator's set when
benchmarks/tablegen.py exists (generated into a temporary folder in the run).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docvl.evaluate import evaluate  # noqa: E402
from docvl.evaluate.metrics import Counts  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
SHARED_SETS = {"icdar2013-eu": CORPUS / "icdar2013-eu", "tables-public/camelot": CORPUS / "tables-public" / "camelot",
               "tables-public/tabula-py": CORPUS / "tables-public" / "tabula-py"}


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


def camelot_tables(flavor: str):
    def read(pdf: Path) -> list[dict]:
        import camelot

        with contextlib.redirect_stdout(io.StringIO()):
            tables = camelot.read_pdf(str(pdf), pages="all", flavor=flavor)
        return [{"page": t.page, "header": [], "rows": t.df.astype(str).values.tolist()} for t in tables]
    return read


TOOLS = {"docvl text layer": docvl_tables, "pymupdf find_tables": pymupdf_tables,
         **{f"camelot {f}": camelot_tables(f) for f in ("hybrid", "stream", "lattice")}}


def set_pdfs(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / (x.name[:-len("-str.xml")] + ".pdf") for x in folder.glob("*-str.xml"))
                  if p.exists())


def manifest_kinds(folder: Path) -> dict[str, str]:
    """PDF stem -> kind, from a MANIFEST.tsv in the folder or its parent (paths relative to it)."""
    for manifest in (folder / "MANIFEST.tsv", folder.parent / "MANIFEST.tsv"):
        if manifest.is_file():
            kinds = {}
            with manifest.open(newline="") as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    path = manifest.parent / row.get("file", "")
                    if path.parent.resolve() == folder.resolve() and row.get("kind"):
                        kinds[path.stem] = row["kind"]
            return kinds
    return {}


def drawn_kind(pdf: Path) -> str:
    """How the tables of `pdf` are ruled, from the lines drawn inside its -reg.xml regions."""
    import pymupdf

    reg = pdf.with_name(pdf.stem + "-reg.xml")
    if not reg.exists():
        return "unknown"
    across = down = False
    with pymupdf.open(pdf) as doc:
        for region in ET.parse(reg).getroot().iter("region"):
            box = region.find("bounding-box")
            page = doc[int(region.get("page")) - 1]
            h = page.mediabox.height  # the truth's boxes: PDF points, origin bottom-left
            x1, y1, x2, y2 = (float(box.get(k)) for k in ("x1", "y1", "x2", "y2"))
            area = pymupdf.Rect(x1, h - y2, x2, h - y1) + (-3, -3, 3, 3)
            for path in page.get_drawings():
                for item in path["items"]:
                    r = pymupdf.Rect(item[1], item[2]) if item[0] == "l" else (
                        pymupdf.Rect(item[1]) if item[0] == "re" else None)
                    if r is None or not area.contains(r):
                        continue
                    if r.height < 2 and r.width > 0.3 * area.width:
                        across = True
                    if r.width < 2 and r.height > 0.3 * area.height:
                        down = True
    return "ruled" if down else "partly ruled" if across else "unruled"


def worker(tool: str, sets: dict[str, Path]) -> None:
    """One tool over every set, in this process; records (docvl output shape) and seconds per set."""
    if tool == "docvl text layer":
        import docvl.cli  # noqa: F401  (as the CLI: PyMuPDF's layout model left out)
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    out = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the tools' chatter; stdout carries the result
        for name, folder in sets.items():
            records, errors, start = [], {}, time.perf_counter()
            for pdf in set_pdfs(folder):
                try:
                    tables = TOOLS[tool](pdf)
                except Exception as e:  # a tool failing on a document scores it as finding nothing
                    tables, errors[pdf.stem] = [], f"{type(e).__name__}: {e}"
                records.append({"source": {"path": str(pdf), "kind": "pdf"},
                                "pages": [{"page": 1, "status": "ok", "source": tool, "tables": tables}]})
            out[name] = {"records": records, "errors": errors, "seconds": round(time.perf_counter() - start, 2)}
    sys.stdout.write("\n" + json.dumps({"sets": out, "layout_model": sys.modules.get("pymupdf.layout") is not None}))


def generated_set(folder: Path) -> Path | None:
    """The generator's set (benchmarks/tablegen.py, when this checkout has it), written to `folder`."""
    if not (ROOT / "benchmarks" / "tablegen.py").exists():
        return None
    subprocess.run([sys.executable, ROOT / "benchmarks" / "tablegen.py", "--out", folder], check=True,
                   capture_output=True, text=True)
    return folder


def scores(counts: list[Counts]) -> dict:
    total = sum(counts, Counts())
    return {"precision": round(total.precision, 4), "recall": round(total.recall, 4), "f1": round(total.f1, 4),
            "doc_mean_f1": round(sum(c.f1 for c in counts) / len(counts), 4) if counts else None,
            "documents": len(counts)}


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pymupdf", "camelot-py"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=FOLDER",
                    help="a set to score (repeatable); default: the shared corpus's table sets and the generator's")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "tables.json")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sets = {name: Path(folder) for name, _, folder in (s.partition("=") for s in args.sets)}
    if args.worker:
        return worker(args.worker, sets)
    with tempfile.TemporaryDirectory() as tmp:
        if not sets:
            sets = {name: folder for name, folder in SHARED_SETS.items() if folder.is_dir()}
            generated = generated_set(Path(tmp) / "generated")
            if generated:
                sets["generated"] = generated
        run(args, sets)


def run(args, sets: dict[str, Path]) -> None:
    tools = [t.strip() for t in args.tools.split(",")]
    set_args = [a for name, folder in sets.items() for a in ("--set", f"{name}={folder}")]
    results = {}
    for tool in tools:
        proc = subprocess.run([sys.executable, __file__, "--worker", tool, *set_args], capture_output=True,
                              text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        results[tool] = json.loads(proc.stdout.splitlines()[-1])  # MuPDF may have printed before it
    report = {"benchmark": "tables", "metric": "ICDAR 2013 cell adjacency relations (docvl eval); precision, "
              "recall, f1 summed over documents (micro), doc_mean_f1 averaged per document; seconds: the tool "
              "over the whole set in its own process", "date": time.strftime("%Y-%m-%d"),
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "python": platform.python_version(),
              "versions": versions(), "sets": {}}
    for name, folder in sets.items():
        kinds = manifest_kinds(folder)
        pdfs = set_pdfs(folder)
        kind_of = {p.stem: kinds.get(p.stem) or drawn_kind(p) for p in pdfs}
        entry = {"folder": str(folder), "documents": len(pdfs), "kinds": kind_of, "tools": {}}
        for tool in tools:
            result = results[tool]["sets"][name]
            [scored] = evaluate([(tool, result["records"])], [str(folder)])["runs"]
            per_doc = {Path(d["path"]).stem: Counts(d["tables"]["tp"], d["tables"]["fp"], d["tables"]["fn"])
                       for d in scored["per_document"] if d.get("tables")}
            by_kind = {k: scores([c for stem, c in per_doc.items() if kind_of[stem] == k])
                       for k in sorted(set(kind_of.values()))}
            entry["tools"][tool] = {**scores(list(per_doc.values())), "seconds": result["seconds"],
                                    "pymupdf_layout_model": results[tool]["layout_model"], "by_kind": by_kind,
                                    "per_document_f1": {s: round(c.f1, 4) for s, c in per_doc.items()},
                                    "errors": result["errors"]}
        report["sets"][name] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))


def markdown(report: dict) -> str:
    """The results as the markdown table benchmarks/README.md shows."""
    lines = ["| set | tool | precision | recall | F1 | per-document F1 | seconds | F1 by kind |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, entry in report["sets"].items():
        for tool, s in entry["tools"].items():
            kinds = ", ".join(f"{k} {v['f1']:.2f} ({v['documents']})" for k, v in s["by_kind"].items())
            lines.append(f"| {name} ({entry['documents']}) | {tool} | {s['precision']:.3f} | {s['recall']:.3f} | "
                         f"{s['f1']:.3f} | {s['doc_mean_f1']:.3f} | {s['seconds']:.1f} | {kinds} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
