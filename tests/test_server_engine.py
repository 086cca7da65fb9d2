"""The server engine against a local HTTP server that injects faults: 500s, 429s, slowness, malformed
JSON, hang-ups, a dead port. Every failure ends as a per-page error within bounded time, never a hang
or a traceback; errors that would fail every page alike stop the run with exit code 4.
(tests/test_server_real.py runs the same engine against a real `transformers serve`.)"""

import json
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
from PIL import Image

from cliproc import HEAVY_PROBE
from docs import text_pdf
from docvl.engines import Request
from docvl.engines.server import ServerEngine, ServerOptions, family_from_name, normalize_base_url
from docvl.errors import EngineError, UsageError
from servers import TEXT_TOKENS, FaultServer, completion, free_port

PAGE = Image.new("RGB", (28 * 6, 28 * 4), "white")


@pytest.fixture
def fault_server():
    servers = []

    def start(script, **kwargs):
        servers.append(FaultServer(script, **kwargs))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def engine(url, **kwargs):
    options = dict(base_url=url, model="Qwen/Qwen2-VL-2B-Instruct", retries=2, backoff=0.01, timeout=2.0)
    return ServerEngine(ServerOptions(**{**options, **kwargs}))


def test_good_answer_gives_text_usage_and_docvls_visual_tokens(fault_server):
    server = fault_server(lambda n: completion(f"answer {n}", prompt_tokens=123, completion_tokens=4))
    [gen] = engine(server.url).generate([Request(PAGE, "Read it.")])
    assert (gen.text, gen.prompt_tokens, gen.completion_tokens, gen.error) == ("answer 0", 123, 4, None)
    assert gen.visual_tokens == 6 * 4  # the image is sent as sized: one token per 28x28 block


@pytest.mark.parametrize("action, fragment", [
    (("status", 500), "HTTP 500: injected 500"),
    (("status", 503), "HTTP 503"),
    (("raw", b"<html>not json"), "malformed answer, not JSON"),
    (("raw", b'{"choices": []}'), "malformed answer, no choices[0].message"),
    (("hangup",), "the server closed the connection"),
])
def test_faults_are_retried_then_one_page_error(fault_server, action, fragment):
    server = fault_server(lambda n: action)
    start = time.monotonic()
    [gen] = engine(server.url, retries=2).generate([Request(PAGE, "Read it.")])
    assert server.posts == 3  # the first try and two retries
    assert gen.error.startswith(f"server {server.url}: gave up after 3 tries: ") and fragment in gen.error
    assert "\n" not in gen.error
    assert gen.text == "" and gen.prompt_tokens is None
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("action", [("sleep", 3.0), ("trickle", 0.05)])
def test_slow_server_times_out_per_request(fault_server, action):
    server = fault_server(lambda n: action)
    start = time.monotonic()
    [gen] = engine(server.url, retries=1, timeout=0.4).generate([Request(PAGE, "Read it.")])
    elapsed = time.monotonic() - start
    assert gen.error == f"server {server.url}: gave up after 2 tries: no complete answer within 0.4 s (--timeout)"
    assert server.posts == 2
    assert elapsed < 2.0  # two bounded tries, not the server's 3 s sleep or 15 s trickle


@pytest.fixture
def blackhole():
    """A loopback port whose listen queue is full: the kernel drops further connection attempts,
    as for a crashed node that no longer answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fill = [socket.socket() for _ in range(4)]
    for s in fill:
        s.setblocking(False)
        s.connect_ex(server.getsockname())
    yield "http://%s:%d/v1" % server.getsockname()
    for s in [*fill, server]:
        s.close()


def test_a_server_that_stops_answering_costs_the_connect_timeout(fault_server, blackhole):
    e = engine(fault_server(lambda n: completion("x")).url, retries=1, timeout=60, connect_timeout=0.3)
    e.base_url = blackhole  # the node went away after the run started
    start = time.monotonic()
    [gen] = e.generate([Request(PAGE, "p")])
    assert gen.error == f"server {blackhole}: gave up after 2 tries: no connection within 0.3 s"
    assert time.monotonic() - start < 3  # not the 60 s answer timeout


def test_transient_errors_then_success(fault_server):
    script = [("status", 429, {"Retry-After": "0"}), ("status", 502), ("hangup",), completion("finally")]
    server = fault_server(lambda n: script[n])
    [gen] = engine(server.url, retries=3).generate([Request(PAGE, "Read it.")])
    assert gen.error is None and gen.text == "finally" and server.posts == 4


def test_backoff_doubles_with_jitter_and_is_capped(fault_server):
    e = engine(fault_server(lambda n: completion("x")).url, backoff=0.5)
    for attempt, low in [(0, 0.5), (1, 1.0), (2, 2.0), (5, 16.0)]:
        assert all(low <= e._delay(attempt, None) <= low * 1.5 for _ in range(50))
    assert e._delay(10, None) == 30.0 and e._delay(0, 2.5) == 2.5 and e._delay(0, 3600) == 30.0


def test_client_error_is_not_retried(fault_server):
    server = fault_server(lambda n: ("status", 400))
    [gen] = engine(server.url).generate([Request(PAGE, "Read it.")])
    assert server.posts == 1
    assert gen.error == f"server {server.url}: the server rejected the request: HTTP 400: injected 400"


def test_one_failing_page_leaves_the_others(fault_server):
    server = fault_server(lambda n: ("status", 500) if n == 1 else completion(f"page {n}"))
    gens = engine(server.url, retries=0, concurrency=1).generate([Request(PAGE, "p")] * 3)
    assert [g.error is None for g in gens] == [True, False, True]
    assert [g.text for g in gens] == ["page 0", "", "page 2"]


def test_concurrency_bounds_requests_in_flight(fault_server):
    in_flight = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def script(n):
        with lock:
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
        time.sleep(0.15)
        with lock:
            in_flight["now"] -= 1
        return completion(f"{n}")

    server = fault_server(script)
    start = time.monotonic()
    gens = engine(server.url, concurrency=3).generate([Request(PAGE, "p")] * 9)
    assert all(g.error is None for g in gens) and server.posts == 9
    assert in_flight["peak"] == 3
    assert time.monotonic() - start < 9 * 0.15  # overlapped, not one after another


def test_pages_resized_by_the_server_give_one_warning(fault_server, capsys):
    small, large = Image.new("RGB", (28 * 4, 28 * 4)), Image.new("RGB", (28 * 8, 28 * 8))
    consistent = fault_server(lambda n: completion("x"))  # counts every image as sent
    engine(consistent.url, concurrency=1).generate([Request(small, "p"), Request(large, "p"), Request(small, "q")])
    assert capsys.readouterr().err == ""
    # A server whose max_pixels is below docvl's shrinks the large page to 48 tokens instead of 64.
    shrinking = fault_server(lambda n: completion("x", prompt_tokens=[16, 48, 16, 48][n] + TEXT_TOKENS))
    gens = engine(shrinking.url, concurrency=1).generate([Request(small, "p"), Request(large, "p")] * 2)
    assert all(g.error is None for g in gens)
    [warning] = capsys.readouterr().err.splitlines()
    assert warning.startswith(f"docvl: warning: {shrinking.url} resizes some page images")


@pytest.mark.parametrize("status, fragment", [(401, "pass --api-key or set DOCVL_API_KEY"),
                                              (404, "check --base-url (it ends in /v1)")])
def test_errors_that_fail_every_page_stop_the_run(fault_server, status, fragment):
    server = fault_server(lambda n: ("status", status))
    with pytest.raises(EngineError, match=re.escape(fragment)):
        engine(server.url).generate([Request(PAGE, "p")])
    listing_refused = fault_server(lambda n: completion("x"), models_status=status)
    with pytest.raises(EngineError, match=re.escape(fragment)):
        engine(listing_refused.url)


def test_no_server_at_the_url_is_an_engine_error():
    with pytest.raises(EngineError, match=r"no server answers \(connection refused"):
        engine(f"http://127.0.0.1:{free_port()}/v1")


def test_api_key_is_sent_as_bearer(fault_server):
    server = fault_server(lambda n: completion("x"))
    engine(server.url, api_key="s3cret").generate([Request(PAGE, "p")])
    assert {h.get("Authorization") for h in server.headers} == {"Bearer s3cret"}


def test_family_from_served_names(fault_server, capsys):
    listing = {"data": [{"id": "ocr", "root": "/models/Qwen2.5-VL-72B-Instruct-AWQ"}, {"id": "other", "root": "x"}]}
    server = fault_server(lambda n: completion("x"), models=listing)
    assert engine(server.url, model="ocr").family == "qwen2.5-vl"
    assert engine(server.url, model="ocr", family="qwen3-vl").family == "qwen3-vl"
    assert engine(server.url, model="Qwen/Qwen3-VL-8B-Instruct").family == "qwen3-vl"
    assert capsys.readouterr().err == ""
    assert engine(server.url, model="other").family == "qwen2-vl"
    assert "cannot tell the model family of 'other'" in capsys.readouterr().err


def test_family_names_and_base_urls():
    assert [family_from_name(n) for n in ("Qwen/Qwen2-VL-7B-Instruct", "qwen2_5_vl", "Qwen2.5-VL-3B",
                                          "qwen3-vl-moe", "llava")] == [
        "qwen2-vl", "qwen2.5-vl", "qwen2.5-vl", "qwen3-vl", None]
    assert normalize_base_url("http://gpu1:8000") == "http://gpu1:8000/v1"
    assert normalize_base_url("https://h/openai/v1/") == "https://h/openai/v1"
    with pytest.raises(UsageError):
        normalize_base_url("gpu1:8000")


# -- through the CLI --------------------------------------------------------------------------------

def test_cli_partial_failure_is_per_page_and_exit_1(run_cli, fault_server, tmp_path):
    server = fault_server(lambda n: ("status", 500) if n >= 2 else completion(f"text {n}", completion_tokens=3))
    pdf = text_pdf(tmp_path / "doc.pdf", pages=3)
    code, out, err = run_cli("ocr", "--text-layer", "off", pdf, "--base-url", server.url, "--concurrency", 1, "--retries", 1,
                             "--min-pixels", 50_176, "--max-pixels", 100_352)
    assert code == 1
    doc = json.loads(out)
    assert doc["engine"] == {"name": "server", "model": "Qwen/Qwen2-VL-2B-Instruct", "family": "qwen2-vl"}
    assert doc["status"] == "partial" and [p["status"] for p in doc["pages"]] == ["ok", "ok", "failed"]
    assert [p.get("text") for p in doc["pages"][:2]] == ["text 0", "text 1"]
    page = doc["pages"][0]
    assert page["prompt_tokens"] == page["visual_tokens"] + TEXT_TOKENS and page["completion_tokens"] == 3
    assert doc["pages"][2]["error"] == f"server {server.url}: gave up after 2 tries: HTTP 500: injected 500"
    assert err.strip().splitlines() == [f"docvl: {pdf}: 1 of 3 pages failed; first: server {server.url}: "
                                        "gave up after 2 tries: HTTP 500: injected 500"]


@pytest.mark.parametrize("args, code, fragment", [
    (["--engine", "server"], 2, "--engine server needs --base-url"),
    (["--engine", "local", "--base-url", "http://x/v1"], 2, "--base-url is for --engine server"),
    (["--base-url", "ftp://x"], 2, "use an http(s) URL"),
    (["--base-url", "http://x/v1", "--family", "llava"], 2, "--family llava"),
    (["--base-url", "http://127.0.0.1:{port}/v1"], 4, "no server answers"),
])
def test_cli_usage_and_engine_errors(run_cli, tmp_path, args, code, fragment):
    pdf = text_pdf(tmp_path / "doc.pdf", pages=1)
    args = [a.replace("{port}", str(free_port())) for a in args]
    got, out, err = run_cli("ocr", "--text-layer", "off", pdf, *args)
    assert got == code and out == ""
    assert fragment in err and len(err.strip().splitlines()) == 1 and err.startswith("docvl: error: ")


def test_api_key_from_environment(run_cli, fault_server, tmp_path, monkeypatch):
    server = fault_server(lambda n: completion("x"))
    pdf = text_pdf(tmp_path / "doc.pdf", pages=1)
    monkeypatch.delenv("DOCVL_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai")
    assert run_cli("ocr", "--text-layer", "off", pdf, "--base-url", server.url)[0] == 0
    monkeypatch.setenv("DOCVL_API_KEY", "from-docvl")
    assert run_cli("ocr", "--text-layer", "off", pdf, "--base-url", server.url)[0] == 0
    assert run_cli("ocr", "--text-layer", "off", pdf, "--base-url", server.url, "--api-key", "from-option")[0] == 0
    keys = [h.get("Authorization") for h in server.headers]
    assert keys == ["Bearer from-openai"] * 2 + ["Bearer from-docvl"] * 2 + ["Bearer from-option"] * 2




def test_server_engine_does_not_import_torch(fault_server, tmp_path):
    server = fault_server(lambda n: completion("hello"))
    pdf = text_pdf(tmp_path / "doc.pdf", pages=2)
    proc = subprocess.run([sys.executable, "-c", HEAVY_PROBE, "ocr", "--text-layer", "off", str(pdf),
                           "--base-url", server.url, "--format", "text"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello\f\nhello\n"
    assert "HEAVY []" in proc.stderr
