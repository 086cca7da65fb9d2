"""Knowing when a page's answer cannot be trusted: token-probability confidence (equal to the model's own),
--min-confidence review marks counted in the summary, blank pages answered without the model, looping
answers cut and warned, answers at the token limit marked truncated."""

import json
import math

import pytest
from PIL import Image, ImageDraw

from docvl.blank import is_blank
from servers import FaultServer, completion

SIZE = 224  # 8 x 8 patches of 28 px: the page goes to the model at exactly this size (64 visual tokens)
BUDGET = ("--min-pixels", 64 * 784, "--max-pixels", 256 * 784)


def page(path, text: str | None = "Invoice 42"):
    image = Image.new("RGB", (SIZE, SIZE), "white")
    if text:
        ImageDraw.Draw(image).text((20, 100), text, fill="black")
    image.save(path)
    return path


def valid(document: dict) -> dict:
    """`document`, after checking it against the docvl/1 JSON Schema."""
    from importlib import resources

    from jsonschema import Draft202012Validator

    schema = json.loads((resources.files("docvl.schemas") / "docvl-1.schema.json").read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=str)
    assert not errors, errors[0]
    return document


def written(out_dir, name: str) -> dict:
    [path] = out_dir.rglob(f"{name}.json")
    return valid(json.loads(path.read_text()))


@pytest.fixture
def server():
    servers = []

    def start(script):
        servers.append(FaultServer(script))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def with_logprobs(text: str, logprobs: list[float] | None, finish: str = "stop") -> dict:
    answer = completion(text)
    choice = answer["choices"][0]
    choice["finish_reason"] = finish
    if logprobs is not None:
        choice["logprobs"] = {"content": [{"token": "x", "logprob": v, "bytes": [120], "top_logprobs": []}
                                          for v in logprobs]}
    return answer


def test_token_probabilities_are_the_models_own(run_cli, tiny_model, tmp_path):
    """The local engine's recorded probabilities equal softmax(logits) of one plain forward pass over the
    prompt and the answer; an answer that ends at --max-new-tokens is marked truncated."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from docvl.tasks.ocr import ocr_task

    path = page(tmp_path / "line.png")
    code, out, err = run_cli("ocr", path, "--model", tiny_model, *BUDGET, "--max-new-tokens", 5,
                             "--orientation", "off")  # the model sees exactly the file's pixels
    assert code == 0, err
    [record] = json.loads(out)["pages"]
    assert record["source"] == "model" and (record["width_px"], record["height_px"]) == (SIZE, SIZE)

    processor = AutoProcessor.from_pretrained(tiny_model)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model, dtype=torch.float32).eval()
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": ocr_task().prompt(None, "qwen2-vl")}]}]
    chat = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = processor(text=[chat], images=[Image.open(path).convert("RGB")], return_tensors="pt",
                       size={"shortest_edge": 64 * 784, "longest_edge": 256 * 784})
    with torch.inference_mode():
        sequence = model.generate(**inputs, max_new_tokens=5, do_sample=False)
        extra = {}
        if "mm_token_type_ids" in inputs:  # transformers 5: which tokens are the image's
            types = inputs["mm_token_type_ids"]
            extra["mm_token_type_ids"] = torch.cat([types, types.new_zeros(1, sequence.shape[1] - types.shape[1])], 1)
        logits = model(input_ids=sequence, attention_mask=torch.ones_like(sequence), pixel_values=inputs["pixel_values"],
                       image_grid_thw=inputs["image_grid_thw"], **extra).logits
    n = inputs["input_ids"].shape[1]
    answer = sequence[0, n:].tolist()
    stops = {processor.tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")}
    end = next((i for i, t in enumerate(answer) if t in stops), len(answer))
    probs = torch.softmax(logits[0, n - 1:-1].double(), dim=-1)
    chosen = [float(probs[i, t]) for i, t in enumerate(answer[:end])]
    assert record["confidence"]["tokens"] == end > 0
    assert record["confidence"]["mean"] == pytest.approx(sum(chosen) / end, rel=1e-3)
    assert record["confidence"]["min"] == pytest.approx(min(chosen), rel=1e-3)
    assert record["truncated"] is (end == 5)
    if end == 5:
        assert any("token limit" in w for w in record["warnings"])


def test_blank_page_costs_no_model_call_and_a_short_line_is_not_blank(run_cli, server, tmp_path):
    srv = server(lambda n: with_logprobs("Invoice 42", [-0.01, -0.2]))
    blank, line = page(tmp_path / "blank.png", None), page(tmp_path / "line.png", "42")
    out_dir = tmp_path / "out"
    code, _, err = run_cli("ocr", blank, line, "--base-url", srv.url, *BUDGET, "--out-dir", out_dir)
    assert code == 0, err
    assert srv.posts == 1  # the line's page only
    [b] = written(out_dir, "blank.png")["pages"]
    assert b["status"] == "ok" and b["blank"] is True and b["text"] == "" and b["source"] == "blank"
    assert b["completion_tokens"] == 0 and "confidence" not in b
    [t] = written(out_dir, "line.png")["pages"]
    assert t["text"] == "Invoice 42" and "blank" not in t
    assert t["confidence"] == {"mean": pytest.approx((math.exp(-0.01) + math.exp(-0.2)) / 2, rel=1e-5),
                               "min": pytest.approx(math.exp(-0.2), rel=1e-5), "tokens": 2}
    summary = json.loads((out_dir / "docvl-summary.json").read_text())
    assert summary["pages"]["blank"] == 1 and summary["pages"]["inferred"] == 1

    # --blank off sends every page to the model.
    code, _, err = run_cli("ocr", blank, "--base-url", srv.url, *BUDGET, "--blank", "off")
    assert code == 0 and srv.posts == 2, err


def test_looping_answer_is_cut_warned_and_marked_truncated(run_cli, server, tmp_path):
    loop = "Total 12.00\n" + "Thank you for shopping\n" * 40
    srv = server(lambda n: with_logprobs(loop, None, finish="length"))
    code, out, err = run_cli("ocr", page(tmp_path / "p.png"), "--base-url", srv.url, *BUDGET)
    assert code == 0, err
    [record] = valid(json.loads(out))["pages"]
    assert record["text"] == "Total 12.00\nThank you for shopping"
    assert record["truncated"] is True and record["confidence"] is None
    assert any("repeats the same" in w for w in record["warnings"])
    assert any("token limit" in w for w in record["warnings"])


def test_min_confidence_marks_review_and_the_summary_counts_it(run_cli, server, tmp_path):
    srv = server(lambda n: with_logprobs("ok", [-0.01] if n == 0 else [-0.01, -3.0]))
    a, b = page(tmp_path / "a.png"), page(tmp_path / "b.png", "other")
    out_dir = tmp_path / "out"
    args = ("ocr", a, b, "--base-url", srv.url, *BUDGET, "--concurrency", 1, "--batch-size", 1,
            "--workers", 1, "--out-dir", out_dir)
    code, _, err = run_cli(*args, "--min-confidence", 0.8)
    assert code == 0, err
    pages = {p: written(out_dir, f"{p}.png")["pages"][0] for p in "ab"}
    assert "review" not in pages["a"]
    assert pages["b"]["review"] is True and any("low confidence" in w for w in pages["b"]["warnings"])
    summary = json.loads((out_dir / "docvl-summary.json").read_text())
    assert summary["pages"]["review"] == 1 and summary["outcome"] == "ok"
    code, _, err = run_cli("ocr", a, "--base-url", srv.url, "--min-confidence", 2)
    assert code == 2 and "--min-confidence" in err


def test_a_server_that_refuses_logprobs_gives_null_confidence(run_cli, server, tmp_path):
    # The first request (with logprobs) is refused; asked again without them, the page is answered, and
    # later pages are asked without them.
    refusal = ("status", 422, None, "Unexpected fields in the request: {'logprobs'}")
    srv = server(lambda n: refusal if n == 0 else with_logprobs("fine", None))
    a, b = page(tmp_path / "a.png"), page(tmp_path / "b.png", "other")
    code, out, err = run_cli("ocr", a, b, "--base-url", srv.url, *BUDGET, "--retries", 0, "--concurrency", 1,
                             "--batch-size", 1, "--workers", 1)
    assert code == 0, err
    records = [d["pages"][0] for d in json.loads(out)]
    assert [(r["status"], r["text"], r["confidence"]) for r in records] == [("ok", "fine", None)] * 2
    assert srv.posts == 3


def _sheet(draw_text: str | None, noise: bool = False, border: bool = False):
    import numpy as np

    rng = np.random.default_rng(0)
    image = Image.new("L", (850, 1100), 250)  # letter at 100 DPI
    if draw_text:
        ImageDraw.Draw(image).text((425, 1050), draw_text, fill=0)
    a = np.asarray(image, dtype=np.float32)
    if noise:
        a = a + rng.normal(0, 10, a.shape)
        a[rng.random(a.shape) < 0.002] = 60
    if border:
        a[:, :30] = 20
        a[:25, :] = 30
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("noise,border", [(False, False), (True, False), (False, True), (True, True)])
def test_blank_decision_on_noise_and_borders(noise, border):
    assert is_blank(_sheet(None, noise, border), 100)
    assert not is_blank(_sheet("7", noise, border), 100)  # a page number alone is ink


def test_eval_ranks_errors_by_confidence(run_cli, tmp_path):
    """`docvl eval` reports the CER of the least confident tenth of the scored documents against the rest."""
    truth = tmp_path / "truth"
    truth.mkdir()
    docs = []
    for i in range(10):
        (truth / f"doc{i}.txt").write_text("the quick brown fox jumps")
        wrong = i == 0  # the least confident document is the one read badly
        page = {"page": 1, "status": "ok", "error": None, "source": "model",
                "text": "tha qu1ck brawn f0x" if wrong else "the quick brown fox jumps",
                "confidence": {"mean": 0.4 if wrong else 0.9 + i / 100, "min": 0.1, "tokens": 8}}
        docs.append({"schema": "docvl/1", "task": "ocr", "source": {"path": f"doc{i}.png", "kind": "image"},
                     "status": "ok", "error": None, "pages": [page]})
    run = tmp_path / "run.json"
    run.write_text(json.dumps(docs))
    code, out, err = run_cli("eval", run, "--truth", truth, "--json")
    assert code == 0, err
    conf = json.loads(out)["runs"][0]["confidence"]
    assert conf["units"] == 10 and conf["lowest_tenth"]["units"] == 1 and conf["rest"]["units"] == 9
    assert conf["lowest_tenth"]["cer"] > 0.1 and conf["rest"]["cer"] == 0
    assert conf["below"]["0.5"]["units"] == 1
    code, out, err = run_cli("eval", run, "--truth", truth)
    assert code == 0, err
    assert "low-conf" in out and "40.0%/0.0%" in out, out


def test_a_turned_scan_is_read_upright_and_its_boxes_land_on_the_page_as_displayed(run_cli, server, tmp_path):
    import pymupdf

    from docs import text_pdf

    pdf = text_pdf(tmp_path / "letter.pdf", pages=1)
    with pymupdf.open(pdf) as doc:
        pix = doc[0].get_pixmap(dpi=100, colorspace="gray")
    upright = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    upright.save(tmp_path / "upright.png", dpi=(100, 100))
    upright.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "turned.png", dpi=(100, 100))  # 90 clockwise
    answer = "<|object_ref_start|>Page 1 line 1<|object_ref_end|><|box_start|>(100,200),(500,260)<|box_end|>"
    srv = server(lambda n: with_logprobs(answer, None))
    records = {}
    for name in ("upright", "turned"):
        code, out, err = run_cli("ocr", "--boxes", tmp_path / f"{name}.png", "--base-url", srv.url)
        assert code == 0, err
        [records[name]] = valid(json.loads(out))["pages"]
    up, turned = records["upright"], records["turned"]
    assert up["orientation"] == 0 and turned["orientation"] == 270  # turned back 270 clockwise to stand upright
    assert (turned["width_pt"], turned["height_pt"]) == (up["height_pt"], up["width_pt"])
    assert turned["visual_tokens"] == up["visual_tokens"]
    x0, y0, x1, y1 = up["lines"][0]["box"]
    height = up["height_pt"]  # a point (x, y) of the upright page is at (height - y, x) on the turned one
    assert turned["lines"][0]["box"] == pytest.approx([height - y1, x0, height - y0, x1], abs=1.0)
    assert turned["lines"][0]["text"] == "Page 1 line 1"
    # --orientation off: the page goes as it is, and says nothing about its orientation.
    code, out, err = run_cli("ocr", tmp_path / "turned.png", "--base-url", srv.url, "--orientation", "off")
    assert code == 0 and "orientation" not in json.loads(out)["pages"][0], err


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_boxes_on_a_turned_image_map_back_to_the_displayed_page(angle):
    import numpy as np

    from docvl.orientation import turn
    from docvl.raster import PageImage

    shown = Image.new("L", (280, 196), 255)  # the page as displayed, 140 x 98 pt at 144 DPI
    ImageDraw.Draw(shown).rectangle((30, 50, 89, 69), fill=0)  # pixels 30..89 x 50..69
    image = turn(shown, angle)
    ys, xs = np.nonzero(np.asarray(image) < 128)
    on_image = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    page = PageImage("p.png", 1, image, 140.0, 98.0, 0, 144.0, 144.0, angle)
    assert page.display_px == (280, 196) and page.describe()["width_px"] == 280
    assert page.to_display(on_image) == [30, 50, 90, 70]
    assert page.px_to_pt(page.to_display(on_image)) == pytest.approx([15, 25, 45, 35])


def test_ocr_lines_record_their_own_confidence(run_cli, server, tmp_path):
    pieces = [("<|object_ref_start|>", -0.01), ("Total", -0.01), (" 12", -0.01), ("<|object_ref_end|>", -0.01),
              ("<|box_start|>(100,100),(400,150)<|box_end|>", -0.01), ("\n", -0.01),
              ("<|object_ref_start|>", -0.01), ("Thank", -2.0), (" you", -2.0), ("<|object_ref_end|>", -0.01),
              ("<|box_start|>(100,200),(400,250)<|box_end|>", -0.01)]
    answer = completion("".join(p for p, _ in pieces))
    answer["choices"][0]["logprobs"] = {"content": [{"token": p, "logprob": v} for p, v in pieces]}
    srv = server(lambda n: answer)
    code, out, err = run_cli("ocr", "--boxes", page(tmp_path / "p.png"), "--base-url", srv.url, *BUDGET,
                             "--orientation", "off")
    assert code == 0, err
    [record] = valid(json.loads(out))["pages"]
    first, second = record["lines"]
    assert (first["text"], second["text"]) == ("Total 12", "Thank you")
    assert first["confidence"] == {"mean": pytest.approx(math.exp(-0.01), rel=1e-5),
                                   "min": pytest.approx(math.exp(-0.01), rel=1e-5), "tokens": 2}
    assert second["confidence"]["mean"] == pytest.approx(math.exp(-2.0), rel=1e-5)
    assert record["confidence"]["tokens"] == len(pieces)


def _scripted(pieces: list[tuple[str, float]]) -> dict:
    answer = completion("".join(p for p, _ in pieces))
    answer["choices"][0]["logprobs"] = {"content": [{"token": p, "logprob": v} for p, v in pieces]}
    return answer


def test_table_cells_and_fields_record_their_own_confidence(run_cli, server, tmp_path):
    table = [("<table><tr><th>", -0.01), ("Item", -0.01), ("</th><th>", -0.01), ("Amount", -0.01),
             ("</th></tr><tr><td>", -0.01), ("Tea", -3.0), ("</td><td>", -0.01), ("4.50", -0.5),
             ("</td></tr></table>", -0.01)]
    fields = [('{"vendor": "', -0.01), ("AC", -0.2), ("ME", -0.4), ('", "total": "', -0.01), ("12.50", -1.0),
              ('"}', -0.01)]
    srv = server(lambda n: _scripted(table if n == 0 else fields))
    image = page(tmp_path / "p.png")
    code, out, err = run_cli("extract-tables", image, "--format", "json", "--base-url", srv.url, *BUDGET,
                             "--orientation", "off", "--concurrency", 1)
    assert code == 0, err
    [record] = valid(json.loads(out))["pages"]
    cells = record["tables"][0]["cell_confidence"]
    assert [[round(c["mean"], 4) for c in row] for row in cells] == [
        [round(math.exp(-0.01), 4)] * 2, [round(math.exp(-3.0), 4), round(math.exp(-0.5), 4)]]
    code, out, err = run_cli("extract", image, "--fields", "vendor,total,date", "--base-url", srv.url, *BUDGET,
                             "--orientation", "off", "--concurrency", 1)
    assert code == 0, err
    [record] = valid(json.loads(out))["pages"]
    conf = record["field_confidence"]
    assert conf["date"] is None and conf["total"]["mean"] == pytest.approx(math.exp(-1.0), rel=1e-5)
    assert conf["vendor"] == {"mean": pytest.approx((math.exp(-0.2) + math.exp(-0.4)) / 2, rel=1e-5),
                              "min": pytest.approx(math.exp(-0.4), rel=1e-5), "tokens": 2}
