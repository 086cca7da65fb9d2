"""The Python API on the CLI's job layer: the same documents as the CLI's JSON, one model load for
many calls, batches that resume, typed errors before any page is rendered."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import docvl
from docs import text_pdf
from docvl.errors import EngineError, InputError, UsageError
from test_cli_tables import MAX, MIN, answering_model, opts, valid  # noqa: F401  (a fixture)
from test_examples import without_seconds

ROOT = Path(__file__).resolve().parents[1]


def api_options(model) -> dict:
    return {"model": str(model), "min_pixels": MIN, "max_pixels": MAX, "max_new_tokens": 160, "workers": 1}


@pytest.fixture
def letter(tmp_path):
    return text_pdf(tmp_path / "invoice.pdf", pages=1)


@pytest.mark.parametrize("call, cli", [
    (lambda pdf, o: docvl.ocr(pdf, text_layer="off", **o), ["ocr", "--text-layer", "off"]),
    (lambda pdf, o: docvl.ocr(pdf, boxes=True, text_layer="off", **o), ["ocr", "--boxes", "--text-layer", "off"]),
    (lambda pdf, o: docvl.extract_tables(pdf, text_layer="off", **o), ["extract-tables", "--format", "json",
                                                                         "--text-layer", "off"]),
    (lambda pdf, o: docvl.ground(pdf, "the total", **o), ["ground", "QUERY"]),
    (lambda pdf, o: docvl.extract(pdf, fields=["invoice_number", "total"], **o),
     ["extract", "--fields", "invoice_number,total"]),
], ids=["ocr", "ocr-boxes", "extract-tables", "ground", "extract"])
def test_the_api_returns_the_cli_json(run_cli, answering_model, letter, call, cli):
    command, *rest = cli
    args = [command, letter, *("the total" if a == "QUERY" else a for a in rest), *opts(answering_model)]
    code, out, err = run_cli(*args, "--workers", "1")
    assert code == 0, err
    doc = call(letter, api_options(answering_model))
    assert isinstance(doc, docvl.Document) and doc.status == "ok"
    assert without_seconds(doc.to_dict()) == without_seconds(valid(json.loads(out)))
    assert doc.to_dict()["engine"]["name"] == "local"


def test_text_layer_documents_equal_the_cli_json_and_need_no_model(run_cli, tmp_path):
    pdf = text_pdf(tmp_path / "letter.pdf", pages=2)
    code, out, _ = run_cli("ocr", pdf, "--text-layer", "only")
    doc = docvl.ocr(pdf, text_layer="only")
    assert code == 0 and without_seconds(doc.to_dict()) == without_seconds(json.loads(out))
    assert doc.text == "\f".join(p["text"] for p in doc.pages) and "\f" in doc.text
    assert doc.to_dict()["engine"] == {"name": None, "model": None, "family": None}


def test_bytes_and_images_are_sources(tmp_path, tiny_model):
    pdf = text_pdf(tmp_path / "letter.pdf", pages=1)
    from_bytes = docvl.ocr(pdf.read_bytes(), text_layer="only")
    assert from_bytes.path == "<bytes>" and from_bytes.text == docvl.ocr(pdf, text_layer="only").text
    image = Image.new("RGB", (28 * 12, 28 * 10), "white")
    ImageDraw.Draw(image).text((20, 120), "Invoice 42", fill="black")  # ink: a blank page skips the model
    doc = docvl.ocr(image, model=str(tiny_model), max_new_tokens=2, min_pixels=MIN, max_pixels=MAX, workers=1)
    assert doc.path == "<image>" and doc.pages[0]["source"] == "model" and doc.pages[0]["width_px"] == 28 * 12


def test_one_engine_loads_its_model_once_for_many_calls(tmp_path, answering_model, monkeypatch):
    import docvl.api

    opened = []
    real = docvl.api.open_backend
    monkeypatch.setattr(docvl.api, "open_backend", lambda config: opened.append(config) or real(config))
    pdfs = [text_pdf(tmp_path / f"doc{i}.pdf", pages=1) for i in range(3)]
    options = api_options(answering_model)
    model = options.pop("model")
    with docvl.Engine(model, device="cpu", max_new_tokens=160) as engine:
        assert not engine.loaded  # nothing is loaded before a page needs it
        docs = [docvl.ocr(pdfs[0], text_layer="off", engine=engine, **options),
                engine.extract_tables(pdfs[1], text_layer="off", **options),
                docvl.ground(pdfs[2], "the total", engine=engine, **options)]
        assert engine.loaded
    assert len(opened) == 1 and all(d.status == "ok" for d in docs)
    assert docs[1].tables[0]["header"] == ["Item", "Amount"]
    assert docs[1].dataframes()[0].columns.tolist() == ["Item", "Amount"]


def test_a_batch_yields_documents_as_they_finish_and_resumes_like_the_cli(run_cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b"):
        text_pdf(folder / f"{name}.pdf", pages=1)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 nothing else")
    out = tmp_path / "out"
    first = list(docvl.run("ocr", [folder], out_dir=out, text_layer="only"))
    assert sorted((Path(d.path).name, d.status) for d in first) == [("a.pdf", "ok"), ("b.pdf", "ok"),
                                                                    ("broken.pdf", "failed")]
    assert json.loads((out / "a.pdf.json").read_text())["status"] == "ok"
    summary = json.loads((out / "docvl-summary.json").read_text())
    assert summary["documents"] == {"total": 3, "ok": 2, "partial": 0, "failed": 1, "skipped": 0}
    again = list(docvl.run("ocr", [folder], out_dir=out, text_layer="only"))
    assert sum(d.skipped for d in again) == 2  # as a CLI rerun: the finished ones are skipped
    code, _, _ = run_cli("ocr", folder, "--out-dir", out, "--text-layer", "only")
    assert code == 1 and json.loads((out / "docvl-summary.json").read_text())["documents"]["skipped"] == 2


def test_bad_options_and_inputs_raise_typed_errors(tmp_path, monkeypatch):
    import docvl.runner

    pdf = text_pdf(tmp_path / "letter.pdf", pages=1)
    rendered = []
    monkeypatch.setattr(docvl.runner, "RasterPool", lambda *a, **k: rendered.append(1))
    for bad in ({"dtype": "float8"}, {"quant": "3bit"}, {"device": "gpu"}, {"attn": "fast"},
                {"prompt_file": str(tmp_path / "none.txt")}, {"max_pixels": 100}, {"pages": "x"},
                {"no_such_option": 1}):
        with pytest.raises(UsageError):
            docvl.ocr(pdf, **bad)
    with pytest.raises(UsageError, match="docvl.run"):
        docvl.ocr(tmp_path)
    assert not rendered  # every one was refused before any page was rendered
    monkeypatch.undo()
    with pytest.raises(InputError, match="no such file"):
        docvl.ocr(tmp_path / "missing.pdf")
    with pytest.raises(EngineError):
        inked = Image.new("RGB", (280, 280), "white")
        ImageDraw.Draw(inked).text((20, 120), "Invoice 42", fill="black")  # a blank page needs no model
        docvl.ocr(inked, model=str(tmp_path / "no-model"))
    assert issubclass(InputError, docvl.errors.DocvlError) and InputError.code == 3


def test_the_api_script_in_examples_runs(tmp_path, answering_model):
    proc = subprocess.run([sys.executable, ROOT / "examples" / "api.py", "--model", answering_model,
                           "--out", tmp_path / "results"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "examples/report.pdf: ok" in proc.stdout and "tables" in proc.stdout
    assert (tmp_path / "results" / "docvl-summary.json").exists()
