"""`docvl ocr --text-layer auto|off|only`: born-digital pages from the PDF, the rest from the model."""

import csv
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from cliproc import HEAVY_PROBE
from docs import ocr_layer_pdf, scan_pdf, text_pdf
from docvl.textlayer.answer import TextLayerAnswer

ROOT = Path(__file__).resolve().parents[1]
MIN, MAX = 64 * 784, 256 * 784

def fresh_machine(tmp_path, *args):
    """The CLI in a new process with an empty Hugging Face cache: no model anywhere."""
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", HEAVY_PROBE, *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT)


def mixed_pdf(path: Path) -> Path:
    """Page 1 born digital, page 2 a scan, page 3 born digital."""
    doc = pymupdf.open()
    for part in (text_pdf(path.with_suffix(".a.pdf"), pages=1), scan_pdf(path.with_suffix(".b.pdf"), dpi=100),
                 text_pdf(path.with_suffix(".c.pdf"), pages=1, lines=["The third page says this."])):
        with pymupdf.open(part) as d:
            doc.insert_pdf(d)
    doc.save(path)
    return path


def test_auto_on_a_born_digital_pdf_loads_no_model_and_returns_its_text(tmp_path):
    lines = ["Invoice INV-0042 from ACME Ltd.", "Total due: 1,234.56 EUR", "Grüße aus Köln - naïve café"]
    pdf = text_pdf(tmp_path / "born.pdf", pages=2, lines=lines)
    proc = fresh_machine(tmp_path, "ocr", pdf, "--text-layer", "auto", "--model", "/nonexistent/model")
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "ok" and doc["engine"] == {"name": None, "model": None, "family": None}
    assert doc["options"]["text_layer"] == "auto"
    for page in doc["pages"]:
        assert page["source"] == "text-layer" and page["text_layer"]["verdict"] == "ok"
        assert page["text"] == "\n".join(lines)
        assert (page["width_pt"], page["height_pt"]) == (612, 792)
        assert page["prompt_tokens"] == page["completion_tokens"] == 0


def test_readme_main_job_answers_on_a_fresh_machine(tmp_path):
    proc = fresh_machine(tmp_path, "ocr", "examples/invoice.pdf", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr
    page = json.loads(proc.stdout)["pages"][0]
    assert page["source"] == "text-layer"
    assert "ACME Office Supplies Ltd." in page["text"] and "125.70" in page["text"]


def test_readme_tables_job_answers_on_a_fresh_machine(tmp_path):
    # The invoice's items table is ruled under its header and at the bottom only.
    proc = fresh_machine(tmp_path, "extract-tables", "examples/invoice.pdf", "-o", tmp_path / "out.csv")
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["Item", "Qty", "Unit price", "Amount"], ["A4 paper, 500 sheets", "10", "4.50", "45.00"],
                    ["Stapler", "2", "12.00", "24.00"], ["Ink cartridge, black", "3", "18.90", "56.70"]]


def test_a_scan_without_a_model_says_how_to_get_one(tmp_path):
    scan = scan_pdf(tmp_path / "scan.pdf", dpi=100)
    proc = fresh_machine(tmp_path, "ocr", scan)
    assert proc.returncode == 4 and proc.stdout == ""
    [line] = [x for x in proc.stderr.splitlines() if not x.startswith("HEAVY")]
    assert line.startswith(f"docvl: error: {scan}: page 1 needs the model: ")
    assert "hf download Qwen/Qwen2-VL-2B-Instruct" in line and "--model" in line


def test_only_never_loads_a_model_and_fails_pages_without_a_text_layer(tmp_path):
    pdf = mixed_pdf(tmp_path / "mixed.pdf")
    layer = ocr_layer_pdf(tmp_path / "ocr.pdf")
    proc = fresh_machine(tmp_path, "ocr", pdf, layer, "--text-layer", "only", "--format", "jsonl")
    assert proc.returncode == 1, proc.stderr  # partial: some pages failed, the rest were written
    assert f"docvl: {pdf}: 1 of 3 pages failed; first: page 2: no trustworthy text layer" in proc.stderr
    assert "HEAVY []" in proc.stderr
    mixed, ocr = map(json.loads, proc.stdout.splitlines())
    assert [p["status"] for p in mixed["pages"]] == ["ok", "failed", "ok"]
    assert "page 2: no trustworthy text layer (no text layer); use --text-layer auto" in mixed["pages"][1]["error"]
    assert mixed["pages"][2]["text"] == "The third page says this."
    assert ocr["status"] == "failed" and "invisible OCR layer" in ocr["pages"][0]["error"]


def test_auto_sends_the_rest_to_the_model_and_keeps_page_order(run_cli, tiny_model, tmp_path):
    pdf = mixed_pdf(tmp_path / "mixed.pdf")
    code, out, err = run_cli("ocr", pdf, "--model", tiny_model, "--min-pixels", MIN, "--max-pixels", MAX,
                             "--max-new-tokens", 3)
    assert code == 0, err
    doc = json.loads(out)
    assert [p["page"] for p in doc["pages"]] == [1, 2, 3]
    assert [p["source"] for p in doc["pages"]] == ["text-layer", "model", "text-layer"]
    assert doc["engine"]["name"] == "local"
    model_page = doc["pages"][1]
    assert model_page["visual_tokens"] > 0 and model_page["completion_tokens"] >= 1
    code, out, err = run_cli("ocr", pdf, "--model", tiny_model, "--min-pixels", MIN, "--max-pixels", MAX,
                             "--max-new-tokens", 2, "--text-layer", "off")
    assert code == 0, err
    assert [p["source"] for p in json.loads(out)["pages"]] == ["model"] * 3


def test_the_hook_pickles_for_worker_processes():
    hook = TextLayerAnswer("text", only=True)
    assert pickle.loads(pickle.dumps(hook)) == hook


def test_the_hook_answers_trusted_pages_only(tmp_path):
    from docvl.errors import InputError
    from docvl.sources import open_document

    doc = open_document(str(mixed_pdf(tmp_path / "m.pdf")))
    assert "text" in TextLayerAnswer("text")(doc, 1) and TextLayerAnswer("text")(doc, 2) is None
    # Tables: a trusted page without ruled tables goes to the model, unless the model is ruled out.
    assert TextLayerAnswer("tables")(doc, 1) is None
    assert TextLayerAnswer("tables", only=True)(doc, 1)["tables"] == []
    with pytest.raises(InputError, match="page 2: no trustworthy text layer"):
        TextLayerAnswer("tables", only=True)(doc, 2)
    doc.close()


def test_only_on_a_scan_says_why_on_one_line(tmp_path):
    scan = scan_pdf(tmp_path / "scan.pdf", dpi=100)
    proc = fresh_machine(tmp_path, "ocr", scan, "--text-layer", "only")
    assert proc.returncode == 3 and "HEAVY []" in proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if not x.startswith("HEAVY")]
    assert line == (f"docvl: error: {scan}: 1 of 1 pages failed; first: page 1: no trustworthy text layer "
                    "(no text layer); use --text-layer auto to read it with the model")


def test_eval_loads_no_model(tmp_path):
    pdf = text_pdf(tmp_path / "born.pdf", pages=1)
    run = tmp_path / "run.json"
    assert fresh_machine(tmp_path, "ocr", pdf, "-o", run).returncode == 0
    proc = fresh_machine(tmp_path, "eval", run, "--json")
    assert proc.returncode == 0 and "HEAVY []" in proc.stderr
    assert json.loads(proc.stdout)["runs"][0]["pages_by_source"] == {"text-layer": 1}
