"""The front door: the README's main jobs run on the files shipped in examples/, the example scripts
work, the README's JSON example is what docvl really writes, and README and docs links resolve.

Every command runs as a new process in a copy of examples/ with an empty Hugging Face cache (a fresh
clone on a machine with no model): the born-digital jobs must succeed there without importing torch."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from cliproc import HEAVY_PROBE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# The README's main jobs that need no model: born-digital PDFs answered from their text layer.
NO_MODEL_JOBS = [
    "docvl info examples/report.pdf",
    "docvl ocr examples/report.pdf --format text",
    "docvl ocr examples/report.pdf --format markdown",
    "docvl extract-tables examples/report.pdf -o report.csv",
    "docvl extract-tables examples/report.pdf --text-layer only --format json",
    "docvl ocr examples/batch --out-dir results/ --glob '*.pdf'",
    "docvl ocr examples/batch/letter.pdf --lang en",
]


@pytest.fixture
def clone(tmp_path) -> Path:
    """A folder that looks like the root of a fresh clone, as far as the examples go."""
    root = tmp_path / "clone"
    root.mkdir()
    shutil.copytree(EXAMPLES, root / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def fresh_env(tmp_path: Path, bin_dir: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home")}
    if bin_dir:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env


def docvl_fresh(cwd: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI in a new process, no model anywhere; stderr ends with `HEAVY [...]`, the heavy modules
    it imported."""
    return subprocess.run([sys.executable, "-c", HEAVY_PROBE, *args], capture_output=True, text=True,
                          env=fresh_env(tmp_path), cwd=cwd, timeout=300)


def docvl_on_path(tmp_path: Path) -> Path:
    """A `docvl` command on PATH that runs this checkout's CLI, for the shell scripts."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "docvl"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "import sys; from docvl.cli.app import main; '
                      f"sys.argv[0] = 'docvl'; main()\" \"$@\"\n")
    script.chmod(0o755)
    return bin_dir


def test_readme_is_short_and_its_links_resolve():
    assert len(README.splitlines()) <= 250
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://")):
                assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"


def test_shipped_examples_are_small_and_what_the_readme_says():
    files = [p for p in EXAMPLES.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert sum(p.stat().st_size for p in files) < 1_000_000
    with pymupdf.open(EXAMPLES / "report.pdf") as doc:
        assert doc.page_count == 4
        assert "Table 3 (continued)" in doc[3].get_text()
    scan = Image.open(EXAMPLES / "scan.png")
    assert round(scan.info["dpi"][0]) == 150 and scan.mode == "L"
    assert sorted(p.name for p in (EXAMPLES / "batch").iterdir()) == ["letter.pdf", "minutes.pdf", "receipt.png"]
    for name in ("scan.txt", "scan.json"):
        assert (EXAMPLES / "truth" / name).is_file()


def test_make_examples_rebuilds_the_same_documents(tmp_path):
    """make_examples.py is deterministic and the committed files are what it makes (compared by
    content: another PyMuPDF may write other bytes)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_examples as mk
    finally:
        sys.path.remove(str(EXAMPLES))
    mk.report(tmp_path / "report.pdf")
    mk.batch(tmp_path / "batch")
    mk.scan(tmp_path / "scan.png")
    mk.truth(tmp_path / "truth")
    for rel in ("report.pdf", "batch/letter.pdf", "batch/minutes.pdf"):
        with pymupdf.open(tmp_path / rel) as new, pymupdf.open(EXAMPLES / rel) as old:
            assert [p.get_text() for p in new] == [p.get_text() for p in old], rel
    for rel in ("scan.png", "batch/receipt.png"):
        assert Image.open(tmp_path / rel).size == Image.open(EXAMPLES / rel).size
    for rel in ("truth/scan.txt", "truth/scan.json"):
        assert (tmp_path / rel).read_text() == (EXAMPLES / rel).read_text()


@pytest.mark.parametrize("command", NO_MODEL_JOBS)
def test_readme_job_runs_without_a_model(command, clone, tmp_path):
    assert command in README, "the README no longer shows this job; update NO_MODEL_JOBS"
    args = shlex.split(command)[1:]
    proc = docvl_fresh(clone, tmp_path, *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.rstrip().endswith("HEAVY []"), proc.stderr  # neither torch nor transformers
    if "extract-tables" in args and "-o" in args:
        assert sorted(p.name for p in clone.glob("report-*.csv")) == [
            "report-p1-t1.csv", "report-p2-t1.csv", "report-p3-t1.csv", "report-p4-t1.csv"]
    if "--out-dir" in args:
        assert sorted(p.name for p in (clone / "results").glob("*.json")) == [
            "docvl-summary.json", "letter.pdf.json", "minutes.pdf.json"]


def test_report_tables_from_the_text_layer(clone, tmp_path):
    """The report's three kinds of table: fully ruled (p1), ruled only across (p2), continued (p3-p4)."""
    proc = docvl_fresh(clone, tmp_path, "extract-tables", "examples/report.pdf", "--text-layer", "only",
                       "--format", "json")
    assert proc.returncode == 0, proc.stderr
    tables = [t for page in json.loads(proc.stdout)["pages"] for t in page["tables"]]
    assert [(t["page"], t["index"]) for t in tables] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert tables[0]["header"] == ["Region", "Q1", "Q2", "Q3", "Change"]
    assert tables[0]["rows"][-1] == ["Total", "4,462", "4,611", "4,877", "+5.8%"]
    assert tables[1]["header"] == ["Team", "Staff", "Hired", "Left", "Open roles"] and len(tables[1]["rows"]) == 4
    assert tables[2]["header"] == tables[3]["header"] == ["Order", "Date", "Customer", "Items", "Amount (EUR)"]
    assert len(tables[2]["rows"]) + len(tables[3]["rows"]) == 30


def without_seconds(value):
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


def json_blocks(text: str) -> list[str]:
    return re.findall(r"```json\n(.*?)\n```", text, flags=re.S)


def test_readme_json_example_is_a_real_run_and_valid(clone, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docvl" / "schemas" / "docvl-1.schema.json").read_text())
    example = json.loads(json_blocks(README)[0])
    assert "docvl ocr examples/batch/letter.pdf --lang en" in README
    proc = docvl_fresh(clone, tmp_path, "ocr", "examples/batch/letter.pdf", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    real = json.loads(proc.stdout)
    assert list(example) == list(real)  # same keys, same order
    assert without_seconds(example) == without_seconds(real)
    jsonschema.validate(example, schema)
    model_page = json.loads(json_blocks((ROOT / "docs" / "json-schema.md").read_text())[0])
    jsonschema.validate(model_page, schema)


def test_pipeline_script(clone, tmp_path):
    proc = subprocess.run(["bash", str(clone / "examples" / "pipeline.sh")], capture_output=True, text=True,
                          env=fresh_env(tmp_path, docvl_on_path(tmp_path)), cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert [r[:3] for r in rows] == [
        ["examples/batch/letter.pdf", "ok", "1 pages"],
        ["examples/batch/minutes.pdf", "ok", "2 pages"],
        ["examples/invoice.pdf", "ok", "1 pages"],
        ["examples/report.pdf", "ok", "4 pages"],
    ]
    assert rows[3][3] == "Quarterly Report Q3 2026"


def test_sharded_batch_script_splits_and_resumes(clone, tmp_path):
    env = fresh_env(tmp_path, docvl_on_path(tmp_path))
    script = str(clone / "examples" / "sharded-batch.sh")
    out = tmp_path / "out"

    def run():
        proc = subprocess.run(["bash", script, str(out)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return [json.loads((out / f"docvl-summary-{i}of2.json").read_text())["documents"] for i in (1, 2)]

    first = run()
    assert sorted(p.name for p in out.glob("*.pdf.json")) == ["letter.pdf.json", "minutes.pdf.json"]
    assert sum(d["ok"] for d in first) == 2 and sum(d["total"] for d in first) == 2
    assert json.loads((out / "minutes.pdf.json").read_text())["source"]["page_count"] == 2
    again = run()  # resumable: both shards find their documents finished
    assert sum(d["skipped"] for d in again) == 2 and sum(d["ok"] for d in again) == 0


def test_scan_needs_the_model_and_says_how_to_get_it(clone, tmp_path):
    proc = docvl_fresh(clone, tmp_path, "ocr", "examples/scan.png", "--text-layer", "only")
    assert proc.returncode == 3  # no text layer, and no model allowed
    proc = docvl_fresh(clone, tmp_path, "ocr", "examples/scan.png")
    assert proc.returncode == 4
    assert "hf download Qwen/Qwen2-VL-2B-Instruct" in proc.stderr


def test_scan_jobs_with_a_model(clone, tmp_path, tiny_model):
    """The README's scan jobs go through the model path and eval finds examples/truth (the tiny random
    model reads nothing, so only the shapes are checked)."""
    env = fresh_env(tmp_path)
    common = ["--model", str(tiny_model), "--max-new-tokens", "4", "--min-pixels", str(64 * 784),
              "--max-pixels", str(256 * 784)]

    def docvl(*args):
        proc = subprocess.run([sys.executable, "-c", HEAVY_PROBE, *args], capture_output=True, text=True,
                              env=env, cwd=clone, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc

    assert "docvl ocr examples/scan.png -o scan.json && docvl eval scan.json --truth examples/truth" in README
    docvl("ocr", "examples/scan.png", "-o", "scan.json", *common)
    page = json.loads((clone / "scan.json").read_text())["pages"][0]
    assert page["source"] == "model" and round(page["scan_dpi"]) == 150
    report = json.loads(docvl("eval", "scan.json", "--truth", "examples/truth", "--json").stdout)
    run = report["runs"][0]
    assert run["ocr"]["documents"] == 1 and run["ocr"]["chars"] == len(
        " ".join((clone / "examples" / "truth" / "scan.txt").read_text().split())), run
