"""`docvl eval` end to end: on the tiny model's outputs (low scores, valid report), on text-layer
outputs, on ICDAR 2013 tables and SROIE key fields."""

import json

import pytest

from conftest import SHARED
from docs import text_pdf

MIN, MAX = 64 * 784, 256 * 784
LINES = ["Quarterly report of the docvl test", "Revenue grew by 12.5 percent", "Signed: A. Tester"]


def save(run_cli, target, *args):
    code, _, err = run_cli(*args, "-o", target)
    assert code == 0, err
    return target


def test_eval_scores_model_and_text_layer_runs_side_by_side(run_cli, tiny_model, tmp_path):
    pdf = text_pdf(tmp_path / "report.pdf", pages=2, lines=LINES)
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "report.txt").write_text("\n".join(LINES * 2) + "\n")
    model_run = save(run_cli, tmp_path / "tiny.json", "ocr", pdf, "--text-layer", "off", "--model", tiny_model,
                     "--min-pixels", MIN, "--max-pixels", MAX, "--max-new-tokens", 4)
    layer_run = save(run_cli, tmp_path / "layer.jsonl", "ocr", pdf, "--text-layer", "only", "--format", "jsonl")

    code, out, err = run_cli("eval", model_run, layer_run, "--truth", truth, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["schema"] == "docvl-eval/1"
    tiny, layer = report["runs"]
    assert tiny["pages_by_source"] == {"model": 2} and layer["pages_by_source"] == {"text-layer": 2}
    # Random weights read nothing right; the born-digital PDF is its own truth for the model's pages.
    assert tiny["ocr"]["documents"] == 1 and tiny["ocr"]["cer"] > 0.5 and tiny["ocr"]["wer"] > 0.5
    assert tiny["born_digital"]["pages"] == 2 and tiny["born_digital"]["cer"] > 0.5
    assert tiny["ocr"]["chars"] == len(" ".join(LINES * 2))
    # The text layer is exact, and is not scored against itself.
    assert layer["ocr"]["cer"] == 0.0 and layer["ocr"]["wer"] == 0.0 and layer["born_digital"] is None
    assert tiny["tables"] is None and tiny["fields"] is None

    code, out, err = run_cli("eval", model_run, layer_run, "--truth", truth)
    assert code == 0, err
    assert "tiny.json" in out and "layer.jsonl" in out and "0.0%" in out


def test_eval_bad_runs_are_one_line_errors(run_cli, tmp_path):
    pdf = text_pdf(tmp_path / "a.pdf", pages=1)
    good = save(run_cli, tmp_path / "good.json", "ocr", pdf, "--text-layer", "only")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, out, err = run_cli("eval", good, bad, "--json")
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith(f"docvl: error: {bad}: not docvl JSON or JSONL output (")
    assert [r["run"] for r in json.loads(out)["runs"]] == [str(good)]
    code, out, err = run_cli("eval", good, "--truth", tmp_path / "nowhere")
    assert code == 3 and "--truth needs a folder" in err and out == ""


needs_corpus = pytest.mark.skipif(not (SHARED / "corpus").exists(), reason="needs ../shared/corpus")


@needs_corpus
def test_eval_scores_extract_tables_text_layer_only_against_icdar_structure(run_cli, tmp_path):
    corpus = SHARED / "corpus" / "icdar2013-eu"
    run = tmp_path / "tables.json"
    code, _, err = run_cli("extract-tables", corpus / "eu-001.pdf", "--text-layer", "only", "-o", run)
    assert code == 0, err
    record = json.loads(run.read_text())
    assert record["engine"]["name"] is None and {p["source"] for p in record["pages"]} == {"text-layer"}
    code, out, err = run_cli("eval", run, "--truth", corpus, "--json")
    assert code == 0, err
    tables = json.loads(out)["runs"][0]["tables"]
    assert tables["documents"] == 1 and tables["f1"] > 0.8 and tables["tp"] > 100


@needs_corpus
def test_eval_scores_key_fields_and_line_transcripts_of_sroie(run_cli, tmp_path):
    sroie = SHARED / "corpus" / "sroie"
    truth = json.loads((sroie / "000.json").read_text())
    lines = [row.split(",", 8)[8] for row in (sroie / "000.csv").read_text().splitlines() if row.count(",") >= 8]
    record = {"schema": "docvl/1", "task": "extract", "source": {"path": "receipts/000.jpg", "kind": "image"},
              "fields": {**truth, "company": truth["company"].lower(), "total": "9.50"},
              "pages": [{"page": 1, "status": "ok", "source": "model", "text": "\n".join(lines)}]}
    run = tmp_path / "fields.json"
    run.write_text(json.dumps(record))
    code, out, err = run_cli("eval", run, "--truth", sroie, "--json")
    assert code == 0, err
    scored = json.loads(out)["runs"][0]
    assert scored["fields"]["accuracy"] == 0.75
    assert scored["fields"]["per_field"] == {"address": 1.0, "company": 1.0, "date": 1.0, "total": 0.0}
    assert scored["ocr"]["cer"] == 0.0


@needs_corpus
def test_eval_scores_the_tiny_models_extract_and_ocr_of_a_receipt(run_cli, tiny_model, tmp_path):
    sroie = SHARED / "corpus" / "sroie"
    common = ("--model", tiny_model, "--min-pixels", MIN, "--max-pixels", MAX, "--max-new-tokens", 6)
    fields = save(run_cli, tmp_path / "fields.json", "extract", sroie / "000.jpg",
                  "--fields", "company,date,address,total", *common)
    text = save(run_cli, tmp_path / "ocr.json", "ocr", sroie / "000.jpg", *common)
    code, out, err = run_cli("eval", fields, text, "--truth", sroie, "--json")
    assert code == 0, err
    extract_run, ocr_run = json.loads(out)["runs"]
    assert extract_run["fields"]["documents"] == 1
    assert set(extract_run["fields"]["per_field"]) == {"company", "date", "address", "total"}
    assert extract_run["fields"]["accuracy"] < 0.5  # random weights
    assert ocr_run["ocr"]["documents"] == 1 and ocr_run["ocr"]["cer"] > 0.5
    assert ocr_run["pages_by_source"] == {"model": 1}
