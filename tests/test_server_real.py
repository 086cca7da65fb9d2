"""The server engine against a real `transformers serve` on loopback serving the tiny Qwen2-VL.

The server's answers must equal the local engine's for the same pages (same prompt tokens: the server
did not resize the page; same greedy text), requests must really overlap with --concurrency, and a
server killed mid-run must end in per-page errors, not a hang."""

import base64
import io
import json
import threading
import time

import pytest
from PIL import Image

from docs import scan_pdf, text_pdf
from docvl.budget import Budget
from docvl.raster import render_page
from docvl.sources import open_document
from servers import RecordingProxy, TransformersServe

MIN, MAX = 64 * 784, 256 * 784  # small pages keep the tiny model fast on CPU
BUDGET = ("--min-pixels", MIN, "--max-pixels", MAX)


@pytest.fixture(scope="module")
def served(tiny_model, tmp_path_factory):
    server = TransformersServe(tiny_model, tmp_path_factory.mktemp("serve") / "serve.log")
    yield server
    server.stop()


@pytest.fixture
def proxy():
    proxies = []

    def start(upstream, delay=0.0):
        proxies.append(RecordingProxy(upstream, delay))
        return proxies[-1]

    yield start
    for p in proxies:
        p.close()


def sent_images(bodies: list[dict]) -> list[Image.Image]:
    images = []
    for body in bodies:
        [part] = [c for c in body["messages"][0]["content"] if c["type"] == "image_url"]
        header, data = part["image_url"]["url"].split(",", 1)
        assert header == "data:image/png;base64"
        images.append(Image.open(io.BytesIO(base64.b64decode(data))))
    return images


def test_ocr_through_transformers_serve_equals_the_local_engine(run_cli, served, proxy, tiny_model, tmp_path):
    files = [text_pdf(tmp_path / "text.pdf", pages=2), scan_pdf(tmp_path / "scan.pdf", dpi=150)]
    recorder = proxy(served.url)
    common = ("--model", tiny_model, *BUDGET, "--max-new-tokens", 6, "--lang", "de")
    code, out, err = run_cli("ocr", "--text-layer", "off", *files, "--engine", "server", "--base-url", recorder.url, *common)
    assert code == 0, err + served.log_text()[-2000:]
    assert err == ""  # no warning: the server kept every page's size
    remote = json.loads(out)
    code, out, err = run_cli("ocr", "--text-layer", "off", *files, *common)
    assert code == 0, err
    local = json.loads(out)

    assert [d["engine"] for d in remote] == [{"name": "server", "model": str(tiny_model), "family": "qwen2-vl"}] * 2
    for r, l in zip(remote, local):
        assert r["status"] == "ok" and r["options"] == l["options"]
        for rp, lp in zip(r["pages"], l["pages"], strict=True):
            assert rp["status"] == "ok" and isinstance(rp["text"], str)
            # Equal prompt tokens: the server's processor kept docvl's image size (no second resize).
            keys = ("page", "width_px", "height_px", "visual_tokens", "prompt_tokens", "completion_tokens", "text")
            assert {k: rp[k] for k in keys} == {k: lp[k] for k in keys}
            assert 1 <= rp["completion_tokens"] <= 6
            # Confidence from the server's log-probabilities, or null where it gives none: never a failure.
            assert rp["confidence"] is None or rp["confidence"]["mean"] == pytest.approx(lp["confidence"]["mean"], rel=0.05)
            assert lp["confidence"] is not None

    # On the wire: exactly the pixels docvl rendered, losslessly, and the prompt with its language.
    rendered = []
    for f in files:
        doc = open_document(str(f))
        rendered += [render_page(doc, n, Budget(MIN, MAX)).image for n in range(1, doc.page_count + 1)]
    assert sorted(im.tobytes() for im in sent_images(recorder.bodies)) == sorted(im.tobytes() for im in rendered)
    prompts = [c["text"] for b in recorder.bodies for c in b["messages"][0]["content"] if c["type"] == "text"]
    assert len(prompts) == 3 and all("German" in p for p in prompts)
    assert all(b["max_tokens"] == 6 and b["temperature"] == 0 and b["logprobs"] is True for b in recorder.bodies)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_concurrency_puts_requests_in_flight_together(run_cli, served, proxy, tiny_model, tmp_path, concurrency):
    pdf = text_pdf(tmp_path / "eight.pdf", pages=8)
    # The proxy holds each request 0.2 s, as a busy GPU would: overlap shows in its own records.
    recorder = proxy(served.url, delay=0.2)
    code, out, err = run_cli("ocr", "--text-layer", "off", pdf, "--base-url", recorder.url, "--model", tiny_model, *BUDGET,
                             "--max-new-tokens", 2, "--concurrency", concurrency)
    assert code == 0, err
    assert [p["status"] for p in json.loads(out)["pages"]] == ["ok"] * 8
    assert len(recorder.bodies) == 8
    assert recorder.max_in_flight() == concurrency


def test_server_killed_mid_run_gives_per_page_errors_and_a_rerun_finishes(run_cli, served, tiny_model, tmp_path):
    server = TransformersServe(tiny_model, tmp_path / "serve.log")

    def kill_mid_run():
        # With two requests in flight at most, a third arrives only after docvl has read an answer.
        deadline = time.monotonic() + 120
        while server.log_text().count("[Request received]") < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()

    killer = threading.Thread(target=kill_mid_run, daemon=True)
    pdf, out_dir = text_pdf(tmp_path / "six.pdf", pages=6), tmp_path / "out"
    args = ("ocr", "--text-layer", "off", pdf, "--out-dir", out_dir, "--model", tiny_model, *BUDGET,
            "--max-new-tokens", 2, "--concurrency", 2, "--retries", 2, "--timeout", 20)
    try:
        killer.start()
        start = time.monotonic()
        code, _, err = run_cli(*args, "--base-url", server.url)
        elapsed = time.monotonic() - start
    finally:
        server.kill()
    [written] = out_dir.rglob("six.pdf.json")  # its absolute path mirrored under out/
    doc = json.loads(written.read_text())
    statuses = [p["status"] for p in doc["pages"]]
    assert code == 1 and doc["status"] == "partial", (statuses, err)
    assert "ok" in statuses and "failed" in statuses
    for page in doc["pages"]:
        if page["status"] == "failed":
            assert page["error"].startswith(f"server {server.url}: gave up after 3 tries: ")
            assert ("connection refused" in page["error"] or "closed the connection" in page["error"])
    line = err.strip().splitlines()[0]
    assert line.startswith(f"docvl: {pdf}: {statuses.count('failed')} of 6 pages failed; first: server ")
    assert elapsed < 60

    # Rerun against a server that answers: only the failed pages are sent, the document becomes ok.
    code, _, err = run_cli(*args, "--base-url", served.url)
    assert code == 0, err
    summary = json.loads((out_dir / "docvl-summary.json").read_text())
    assert summary["pages"]["inferred"] == statuses.count("failed")
    assert summary["pages"]["resumed"] == statuses.count("ok")
    doc = json.loads(written.read_text())
    assert doc["status"] == "ok" and [p["page"] for p in doc["pages"]] == [1, 2, 3, 4, 5, 6]


def test_tables_grounding_and_fields_through_transformers_serve(run_cli, served, tiny_model, tmp_path):
    # The tiny model's answers are gibberish: what must hold is the path through the server (every page
    # answered by it, token usage recorded) and documents valid against docvl's schema.
    from test_cli_tables import valid

    pdf = scan_pdf(tmp_path / "scan.pdf", dpi=150, pages=2)
    common = ("--base-url", served.url, "--model", tiny_model, *BUDGET, "--max-new-tokens", 8)
    for args in (["extract-tables", pdf, "--format", "json"], ["ground", pdf, "the total", "--all"],
                 ["extract", pdf, "--fields", "invoice_number,total"]):
        code, out, err = run_cli(*args, *common)
        assert code == 0, err
        document = valid(json.loads(out))
        assert document["engine"]["name"] == "server" and document["status"] == "ok"
        assert [p["source"] for p in document["pages"]] == ["model", "model"]
        assert all(p["completion_tokens"] >= 1 and p["prompt_tokens"] > p["visual_tokens"] for p in document["pages"])
