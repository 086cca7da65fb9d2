"""End to end: extract-tables, ground, extract and ocr --boxes through the CLI on real tiny checkpoints.

Two models: the random tiny one (gibberish: the outputs must still be valid), and one trained to give
a known answer (tests/answermodel.py), whose table, box and fields must come out right.
"""

import json
from importlib import resources

import pandas as pd
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from docs import LETTER, text_pdf
from docvl.table_output import TableSink, neutralise

MIN, MAX = 64 * 784, 256 * 784
ANSWER = ('<|object_ref_start|>total<|object_ref_end|><|box_start|>(100,200),(500,300)<|box_end|>\n'
          '<table data-bbox="100 200 500 300"><tr><th>Item</th><th>Amount</th></tr>'
          '<tr><td>=1+2</td><td>-12.50</td></tr><tr><td>@SUM(A1)</td><td>7</td></tr></table>\n'
          '{"invoice_number": "A-17", "total": "12.50", "vendor": "ACME"}')
# (100,200),(500,300) in thousandths of a page as displayed, in points:
LETTER_BOX = [61.2, 158.4, 306.0, 237.6]  # 612 x 792
LETTER_90_BOX = [79.2, 122.4, 396.0, 183.6]  # 792 x 612 once turned
SCHEMA = json.loads((resources.files("docvl.schemas") / "docvl-1.schema.json").read_text())


def valid(document: dict) -> dict:
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(document), key=str)
    assert not errors, errors[0]
    return document


@pytest.fixture(scope="session")
def answering_model():
    from answermodel import build_answering_checkpoint

    return build_answering_checkpoint("answering", ANSWER)


@pytest.fixture
def letter(tmp_path):
    return text_pdf(tmp_path / "invoice.pdf", pages=1)


def opts(model, tokens=160):
    return ("--model", model, "--min-pixels", MIN, "--max-pixels", MAX, "--max-new-tokens", tokens)


# -- gibberish in, valid files out ----------------------------------------------------------------


def test_random_model_still_gives_valid_documents(run_cli, tiny_model, tmp_path):
    pdf = text_pdf(tmp_path / "doc.pdf", pages=2)
    common = opts(tiny_model, 12)
    documents = {}
    for args in (["extract-tables", pdf, "--format", "json"], ["ground", pdf, "the total", "--all"],
                 ["extract", pdf, "--fields", "invoice_number,date,total"], ["ocr", pdf, "--boxes", "--text-layer", "off"]):
        code, out, err = run_cli(*args, *common)
        assert code == 0, err
        documents[args[0]] = document = valid(json.loads(out))
        assert document["status"] == "ok" and len(document["pages"]) == 2
    key = {"extract-tables": "tables", "ground": "boxes", "extract": "fields", "ocr": "lines"}
    for command, document in documents.items():
        assert all(key[command] in page and "warnings" in page for page in document["pages"])
    assert list(documents["extract"]["fields"]) == ["invoice_number", "date", "total"]
    code, out, err = run_cli("extract-tables", pdf, "-o", tmp_path / "out.csv", *common)
    assert code == 0 and out == "" and "no table found" in err
    assert not list(tmp_path.glob("out*.csv"))


# -- a known answer in, the right table, box and fields out -----------------------------------------


def test_table_to_csv_with_formula_cells_neutralised(run_cli, answering_model, letter, tmp_path):
    target = tmp_path / "out.csv"
    code, out, err = run_cli("extract-tables", letter, "-o", target, *opts(answering_model))
    assert code == 0, err
    assert out == "" and [p.name for p in tmp_path.glob("out*")] == ["out.csv"]
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["Item", "Amount"]
    # =1+2 and @SUM(A1) would run in a spreadsheet; -12.50 is a number, not a formula.
    assert frame.values.tolist() == [["'=1+2", "-12.50"], ["'@SUM(A1)", "7"]]

    code, out, err = run_cli("extract-tables", letter, "-o", "-", "--raw-cells", *opts(answering_model))
    assert code == 0, err
    assert out.splitlines() == ["Item,Amount", "=1+2,-12.50", "@SUM(A1),7"]


def test_several_tables_are_named_by_page_and_index(run_cli, answering_model, tmp_path):
    two = text_pdf(tmp_path / "two.pdf", pages=2)
    one = text_pdf(tmp_path / "one.pdf", pages=1)
    code, _, err = run_cli("extract-tables", two, "-o", tmp_path / "a" / "out.csv", *opts(answering_model))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["out-p1-t1.csv", "out-p2-t1.csv"]
    code, _, err = run_cli("extract-tables", two, one, "-o", tmp_path / "b" / "out.csv", *opts(answering_model))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "out-one-p1-t1.csv", "out-two-p1-t1.csv", "out-two-p2-t1.csv"]
    for path in (tmp_path / "b").iterdir():
        assert pd.read_csv(path, dtype=str).shape == (2, 2)


def test_tables_as_json_with_their_box_in_points(run_cli, answering_model, letter):
    code, out, err = run_cli("extract-tables", letter, "--format", "json", *opts(answering_model))
    assert code == 0, err
    [table] = valid(json.loads(out))["pages"][0]["tables"]
    assert table["page"] == 1 and table["index"] == 1 and table["header"] == ["Item", "Amount"]
    assert table["rows"] == [["=1+2", "-12.50"], ["@SUM(A1)", "7"]]  # JSON is data: cells as written
    assert table["box"] == pytest.approx(LETTER_BOX, abs=0.01)


def test_tables_as_xlsx_hold_text_cells_never_formulas(run_cli, answering_model, letter, tmp_path):
    from openpyxl import load_workbook

    code, _, err = run_cli("extract-tables", letter, "-o", tmp_path / "out.xlsx", *opts(answering_model))
    assert code == 0, err
    sheet = load_workbook(tmp_path / "out.xlsx")["p1-t1"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["Item", "Amount"], ["=1+2", "-12.50"],
                                                                      ["@SUM(A1)", "7"]]
    assert sheet["A2"].data_type == "s"


def test_ground_on_a_rotated_page_with_overlay(run_cli, answering_model, tmp_path):
    pdf = text_pdf(tmp_path / "turned.pdf", pages=2, rotation=90)
    code, out, err = run_cli("ground", pdf, "the total", "--overlay", tmp_path / "marked", *opts(answering_model))
    assert code == 0, err
    document = valid(json.loads(out))
    for page in document["pages"]:
        [box] = page["boxes"]
        assert box["label"] == "total"
        assert box["box"] == pytest.approx(LETTER_90_BOX, abs=0.01)
        png = Image.open(tmp_path / "marked" / f"turned-p{page['page']}.png").convert("RGB")
        assert png.size == (page["width_px"], page["height_px"])  # the image the model saw, landscape
        x0, y0, x1, y1 = (round(v) for v in box["box_px"])
        assert png.getpixel(((x0 + x1) // 2, y1 - 1)) == (0xE6, 0x19, 0x4B)  # the first box's colour


@pytest.mark.parametrize("how", ["fields", "schema"])
def test_extract_fields_typed_null_when_absent_never_invented(run_cli, answering_model, letter, tmp_path, how):
    if how == "fields":
        args = ["--fields", "invoice_number,date,total"]
        expected = {"invoice_number": "A-17", "date": None, "total": "12.50"}
    else:
        schema = {"properties": {"invoice_number": {"type": "string"}, "date": {"type": "string", "format": "date"},
                                 "total": {"type": "number"}}}
        (tmp_path / "s.json").write_text(json.dumps(schema))
        args = ["--schema", tmp_path / "s.json"]
        expected = {"invoice_number": "A-17", "date": None, "total": 12.5}
    code, out, err = run_cli("extract", letter, *args, *opts(answering_model))
    assert code == 0, err
    document = valid(json.loads(out))
    assert document["fields"] == expected and document["pages"][0]["fields"] == expected  # no "vendor"


def test_ocr_lines_with_boxes(run_cli, answering_model, letter):
    code, out, err = run_cli("ocr", letter, "--boxes", "--text-layer", "off", *opts(answering_model))
    assert code == 0, err
    [page] = valid(json.loads(out))["pages"]
    assert [line["text"] for line in page["lines"]] == ["total"] and page["text"] == "total"
    assert page["lines"][0]["box"] == pytest.approx(LETTER_BOX, abs=0.01)


# -- options and rules that need no model -----------------------------------------------------------


@pytest.mark.parametrize("args, fragment", [
    (["extract-tables", "{pdf}", "--format", "xml"], "--format xml"),
    (["extract-tables", "{pdf}", "--format", "xlsx"], "-o FILE.xlsx"),
    (["ground", "{pdf}", "  "], "query is empty"),
    (["extract", "{pdf}"], "either --fields"),
    (["extract", "{pdf}", "--fields", " , "], "at least one field"),
    (["extract", "{pdf}", "--schema", "{missing}"], "--schema"),
])
def test_usage_errors_are_one_line(run_cli, letter, tmp_path, args, fragment):
    args = [a.replace("{pdf}", str(letter)).replace("{missing}", str(tmp_path / "no.json")) for a in args]
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert fragment in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("cell, safe", [
    ("=1+2", "'=1+2"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), (" =1", "' =1"), ("\uff1d1+1", "'\uff1d1+1"),
    ("-12.50", "-12.50"), ("+3", "+3"), ("-1,234.5", "-1,234.5"), ("12%", "12%"), ("Total", "Total"), ("", ""),
])
def test_formula_cells_are_neutralised_and_numbers_left_alone(cell, safe):
    assert neutralise(cell) == safe


def test_several_tables_on_a_page_get_their_index(tmp_path):
    sink = TableSink("csv", str(tmp_path / "t.csv"))
    tables = [{"page": 3, "index": i, "header": ["a"], "rows": [[str(i)]]} for i in (1, 2)]
    sink.add({"source": {"path": "x.pdf"}, "pages": [{"page": 3, "tables": tables}]})
    sink.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t-p3-t1.csv", "t-p3-t2.csv"]
    assert (tmp_path / "t-p3-t2.csv").read_text() == "a\n2\n"


def test_overlays_draw_each_page_at_the_size_its_record_gives(tmp_path):
    """A page retried smaller after running out of memory records its smaller size: its overlay is
    drawn at that size, where its pixel boxes apply; a document without boxes writes nothing."""
    import pymupdf
    from PIL import Image

    from docvl.overlay import Overlays

    pdf = tmp_path / "x.pdf"
    doc = pymupdf.open()
    doc.new_page(width=612, height=792).insert_text((72, 72), "Total 12.50")
    doc.save(pdf)
    overlays = Overlays(str(tmp_path / "marked"))
    overlays.write({"source": {"path": "x.pdf"}, "pages": [{"page": 1, "boxes": []}]}, str(pdf), None)
    assert overlays.boxed_pages == 0 and not (tmp_path / "marked").exists()
    page = {"page": 1, "width_px": 308, "height_px": 392, "boxes": [{"box_px": [10, 10, 60, 30], "label": "a"}]}
    overlays.write({"source": {"path": "x.pdf"}, "pages": [page]}, str(pdf), None)
    assert overlays.boxed_pages == 1
    assert Image.open(tmp_path / "marked" / "x-p1.png").size == (308, 392)
    assert "warnings" not in page
