import json

import pytest

from docs import scan_pdf, text_pdf
from docvl.budget import Budget

MIN, MAX = 64 * 784, 256 * 784  # small budgets keep the tiny model fast on CPU


@pytest.fixture
def pdfs(tmp_path):
    return text_pdf(tmp_path / "text.pdf", pages=2), scan_pdf(tmp_path / "scan.pdf", dpi=150, pages=1)


def test_ocr_end_to_end_on_text_and_scan_pdfs(run_cli, tiny_model, pdfs):
    from transformers import AutoProcessor

    code, out, err = run_cli("ocr", *pdfs, "--model", tiny_model, "--min-pixels", MIN, "--max-pixels", MAX,
                             "--max-new-tokens", 6, "--batch-size", 2, "--lang", "ko",
                             "--text-layer", "off")
    assert code == 0, err
    docs = json.loads(out)
    assert [d["schema"] for d in docs] == ["docvl/1", "docvl/1"]
    assert [d["source"]["page_count"] for d in docs] == [2, 1]
    assert docs[0]["engine"] == {"name": "local", "model": str(tiny_model), "family": "qwen2-vl"}
    assert docs[0]["options"]["lang"] == "ko"
    processor = AutoProcessor.from_pretrained(tiny_model)
    from PIL import Image

    for doc in docs:
        assert doc["status"] == "ok"
        for page in doc["pages"]:
            assert page["status"] == "ok" and isinstance(page["text"], str)
            assert (page["width_pt"], page["height_pt"]) == (612, 792)
            assert page["width_px"] * page["height_px"] <= MAX
            sx, sy = page["pt_per_px"]
            assert (page["width_px"] * sx, page["height_px"] * sy) == pytest.approx((612, 792), abs=1e-4)
            # The processor, given docvl's image and budget, sees exactly docvl's token count.
            grid = processor.image_processor(
                Image.new("RGB", (page["width_px"], page["height_px"])),
                size={"shortest_edge": MIN, "longest_edge": MAX}, return_tensors="pt",
            )["image_grid_thw"]
            assert int(grid.prod()) // 4 == page["visual_tokens"] == page["width_px"] * page["height_px"] // 784
            assert page["prompt_tokens"] > page["visual_tokens"]
            assert 1 <= page["completion_tokens"] <= 6
    assert docs[1]["pages"][0]["scan_dpi"] == pytest.approx(150, rel=0.01)
    assert docs[0]["pages"][0]["scan_dpi"] is None


def test_ocr_formats_and_output_file(run_cli, tiny_model, pdfs, tmp_path):
    common = ("--model", tiny_model, "--min-pixels", MIN, "--max-pixels", MAX, "--max-new-tokens", 3,
              "--text-layer", "off")
    code, out, _ = run_cli("ocr", *pdfs, "--format", "jsonl", *common)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["schema"] == "docvl/1" for line in lines)
    code, out, _ = run_cli("ocr", pdfs[0], "--format", "text", "--pages", "2", *common)
    assert code == 0 and "\f" not in out
    target = tmp_path / "out" / "doc.json"
    code, out, _ = run_cli("ocr", pdfs[0], "-o", target, "--pages", "2-end", *common)
    assert code == 0 and out == ""
    doc = json.loads(target.read_text())
    assert [p["page"] for p in doc["pages"]] == [2]


def test_bad_file_in_a_list_is_one_line_and_partial(run_cli, tiny_model, pdfs, tmp_path):
    bad = tmp_path / "notes.pdf"
    bad.write_text("not a pdf")
    code, out, err = run_cli("ocr", pdfs[0], bad, "--model", tiny_model, "--min-pixels", MIN,
                             "--max-pixels", MAX, "--max-new-tokens", 2)
    assert code == 1
    assert err.strip().splitlines() == [f"docvl: error: {bad}: not a PDF or an image (PNG, JPEG, TIFF)"]
    docs = json.loads(out)
    assert [d["status"] for d in docs] == ["ok", "failed"]


@pytest.mark.parametrize("args, code, fragment", [
    (["missing.pdf"], 3, "no such file"),
    (["{scan}", "--model", "/nonexistent/model"], 4, "--model /nonexistent/model: no such folder"),
    (["{scan}", "--model", "Qwen/Not-A-Real-Model"], 4, "hf download"),
    (["{pdf}", "--lang", "xx"], 2, "unknown language"),
    (["{pdf}", "--pages", "0"], 2, "--pages"),
    (["{pdf}", "--pages", "3-9"], 3, "--pages 3-9 selects none of its 2 pages"),
    (["{pdf}", "--min-pixels", "5000", "--max-pixels", "1000"], 2, "--max-pixels"),
    (["{scan}", "--device", "cuda"], 2, "no CUDA GPU"),
    (["{pdf}", "--text-layer", "sometimes"], 2, "--text-layer"),
])
def test_usage_and_engine_errors(run_cli, pdfs, args, code, fragment):
    args = [a.replace("{pdf}", str(pdfs[0])).replace("{scan}", str(pdfs[1])) for a in args]
    got, out, err = run_cli("ocr", *args)
    assert got == code
    assert fragment in err and len(err.strip().splitlines()) == 1
    # An input error still leaves a (failed) document record; other errors stop before any output.
    assert json.loads(out)["status"] == "failed" if code == 3 else out == ""


def test_info_loads_no_model(run_cli, pdfs):
    code, out, err = run_cli("info", *pdfs, "--json")
    assert code == 0, err
    text, scan = json.loads(out)
    assert text["page_count"] == 2 and text["pages"][0]["text_layer"]["trusted"] is True
    assert scan["pages"][0]["scan_dpi"] == pytest.approx(150, rel=0.01)
    assert scan["pages"][0]["text_layer"]["verdict"] == "none"
    budget = Budget()
    assert text["pages"][0]["visual_tokens"] * 784 <= budget.max_pixels
