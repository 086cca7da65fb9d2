"""The runner: documents -> pages -> batches -> engine -> parsed, page-anchored records.

Streaming: inputs are listed lazily (a thread reads them, so a slow `find | docvl ocr -` never stalls the
model); raster worker processes open documents and render pages ahead of the model; pages from several
documents wait in a bounded pool, from which batches of similar visual-token counts are formed under
--batch-size and --max-batch-tokens; the model runs in a thread of its own, so rendering goes on while
it generates. Memory is bounded by the number of documents and rendered pages in flight, never by the
size of a document.

Failures stay where they happen: a file that cannot be opened becomes a failed document record, a
page that cannot be rendered, times out or cannot be parsed a failed page record; the rest of the run
goes on. On CUDA out-of-memory a batch is split in halves, and a single page is retried at a quarter of
its pixels (twice at most) and marked so.

With an --out-dir (batch.OutDir) every finished page is journaled as it finishes and every finished
document written as it finishes, so an interrupted run loses nothing that finished.
"""

from __future__ import annotations

import itertools
import math
import os
import queue
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from PIL import Image

from . import SCHEMA
from .batch import OutDir, in_shard, resume_key
from .budget import Budget, smart_resize
from .engines import Request
from .errors import DocvlError, EngineOutOfMemory, UsageError, short_reason
from .inputs import Input, output_rel
from .raster import PageImage
from .rasterpool import Job, RasterPool, Source
from .sources import parse_pages, select_pages
from .tasks import Task

POLL_SECONDS = 0.02  # how often an idle scheduler looks for work
# While a batch runs, the scheduler sleeps until a worker replies or the batch ends (its pipe is
# written): waking on a timer would take the GIL from the model thread, whose kernel launches need it.
BATCH_WAIT_SECONDS = 1.0
OOM_SHRINK = 4  # an out-of-memory page is retried at 1/4 of its pixels (half each side) ...
OOM_RETRIES = 2  # ... at most this many times


@dataclass
class RunOptions:
    budget: Budget = field(default_factory=Budget)
    pages: str | None = None
    password: str | None = None
    batch_size: int = 4
    max_batch_tokens: int | None = None  # bound on a batch's padded visual tokens (pages x largest page)
    workers: int | None = None  # raster processes; None: by CPU count
    page_timeout: float | None = None  # seconds a page may take to render (generation: the engine's max_time)
    shard: tuple[int, int] | None = None
    show_stderr: bool = False  # let MuPDF's warnings through (--verbose)


@dataclass
class Done:
    """A document the runner has finished with, in input order."""

    item: Input
    record: dict
    skipped: bool = False  # an earlier run finished it, every page ok (record: its status only)


@dataclass
class _Doc:
    seq: int
    item: Input
    record: dict
    started: float = field(default_factory=time.perf_counter)
    key: str | None = None
    opening: bool = False
    opened: bool = False
    todo: deque = field(default_factory=deque)  # page numbers not yet sent to a raster worker
    pages: dict = field(default_factory=dict)  # page number -> finished page record
    in_flight: int = 0  # pages rendering, waiting for the model or in the model
    engine: dict | None = None  # the engine an earlier run made its resumed pages with
    done: bool = False
    skipped: bool = False


class _Batch:
    """One batch for the model thread. `records` or `error` once `done` is set."""

    def __init__(self, pages: list[tuple[int, PageImage]]):
        self.pages = pages
        self.records: list[dict] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.done_r, self._done_w = os.pipe()

    def run(self, runner: "Runner") -> None:
        try:
            self.records = runner.infer([p for _, p in self.pages])
        except BaseException as e:  # handed to the scheduler thread, which raises it
            self.error = e
        finally:
            os.write(self._done_w, b"x")  # before done: once done, the scheduler may close the pipe
            self.done.set()

    def close(self) -> None:
        os.close(self.done_r)
        os.close(self._done_w)


class _ModelThread:
    """The one thread that loads the model and runs every batch of a runner. One thread for all: torch
    keeps per-thread state that a thread per batch would rebuild every time (CUDA graph trees of
    --compile are recorded per thread; OpenMP starts a worker pool per thread)."""

    def __init__(self, runner: "Runner"):
        self._batches: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._serve, args=(runner,), name="docvl-model", daemon=True)
        self.thread.start()

    def _serve(self, runner: "Runner") -> None:
        while (batch := self._batches.get()) is not None:
            batch.run(runner)

    def submit(self, batch: _Batch) -> None:
        self._batches.put(batch)

    def stop(self) -> None:
        self._batches.put(None)
        self.thread.join()


class Runner:
    def __init__(self, task: Task, engine_factory: Callable[[], object], options: RunOptions,
                 out_dir: OutDir | None = None, render: Callable[[dict], str] | None = None,
                 result_settings: dict | None = None, on_pages: Callable[[int], None] | None = None):
        """`render` turns a document record into its --out-dir file; `result_settings` are the
        engine settings that change results (they go into the resume key); `on_pages(n)` is told
        as pages finish (progress bars)."""
        self.task = task
        self.options = options
        self.out_dir = out_dir
        self.render = render
        self.result_settings = result_settings or {}
        self.on_pages = on_pages
        check_pages(options.pages)
        self._engine_factory = engine_factory
        self._engine = None
        self._engine_lock = threading.Lock()
        self._pool: RasterPool | None = None
        self._model: _ModelThread | None = None
        self._batch: _Batch | None = None  # the batch on the model thread
        cpus = os.cpu_count() or 1
        self.workers = options.workers or max(1, min(4, cpus - 1))
        # Rendered pages waiting for the model: enough to choose batches of similar size from.
        self.prefetch = 2 * options.batch_size + self.workers
        self.max_docs = max(8, 2 * options.batch_size + self.workers)
        # Document ids, unique over every run() of this runner: workers keep documents open by id.
        self._seqs = itertools.count()
        self.stats = {"pages_inferred": 0, "pages_resumed": 0, "pages_answered": 0, "raster_seconds": 0.0,
                      "model_seconds": 0.0, "oom_splits": 0, "oom_smaller_pages": 0}

    # -- the engine (loaded on the first batch that needs it, once per process) --------------------

    @property
    def engine(self):
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._engine_factory()
            return self._engine

    def engine_info(self) -> dict:
        e = self._engine
        if e is None:
            return {"name": None, "model": None, "family": None}
        return {"name": e.name, "model": e.model_name, "family": e.family}

    def options_info(self) -> dict:
        b = self.options.budget
        return {"min_pixels": b.min_pixels, "max_pixels": b.max_pixels, "pages": self.options.pages,
                **self.task.options}

    # -- running ----------------------------------------------------------------------------------

    def run_document(self, path: str) -> dict:
        """One file, start to end (the library's simplest entry point)."""
        for done in self.run([Input(path, output_rel(path))]):
            return done.record
        raise AssertionError("the runner finished no document")

    def run(self, inputs: Iterable[Input]) -> Iterator[Done]:
        """Documents in input order, each as soon as it and those before it are finished. Closing
        the generator (Ctrl-C) waits for the batch in the model, journals it, and stops."""
        if self._pool is None:
            self._pool = RasterPool(self.workers, self.options.budget, self.task.answer_page,
                                    self.options.page_timeout, self.options.show_stderr)
        feed = _Feeder(inputs, self.options.shard)
        docs: dict[int, _Doc] = {}
        ready: list[tuple[int, PageImage]] = []  # rendered pages waiting for the model
        try:
            while True:
                while len(docs) < self.max_docs and (item := feed.next()) is not None:
                    seq = next(self._seqs)
                    docs[seq] = self._admit(seq, item)
                self._submit(docs, ready)
                if self._batch is not None and self._batch.done.is_set():
                    self._finish_batch(docs)
                if self._batch is None and ready and (len(ready) >= self.options.batch_size or self._pool.busy == 0):
                    self._start_batch(self._take_batch(ready))
                while docs and docs[min(docs)].done:
                    d = docs.pop(min(docs))
                    yield Done(d.item, d.record, d.skipped)
                if not docs and self._batch is None and feed.exhausted:
                    return
                running = self._batch is not None and not self._batch.done.is_set()
                wake = [self._batch.done_r] if running else []
                for job, reply in self._pool.poll(BATCH_WAIT_SECONDS if running else POLL_SECONDS, wake):
                    self._on_reply(docs[job.doc], job, reply, ready)
        finally:
            if self._batch is not None:
                # Ctrl-C: what is in the model finishes and is journaled. (Exiting with the model
                # running on its thread would also abort the process inside torch.)
                self._batch.done.wait()
                if self._batch.error is None:
                    self._finish_batch(docs)
                else:
                    self._batch.close()
                    self._batch = None

    def close(self) -> None:
        if self._model is not None:
            self._model.stop()
            self._model = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # -- documents --------------------------------------------------------------------------------

    def _admit(self, seq: int, item: Input) -> _Doc:
        doc = _Doc(seq, item, {"schema": SCHEMA, "task": self.task.name, "source": {"path": item.path}})
        problem = item.problem or (self.out_dir.claim(item) if self.out_dir else None)
        if problem:
            self._fail(doc, problem)
        return doc

    def _fail(self, doc: _Doc, message: str) -> None:
        doc.record.update(status="failed", error=message, pages=[])
        doc.done = True

    def _opened(self, doc: _Doc, kind: str, page_count: int, sha256: str) -> None:
        doc.opened = True
        doc.record["source"].update(kind=kind, sha256=sha256, page_count=page_count)
        numbers = select_pages(doc.item.path, self.options.pages, page_count)
        if self.out_dir is not None:
            doc.key = resume_key(sha256, {"task": self.task.name, **self.options_info(), **self.result_settings})
            if self.out_dir.finished(doc.item, doc.key):
                doc.record.update(status="ok")
                doc.skipped = doc.done = True
                return
            resumed, doc.engine = self.out_dir.resumed_pages(doc.key)
            doc.pages = {n: resumed[n] for n in numbers if n in resumed}
            self.stats["pages_resumed"] += len(doc.pages)
        doc.todo = deque(n for n in numbers if n not in doc.pages)
        self._maybe_complete(doc)

    def _page_done(self, doc: _Doc, record: dict) -> None:
        doc.pages[record["page"]] = record
        doc.in_flight -= 1
        if self.out_dir is not None:
            self.out_dir.page_done(doc.key, record, self.engine_info())
        if self.on_pages:
            self.on_pages(1)
        self._maybe_complete(doc)

    def _maybe_complete(self, doc: _Doc) -> None:
        if doc.todo or doc.in_flight:
            return
        pages = [doc.pages[n] for n in sorted(doc.pages)]
        engine = self.engine_info()
        if engine["name"] is None and doc.engine:
            engine = doc.engine  # every page came from an earlier run's journal
        record = doc.record
        record["engine"] = engine
        record["options"] = self.options_info()
        record["pages"] = pages
        if self.task.summarize:
            record.update(self.task.summarize(pages))
        failed = sum(p["status"] != "ok" for p in pages)
        record["status"] = "ok" if failed == 0 else ("failed" if failed == len(pages) else "partial")
        if failed:
            # The first failed page's reason usually says what to do.
            path = record["source"]["path"]
            first = next(p["error"] for p in pages if p["status"] != "ok").removeprefix(f"{path}: ")
            record["error"] = f"{path}: {failed} of {len(pages)} pages failed; first: {first}"
        else:
            record["error"] = None
        record["seconds"] = round(time.perf_counter() - doc.started, 3)
        doc.done = True
        if self.out_dir is not None and record["status"] != "failed":
            try:
                self.out_dir.write(doc.item, doc.key, record, self.render(record))
            except DocvlError as e:
                self._fail(doc, e.message)

    # -- raster workers ---------------------------------------------------------------------------

    def _source(self, doc: _Doc) -> Source:
        return Source(doc.item.path, doc.item.location, self.options.password)

    def _submit(self, docs: dict[int, _Doc], ready: list) -> None:
        """Keep idle workers busy: open documents in input order, then render their pages, as long
        as the pages waiting for the model stay under the prefetch bound."""
        idle = self._pool.idle()
        for doc in docs.values():
            if not idle:
                return
            if doc.done:
                continue
            if not doc.opened:
                if not doc.opening:
                    doc.opening = True
                    self._pool.submit(idle.pop(), Job("open", doc.seq, self._source(doc)))
                continue
            while doc.todo and idle and len(ready) + self._pool.busy < self.prefetch:
                doc.in_flight += 1
                self._pool.submit(idle.pop(), Job("page", doc.seq, self._source(doc), doc.todo.popleft()))

    def _on_reply(self, doc: _Doc, job: Job, reply: tuple, ready: list) -> None:
        kind = reply[0]
        if job.kind == "open":
            doc.opening = False
            if kind == "opened":
                try:
                    self._opened(doc, *reply[1:])
                except DocvlError as e:
                    self._fail(doc, e.message)
            else:
                self._fail(doc, reply[1])
            return
        if kind == "page":
            self.stats["raster_seconds"] += reply[2]
            ready.append((doc.seq, reply[1]))
        elif kind == "answered":
            self.stats["pages_answered"] += 1
            self._page_done(doc, {"page": job.page, "status": "ok", "error": None, **reply[1],
                                  "prompt_tokens": 0, "completion_tokens": 0, "seconds": round(reply[2], 3)})
        else:
            self._page_done(doc, failed_page(job.page, reply[1]))

    # -- batches ----------------------------------------------------------------------------------

    def _take_batch(self, ready: list[tuple[int, PageImage]]) -> list[tuple[int, PageImage]]:
        """The oldest waiting page (no page waits forever) and the waiting pages nearest to it in
        visual tokens (little padding), within --batch-size and --max-batch-tokens."""
        first = ready.pop(0)
        tokens = first[1].visual_tokens
        ready.sort(key=lambda r: abs(r[1].visual_tokens - tokens))
        chosen = [first]
        bound = self.options.max_batch_tokens
        while ready and len(chosen) < self.options.batch_size:
            largest = max(tokens, ready[0][1].visual_tokens)
            if bound and largest * (len(chosen) + 1) > bound:
                break
            tokens = largest
            chosen.append(ready.pop(0))
        ready.sort(key=lambda r: (r[0], r[1].page))  # back to arrival order, roughly: documents, pages
        return chosen

    def _start_batch(self, pages: list[tuple[int, PageImage]]) -> None:
        # Ctrl-C is held back until self._batch holds the submitted batch, so that it is waited for (and
        # the model thread, started here, never takes the signal itself).
        blocked = hasattr(signal, "pthread_sigmask")
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if blocked else None
        try:
            if self._model is None:
                self._model = _ModelThread(self)
            self._batch = _Batch(pages)
            self._model.submit(self._batch)
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _finish_batch(self, docs: dict[int, _Doc]) -> None:
        batch = self._batch
        if batch.error is not None:
            self._batch = None
            batch.close()
            raise batch.error
        while batch.records:  # popped one by one: a Ctrl-C in between never journals a page twice
            (seq, _), record = batch.pages.pop(0), batch.records.pop(0)
            self._page_done(docs[seq], record)
        self._batch = None
        batch.close()

    # -- the model (runs on the model thread) -----------------------------------------------------

    def infer(self, pages: list[PageImage]) -> list[dict]:
        """Page records for a batch. Out of memory: split the batch, then shrink the page. Any other
        failure of a batch is isolated to its pages the same way; engine errors (the model cannot be
        loaded or run at all) end the run."""
        try:
            engine = self.engine
        except DocvlError as e:  # say which page wanted it: the others may need no model at all
            raise type(e)(f"{pages[0].source}: page {pages[0].page} needs the model: {e.message}") from None
        start = time.perf_counter()
        oom = False
        try:
            records = self._infer(engine, pages)
            self.stats["pages_inferred"] += len(pages)
            return records
        except EngineOutOfMemory as e:
            oom, problem = True, e.message
        except DocvlError:
            raise
        except Exception as e:
            problem = f"the model failed on this page: {short_reason(e)}"
        finally:
            self.stats["model_seconds"] += time.perf_counter() - start
        if len(pages) > 1:
            self.stats["oom_splits"] += oom
            half = len(pages) // 2
            return self.infer(pages[:half]) + self.infer(pages[half:])
        if oom:
            return [self._infer_smaller(engine, pages[0], problem)]
        return [failed_page(pages[0].page, f"{pages[0].source}: page {pages[0].page}: {problem}")]

    def _infer_smaller(self, engine, page: PageImage, problem: str) -> dict:
        min_pixels = self.options.budget.min_pixels
        for _ in range(OOM_RETRIES):
            target = max(min_pixels, page.width_px * page.height_px // OOM_SHRINK)
            if target >= page.width_px * page.height_px:
                break
            page = shrink(page, Budget(min_pixels, target))
            try:
                [record] = self._infer(engine, [page])
            except EngineOutOfMemory as e:
                problem = e.message
                continue
            except Exception:
                break
            self.stats["oom_smaller_pages"] += 1
            self.stats["pages_inferred"] += 1
            record["oom_max_pixels"] = target  # the page ran at this smaller budget
            return record
        return failed_page(page.page, f"{page.source}: page {page.page}: {problem}")

    def _infer(self, engine, batch: list[PageImage]) -> list[dict]:
        requests = [Request(p.image, self.task.prompt(p, engine.family)) for p in batch]
        generations = engine.generate(requests)
        records = []
        for page, gen in zip(batch, generations):
            if gen.error is not None:  # e.g. the server gave up on this page
                records.append(failed_page(page.page, gen.error))
                continue
            record = {"page": page.page, "status": "ok", "error": None, "source": "model", **page.describe(),
                      "prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
                      "seconds": round(gen.seconds, 3)}
            if gen.visual_tokens != page.visual_tokens:
                # The processor resized the page again: pixel boxes would no longer match it.
                record.update(status="failed", error=f"the model's processor saw {gen.visual_tokens} visual "
                              f"tokens, docvl planned {page.visual_tokens}")
            elif gen.finish_reason == "time":
                record.update(status="failed", error=f"{page.source}: page {page.page}: generation took "
                              f"longer than {self.options.page_timeout:g} s (--page-timeout)")
            else:
                try:
                    record.update(self.task.parse(gen.text, page, engine.family))
                except Exception as e:  # parsers must not raise; if one does, the page says so
                    record.update(status="failed", error=f"cannot parse the model's answer: {short_reason(e)}")
            records.append(record)
        return records


class _Feeder:
    """Lists inputs on a thread of its own (stdin and big folders are read as the run goes)."""

    _END = object()

    def __init__(self, inputs: Iterable[Input], shard: tuple[int, int] | None):
        self._queue: queue.Queue = queue.Queue(maxsize=256)
        self.exhausted = False
        threading.Thread(target=self._read, args=(inputs, shard), name="docvl-inputs", daemon=True).start()

    def _read(self, inputs, shard) -> None:
        try:
            for item in inputs:
                if in_shard(item.rel, shard):
                    self._queue.put(item)
        except BaseException as e:  # raised on the scheduler thread
            self._queue.put(e)
        self._queue.put(self._END)

    def next(self) -> Input | None:
        """The next input if one is listed already; None if none is (yet)."""
        if self.exhausted:
            return None
        try:
            item = self._queue.get_nowait()
        except queue.Empty:
            return None
        if item is self._END:
            self.exhausted = True
            return None
        if isinstance(item, BaseException):
            raise item
        return item


def check_pages(spec: str | None) -> None:
    """A --pages that no page count makes valid is a usage error before any work."""
    try:
        parse_pages(spec, 1)
    except UsageError:
        parse_pages(spec, 10**5)


def shrink(page: PageImage, budget: Budget) -> PageImage:
    """The page at a smaller pixel budget (for an out-of-memory retry)."""
    h, w = smart_resize(page.height_px, page.width_px, budget)
    image = page.image.resize((w, h), Image.Resampling.BICUBIC)
    dpi = page.dpi * math.sqrt((w * h) / (page.width_px * page.height_px))
    return PageImage(page.source, page.page, image, page.width_pt, page.height_pt, page.rotation, dpi, page.scan_dpi)


def failed_page(number: int, message: str) -> dict:
    return {"page": number, "status": "failed", "error": message}
