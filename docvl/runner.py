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
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from . import SCHEMA
from .batch import OutDir, in_shard, resume_key
from .budget import Budget
from .errors import DocvlError
from .inference import Inference, blank_page, document_status, failed_page, mark_review
from .inputs import Input, InputFeed, output_rel
from .modelthread import Batch, ModelThread
from .raster import PageImage
from .rasterpool import Job, RasterPool, Source
from .sources import check_pages, select_pages
from .tasks import Task

POLL_SECONDS = 0.02  # how often an idle scheduler looks for work
# While a batch runs, the scheduler sleeps until a worker replies or the batch ends (its pipe is
# written): waking on a timer would take the GIL from the model thread, whose kernel launches need it.
BATCH_WAIT_SECONDS = 1.0


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
    min_confidence: float | None = None  # pages whose mean token probability is below it: "review": true
    blank_pages: bool = True  # pages with no ink are answered empty without the model
    orientation: bool = True  # scans are turned upright (0/90/180/270) before the model sees them


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
        self._pool: RasterPool | None = None
        self._model: ModelThread | None = None
        self._batch: Batch | None = None  # the batch on the model thread
        cpus = os.cpu_count() or 1
        self.workers = options.workers or max(1, min(4, cpus - 1))
        # Rendered pages waiting for the model: enough to choose batches of similar size from.
        self.prefetch = 2 * options.batch_size + self.workers
        self.max_docs = max(8, 2 * options.batch_size + self.workers)
        # Document ids, unique over every run() of this runner: workers keep documents open by id.
        self._seqs = itertools.count()
        self.stats = {"pages_inferred": 0, "pages_resumed": 0, "pages_answered": 0, "pages_blank": 0, "raster_seconds": 0.0,
                      "model_seconds": 0.0, "oom_splits": 0, "oom_smaller_pages": 0}
        # The engine is loaded on the first batch that needs one: text-layer pages need none.
        self.infer = Inference(task, engine_factory, options.budget, options.page_timeout, self.stats)

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
                                    self.options.page_timeout, self.options.show_stderr, self.options.blank_pages,
                                    self.options.orientation)
        feed = InputFeed(inputs, lambda item: in_shard(item.rel, self.options.shard))
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
            self.out_dir.page_done(doc.key, record, self.infer.engine_info())
        if self.on_pages:
            self.on_pages(1)
        self._maybe_complete(doc)

    def _maybe_complete(self, doc: _Doc) -> None:
        if doc.todo or doc.in_flight:
            return
        pages = [doc.pages[n] for n in sorted(doc.pages)]
        for page in pages:
            mark_review(page, self.options.min_confidence)
        engine = self.infer.engine_info()
        if engine["name"] is None and doc.engine:
            engine = doc.engine  # every page came from an earlier run's journal
        record = doc.record
        record["engine"] = engine
        record["options"] = self.options_info()
        record["pages"] = pages
        if self.task.summarize:
            record.update(self.task.summarize(pages))
        if self.task.finish:
            self.task.finish(record, doc.item.location, self.options.password)
        record.update(document_status(record["source"]["path"], pages))
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
        elif kind == "blank":
            self.stats["raster_seconds"] += reply[2]
            self.stats["pages_blank"] += 1
            self._page_done(doc, blank_page(self.task, reply[1], reply[2]))
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
                self._model = ModelThread(self.infer)
            self._batch = Batch(pages)
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
