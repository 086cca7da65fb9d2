"""The server engine: an OpenAI-compatible chat-completions client (vLLM, SGLang, `transformers serve`).

Each page goes to the server as a lossless PNG already sized by docvl inside its pixel budget (sides in
multiples of 28, pixels within min/max), so a server whose processor bounds contain docvl's budget
never resizes it again. Up to `concurrency` requests are in flight at once; connection errors,
timeouts, 408/429/5xx and malformed answers are retried with exponential backoff, and a page whose
request finally fails comes back as a Generation with `error` set, never as an exception.
Errors that would fail every page the same way (no server at the URL, a refused API key, an unknown
model or endpoint) stop the run as an EngineError. Stdlib HTTP and threads only: no torch here.
"""

from __future__ import annotations

import base64
import functools
import http.client
import io
import json
import queue
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from ..budget import visual_tokens
from ..config import Config
from ..errors import EngineError, UsageError, short_reason
from . import FAMILIES, Generation, Request, family_of

# Served model names -> docvl's family (most specific first); names say nothing of the config.
_NAME_FAMILIES = [
    (re.compile(r"qwen3[-_.]?vl"), "qwen3-vl"),
    (re.compile(r"qwen2[-_.]?5[-_.]?vl"), "qwen2.5-vl"),
    (re.compile(r"qwen2[-_.]?vl"), "qwen2-vl"),
]
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
FATAL_STATUS = {401, 403, 404}  # every page would fail the same way
MAX_DELAY = 30.0


def from_config(config: Config) -> "ServerEngine":
    return ServerEngine(ServerOptions(
        base_url=config.base_url, model=config.model, api_key=config.api_key, family=config.family,
        concurrency=config.concurrency, timeout=config.timeout, retries=config.retries,
        max_new_tokens=config.max_new_tokens))


@dataclass
class ServerOptions:
    base_url: str
    model: str
    api_key: str | None = None
    family: str | None = None  # None: from a local checkpoint's config, else from the served name
    concurrency: int = 4
    timeout: float = 300.0  # seconds per attempt, the whole answer included
    # Seconds to connect, at most `timeout`: a crashed node that drops packets costs each
    # request this, not the whole `timeout` (--timeout must allow for long answers).
    connect_timeout: float = 10.0
    retries: int = 4  # attempts after the first
    backoff: float = 0.5  # first retry's delay in seconds; doubles each retry, at most MAX_DELAY
    max_new_tokens: int = 1024


class Retryable(Exception):
    """A failure worth another try: the server may be restarting, overloaded or glitching."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status  # None: no HTTP answer at all
        self.retry_after = retry_after


class Rejected(Exception):
    """The server refused this page's request (4xx): trying again would not help."""


def normalize_base_url(url: str) -> str:
    """`http://host:8000` or `http://host:8000/v1/` -> `http://host:8000/v1` (the OpenAI base URL)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url {url}: use an http(s) URL such as http://127.0.0.1:8000/v1")
    path = parts.path.rstrip("/") or "/v1"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def family_from_name(name: str) -> str | None:
    lowered = name.lower()
    return next((family for pattern, family in _NAME_FAMILIES if pattern.search(lowered)), None)


def family_from_checkpoint(model: str) -> str | None:
    """The family in a local checkpoint's config.json (a server on this machine serving a folder)."""
    try:
        config = json.loads((Path(model) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    return family_of(model_type) if model_type in FAMILIES else None


def encode_png(image) -> str:
    buf = io.BytesIO()
    # PNG is lossless: the server decodes exactly the pixels docvl planned. Level 1 trades a few
    # percent of size for several times less client CPU.
    image.save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass
class Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str = "stop"  # "length": the answer hit max_tokens
    token_logprobs: list[float] | None = None  # None: the server gave none
    token_texts: list[str] | None = None


def parse_completion(raw: bytes) -> Completion:
    """A chat-completion answer; Retryable if malformed. Missing or odd usage, finish_reason and
    logprobs are left unknown, never an error."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise Retryable(f"malformed answer, not JSON ({raw[:60]!r})") from None
    try:
        text = data["choices"][0]["message"].get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise Retryable("malformed answer, no choices[0].message") from None
    if not isinstance(text, str):
        raise Retryable("malformed answer, message content is not text")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    counts = [usage.get(key) for key in ("prompt_tokens", "completion_tokens")]
    choice = data["choices"][0]
    finish = "length" if choice.get("finish_reason") == "length" else "stop"
    # A server that reports no usage leaves the counts null rather than a made-up zero.
    logprobs = choice_logprobs(choice)
    texts = None
    if logprobs is not None:
        texts = [t.get("token") for t in choice["logprobs"]["content"]]
        texts = texts if all(isinstance(t, str) for t in texts) else None
    return Completion(text, *(c if isinstance(c, int) else None for c in counts), finish, logprobs, texts)


def choice_logprobs(choice: dict) -> list[float] | None:
    """The chosen tokens' log-probabilities of an OpenAI-style choice (`logprobs.content[].logprob`,
    as vLLM and SGLang answer `logprobs: true`); None when absent or malformed."""
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list) or not content:
        return None
    values = [t.get("logprob") if isinstance(t, dict) else None for t in content]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 0.0 and v == v for v in values):
        return None
    return [float(max(v, -1e4)) for v in values]  # -inf (a token the server deemed impossible) stays finite


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:160] if lines else ""


def server_message(body: bytes) -> str:
    """The error message inside a server's error body (OpenAI, FastAPI and plain-text styles)."""
    try:
        data = json.loads(body)
    except ValueError:
        return _one_line(body.decode("utf-8", "replace"))
    for key in ("error", "detail", "message"):
        if isinstance(data, dict) and key in data:
            data = data[key]
    if isinstance(data, dict) and "message" in data:
        data = data["message"]
    return _one_line(str(data))


class ServerEngine:
    """Sends each page as one chat completion, up to `concurrency` at a time."""

    name = "server"

    def __init__(self, options: ServerOptions):
        if options.concurrency < 1:
            raise UsageError("--concurrency must be at least 1")
        self.options = options
        self.base_url = normalize_base_url(options.base_url)
        self.model_name = options.model
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if options.api_key:
            self._headers["Authorization"] = f"Bearer {options.api_key}"
        self._ask_logprobs = True  # until the server refuses them
        names = self._served_names()
        self.family = (options.family or family_from_checkpoint(options.model)
                       or next((f for f in map(family_from_name, names) if f), None))
        if self.family is None:
            self.family = "qwen2-vl"
            print(f"docvl: warning: cannot tell the model family of {options.model!r}; assuming qwen2-vl "
                  "(pass --family qwen2.5-vl or qwen3-vl if it is one of those)", file=sys.stderr)
        # prompt -> prompt_tokens minus the image's tokens, as the server counted it (see _check_size)
        self._text_tokens: dict[str, int] = {}
        self._warned_resize = False
        self._lock = threading.Lock()
        # Daemon workers: Ctrl-C or a fatal error never waits on a request still in flight.
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        for i in range(options.concurrency):
            threading.Thread(target=self._work, name=f"docvl-server-{i}", daemon=True).start()

    def _served_names(self) -> list[str]:
        """Check that a server answers and takes the key; the names it gives the model (id, root)."""
        try:
            listing = json.loads(self._send("GET", "/models", None, min(self.options.timeout, 30.0)))
        except Retryable as e:
            if e.status is None:
                raise EngineError(f"{self.base_url}: no server answers ({e.reason}); "
                                  "start it or check --base-url") from None
            listing = {}  # `transformers serve` answers 500 here when offline: a listing is optional
        except (Rejected, ValueError):
            listing = {}
        entries = listing.get("data") if isinstance(listing, dict) else None
        names = [self.model_name]
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("id") == self.model_name:
                names.append(str(entry.get("root") or ""))
        return names

    # -- requests ------------------------------------------------------------------------------

    def generate(self, requests: list[Request]) -> list[Generation]:
        futures = [self.submit(r) for r in requests]
        try:
            return [f.result() for f in futures]
        except BaseException:  # a fatal EngineError or Ctrl-C: drop what has not started
            for f in futures:
                f.cancel()
            raise

    def submit(self, request: Request) -> Future:
        """Queue one page for the next free worker. A page failure comes back inside the
        Generation (`error`); the Future raises only an EngineError that must stop the run."""
        future: Future = Future()
        self._queue.put((request, future))
        return future

    def _work(self) -> None:
        while True:
            request, future = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._complete(request))
            except BaseException as e:
                future.set_exception(e)

    def _body(self, request: Request, logprobs: bool = True) -> bytes:
        content = [{"type": "image_url", "image_url": {"url": encode_png(request.image)}},
                   {"type": "text", "text": request.prompt}]
        return json.dumps({
            "model": self.model_name,
            "messages": [{"role": "user", "content": content}],
            "max_tokens": self.options.max_new_tokens,
            "temperature": 0,  # greedy, as the local engine decodes
            # The chosen tokens' log-probabilities (page confidence); a server that ignores this answers
            # without them and the page's confidence is null.
            **({"logprobs": True} if logprobs else {}),
        }).encode("utf-8")

    def _complete(self, request: Request) -> Generation:
        start = time.perf_counter()
        # The server does not report visual tokens; the image is already sized, so docvl's count is it.
        tokens = visual_tokens(request.image.height, request.image.width)
        logprobs = self._ask_logprobs
        body = self._body(request, logprobs)
        attempts = self.options.retries + 1
        attempt = 0
        while attempt < attempts:
            try:
                c = parse_completion(self._send("POST", "/chat/completions", body, self.options.timeout))
                self._check_size(request.prompt, tokens, c.prompt_tokens)
                if self._ask_logprobs and not logprobs:
                    self._ask_logprobs = False  # refused with them, answered without: ask no more
                return Generation(c.text, c.prompt_tokens, c.completion_tokens, tokens, time.perf_counter() - start,
                                  finish_reason=c.finish_reason, token_logprobs=c.token_logprobs,
                                  token_texts=c.token_texts)
            except Retryable as e:
                reason = f"gave up after {attempts} tries: {e.reason}"
                attempt += 1
                if attempt < attempts:
                    time.sleep(self._delay(attempt - 1, e.retry_after))
            except Rejected as e:
                if logprobs and "logprob" in str(e).lower():
                    # A server that will not give log-probabilities: asked again without them (the page's
                    # confidence is null) rather than fail the page; not counted as a try.
                    logprobs = False
                    body = self._body(request, logprobs)
                    continue
                reason = f"the server rejected the request: {e}"
                break
        error = f"server {self.base_url}: {reason}"
        return Generation("", None, None, tokens, time.perf_counter() - start, error=error)

    def _check_size(self, prompt: str, tokens: int, prompt_tokens: int | None) -> None:
        """Warn once if the server resized pages. With the same prompt, prompt_tokens minus the
        image's tokens is the same for every page unless the server's processor changed an image's
        size (its pixel bounds do not contain docvl's budget); then boxes in pixels would be off."""
        if prompt_tokens is None:
            return
        with self._lock:
            text_tokens = self._text_tokens.setdefault(prompt, prompt_tokens - tokens)
            if (text_tokens == prompt_tokens - tokens and prompt_tokens > tokens) or self._warned_resize:
                return
            self._warned_resize = True
        print(f"docvl: warning: {self.base_url} resizes some page images (its prompt token counts do not "
              "match docvl's visual tokens); start it with pixel bounds that contain --min-pixels/--max-pixels "
              "(docs/servers.md)", file=sys.stderr)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_DELAY)
        # Jitter keeps many clients from retrying in step after a server restart.
        return min(self.options.backoff * 2 ** attempt * random.uniform(1.0, 1.5), MAX_DELAY)

    def _send(self, method: str, path: str, body: bytes | None, timeout: float) -> bytes:
        """One HTTP exchange within about `timeout` seconds, its failures sorted into Retryable,
        Rejected and (every page would fail alike) EngineError."""
        url = self.base_url + path
        req = urllib.request.Request(url, data=body, headers=self._headers, method=method)
        deadline = time.monotonic() + timeout
        # _HTTPHandler and _HTTPSHandler read it from the request.
        req.connect_timeout = min(self.options.connect_timeout, timeout)
        try:
            try:
                resp = _OPENER.open(req, timeout=timeout)
            except urllib.error.HTTPError as e:
                resp = e  # an answer all the same: its body says why
            with resp:
                raw = read_within(resp, deadline)
        except urllib.error.URLError as e:  # while connecting or sending the request
            if isinstance(e.reason, TimeoutError):
                raise Retryable(f"no connection within {req.connect_timeout:g} s") from None
            raise Retryable(network_reason(e.reason, timeout)) from None
        except (OSError, http.client.HTTPException) as e:  # resets, timeouts, cut-off answers
            raise Retryable(network_reason(e, timeout)) from None
        status = resp.status
        if status < 400:
            return raw
        detail = f"HTTP {status}" + (f": {m}" if (m := server_message(raw)) else "")
        if status in RETRY_STATUS:
            raise Retryable(detail, status, parse_retry_after(resp.headers.get("Retry-After")))
        if status in FATAL_STATUS:
            hint = ("pass --api-key or set DOCVL_API_KEY" if status in (401, 403)
                    else "check --base-url (it ends in /v1) and --model (the name the server serves)")
            raise EngineError(f"{url}: {detail}; {hint}")
        raise Rejected(detail)


class _ConnectFirst:
    """An HTTP(S) connection that connects within `connect_timeout`, then waits for the answer
    up to the request's whole timeout (urllib has one timeout for both)."""

    def __init__(self, *args, connect_timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.connect_timeout = connect_timeout

    def connect(self):
        answer_timeout = self.timeout
        self.timeout = self.connect_timeout
        try:
            super().connect()
        finally:
            self.timeout = answer_timeout
        self.sock.settimeout(answer_timeout)


class _HTTPConnection(_ConnectFirst, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_ConnectFirst, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def do_open(self, http_class, req, **kwargs):
        return super().do_open(functools.partial(_HTTPConnection, connect_timeout=req.connect_timeout), req, **kwargs)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def do_open(self, http_class, req, **kwargs):
        return super().do_open(functools.partial(_HTTPSConnection, connect_timeout=req.connect_timeout), req, **kwargs)


# Like urlopen's, with the connections above; proxies from the environment (http_proxy, no_proxy) apply.
_OPENER = urllib.request.build_opener(_HTTPHandler, _HTTPSHandler)


def read_within(resp, deadline: float) -> bytes:
    """The whole body; the socket timeout bounds each wait, the deadline a server that trickles."""
    chunks = []
    while chunk := resp.read1(1 << 16):  # read1: whatever has arrived, so the deadline is checked
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError()
    return b"".join(chunks)


def parse_retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: plain backoff instead


def network_reason(e, timeout: float) -> str:
    if isinstance(e, TimeoutError):
        return f"no complete answer within {timeout:g} s (--timeout)"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(e, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
        return "the server closed the connection"
    if isinstance(e, http.client.IncompleteRead):
        return "the server's answer was cut off"
    return short_reason(e) if isinstance(e, BaseException) else str(e)
