"""Servers for the server engine's tests, all on loopback: a real `transformers serve` subprocess, a
recording proxy in front of it, and a stdlib HTTP server that injects faults (500s, slowness,
malformed JSON, refusals) where the real server would not."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TransformersServe:
    """`transformers serve CHECKPOINT` on 127.0.0.1 (CPU, offline), its log in a file."""

    def __init__(self, checkpoint: Path, log: Path):
        self.checkpoint = str(checkpoint)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1",
               "HF_HOME": str(log.parent / "hf-home"), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "transformers.cli.transformers", "serve", self.checkpoint,
                 "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu", "--dtype", "float32"],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._wait_ready(timeout=240)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited ({self.proc.returncode}):\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"transformers serve did not start in {timeout} s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM killer would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (timeouts) are part of the tests


class _Server:
    def __init__(self, handler_class):
        self.httpd = _Quiet(("127.0.0.1", 0), handler_class)
        self.httpd.owner = self
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RecordingProxy(_Server):
    """Forwards every request to `upstream` after `delay` seconds and records when each was in
    flight here (arrival to answer), with its body: what the server side saw of docvl."""

    def __init__(self, upstream: str, delay: float = 0.0):
        self.upstream = upstream.rstrip("/")
        self.delay = delay
        self.lock = threading.Lock()
        self.spans: list[tuple[float, float]] = []
        self.bodies: list[dict] = []
        super().__init__(_ProxyHandler)

    def max_in_flight(self) -> int:
        events = sorted([(s, 1) for s, _ in self.spans] + [(e, -1) for _, e in self.spans],
                        key=lambda ev: (ev[0], ev[1]))  # an end before a start at the same instant
        level = peak = 0
        for _, step in events:
            level += step
            peak = max(peak, level)
        return peak


class _ProxyHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _forward(self, body: bytes | None) -> None:
        proxy: RecordingProxy = self.server.owner
        start = time.monotonic()
        time.sleep(proxy.delay)
        path = self.path[len("/v1"):] if self.path.startswith("/v1") else self.path
        req = urllib.request.Request(proxy.upstream + path, data=body, method=self.command,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        with proxy.lock:
            proxy.spans.append((start, time.monotonic()))
            if body:
                proxy.bodies.append(json.loads(body))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self._forward(None)

    def do_POST(self):
        self._forward(self.rfile.read(int(self.headers["Content-Length"])))


TEXT_TOKENS = 40  # what FaultServer counts for the chat template and prompt besides the image


def completion(text: str, prompt_tokens: int | None = None, completion_tokens: int = 7) -> dict:
    """A chat completion; prompt_tokens None: FaultServer counts the image as a real server does,
    one token per 28x28 pixels, plus TEXT_TOKENS."""
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}}


def image_tokens(body: dict) -> int:
    """Visual tokens of the PNG in a chat request: its width and height from the IHDR chunk."""
    [part] = [c for c in body["messages"][0]["content"] if c["type"] == "image_url"]
    png = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
    width, height = struct.unpack(">II", png[16:24])
    return width * height // (28 * 28)


class FaultServer(_Server):
    """Answers chat completions as `script(n)` says for the n-th one (0-based): a dict is a good
    answer; ("status", code[, headers[, message]]) an HTTP error; ("sleep", s) answers after s seconds;
    ("trickle", s) sends headers, then a byte every s seconds; ("raw", bytes) a 200 with that body;
    ("hangup",) closes the connection without a word. /v1/models answers `models` (or `models_status`)."""

    def __init__(self, script, models: dict | None = None, models_status: int = 200):
        self.script = script
        self.models = models if models is not None else {"object": "list", "data": []}
        self.models_status = models_status
        self.lock = threading.Lock()
        self.posts = 0
        self.headers: list[dict] = []
        super().__init__(_FaultHandler)


class _FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        server: FaultServer = self.server.owner
        with server.lock:
            server.headers.append(dict(self.headers))
        self._send(server.models_status, json.dumps(server.models).encode())

    def do_POST(self):
        server: FaultServer = self.server.owner
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with server.lock:
            n = server.posts
            server.posts += 1
            server.headers.append(dict(self.headers))
        action = server.script(n)

        def answer(result: dict) -> bytes:
            usage = dict(result["usage"])
            if usage["prompt_tokens"] is None:
                usage["prompt_tokens"] = image_tokens(body) + TEXT_TOKENS
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            return json.dumps({**result, "usage": usage}).encode()

        if isinstance(action, dict):
            return self._send(200, answer(action))
        kind, *args = action
        if kind == "status":
            message = args[2] if len(args) > 2 else f"injected {args[0]}"
            error = json.dumps({"error": {"message": message, "code": args[0]}}).encode()
            return self._send(args[0], error, args[1] if len(args) > 1 else None)
        if kind == "sleep":
            time.sleep(args[0])
            return self._send(200, answer(completion("late")))
        if kind == "trickle":
            payload = answer(completion("slow"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            for byte in payload:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(args[0])
            return
        if kind == "raw":
            return self._send(200, args[0])
        if kind == "hangup":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        raise ValueError(kind)
