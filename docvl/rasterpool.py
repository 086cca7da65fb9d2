"""Worker processes that open documents and render pages, ahead of the model.

Processes, not threads: PyMuPDF holds the GIL while it renders (a rendering thread would stall the
model's thread) and is not thread-safe. A process also contains what a hostile file does: a page that
hangs MuPDF is killed at its time limit and one that crashes it costs that page; a fresh worker takes
the place of either. Workers ignore Ctrl-C (docvl decides when to stop), exit when docvl goes away,
and never write to docvl's stdout.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from multiprocessing.connection import wait

from . import mupdf_extras
from .budget import Budget
from .errors import DocvlError, short_reason
from .blank import is_blank
from .orientation import detect as detect_orientation
from .orientation import turn
from .raster import render_page
from .sources import Document, open_document

OPEN_DOCS = 2  # documents a worker keeps open: the one it renders and the next


@dataclass(frozen=True)
class Source:
    """What a worker needs to open a document."""

    path: str  # as the user named it: error messages use it
    file: str  # where its bytes are
    password: str | None = None


@dataclass(frozen=True)
class Job:
    kind: str  # "open" -> ("opened", kind, page_count, sha256); "page" -> ("page", PageImage, seconds)
    doc: int  # the runner's number for the document
    source: Source
    page: int = 0  # 1-based; 0 for "open"


# Replies: ("opened", kind, page_count, sha256), ("page", PageImage, seconds),
# ("answered", fields, seconds) when the task's answer_page hook answered, ("blank", PageImage, seconds)
# for a rendered page with no ink (never sent to the model), or ("error", message).


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported PyMuPDF and docvl: they start in ms.
        ctx.set_forkserver_preload([mupdf_extras.__name__, __name__, "pymupdf", "numpy"])
        return ctx
    return multiprocessing.get_context("spawn")


def _serve(conn, budget: Budget, answer_page, show_stderr: bool, blank_pages: bool = True,
           orientation: bool = True) -> None:
    mupdf_extras.leave_out()  # a spawned worker, which no forkserver preloaded
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # MuPDF and PyMuPDF can print to stdout, which carries docvl's data
    if not show_stderr:
        os.dup2(devnull, 2)  # MuPDF's warnings about damaged files; the page error says what matters
    docs: OrderedDict[int, Document] = OrderedDict()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # docvl has gone
        if job is None:
            return
        try:
            reply = _do(job, docs, budget, answer_page, blank_pages, orientation)
        except DocvlError as e:
            reply = ("error", e.message)
        except Exception as e:
            where = f"page {job.page}" if job.page else "cannot be opened"
            reply = ("error", f"{job.source.path}: {where}: {short_reason(e)}")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


def _do(job: Job, docs: OrderedDict, budget: Budget, answer_page, blank_pages: bool = True,
        orientation: bool = True):
    doc = docs.get(job.doc)
    if doc is None:
        src = job.source
        if src.file == src.path:
            doc = open_document(src.path, src.password)
        else:
            with open(src.file, "rb") as f:
                doc = open_document(src.path, src.password, data=f.read())
        docs[job.doc] = doc
        while len(docs) > OPEN_DOCS:
            docs.popitem(last=False)[1].close()
    docs.move_to_end(job.doc)
    if job.kind == "open":
        return ("opened", doc.kind, doc.page_count, doc.sha256)
    start = time.perf_counter()
    if answer_page is not None:
        fields = answer_page(doc, job.page)
        if fields is not None:
            return ("answered", fields, time.perf_counter() - start)
    page = render_page(doc, job.page, budget)
    if blank_pages and is_blank(page.image, page.dpi):
        return ("blank", page, time.perf_counter() - start)
    if orientation and page.scan_dpi is not None:  # a scan (or an image file): turned upright if need be
        page.orientation = detect_orientation(page.image)
        page.image = turn(page.image, page.orientation)
    return ("page", page, time.perf_counter() - start)


@contextlib.contextmanager
def _main_hidden():
    """Start a worker without it importing the parent's __main__ (as spawn and forkserver do): workers
    need only this module, and a script that calls docvl without an `if __name__ == "__main__"` guard
    would otherwise run again in every worker."""
    main = sys.modules["__main__"]
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


class _Worker:
    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.job: Job | None = None
        self.deadline = float("inf")


class RasterPool:
    """`size` workers, one job at a time each. Used from one thread: submit() to idle workers,
    poll() for replies; a job past `timeout` seconds, or whose worker died, gets an error reply."""

    def __init__(self, size: int, budget: Budget, answer_page=None, timeout: float | None = None,
                 show_stderr: bool = False, blank_pages: bool = True, orientation: bool = True):
        self._ctx = _context()
        self._args = (budget, answer_page, show_stderr, blank_pages, orientation)
        self.timeout = timeout
        self._workers = [self._start() for _ in range(size)]

    def _start(self) -> _Worker:
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(theirs, *self._args), daemon=True,
                                    name="docvl-raster")
        with _main_hidden():
            process.start()
        theirs.close()
        return _Worker(process, ours)

    def idle(self) -> list[_Worker]:
        return [w for w in self._workers if w.job is None]

    @property
    def busy(self) -> int:
        return sum(w.job is not None for w in self._workers)

    def submit(self, worker: _Worker, job: Job) -> None:
        worker.job = job
        worker.deadline = time.monotonic() + self.timeout if self.timeout else float("inf")
        try:
            worker.conn.send(job)
        except (BrokenPipeError, OSError):
            worker.deadline = 0.0  # died while idle: poll() reports it

    def poll(self, timeout: float, wake: list = ()) -> list[tuple[Job, tuple]]:
        """Replies that arrive within `timeout`; a readable file descriptor in `wake` ends the wait early."""
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            if wake:
                wait(wake, timeout)
            else:
                time.sleep(timeout)
            return []
        now = time.monotonic()
        nearest = min(w.deadline for w in busy)
        ready = wait([w.conn for w in busy] + list(wake), max(0.0, min(timeout, nearest - now)))
        replies = []
        for w in busy:
            if w.conn in ready:
                try:
                    replies.append((w.job, w.conn.recv()))
                except (EOFError, OSError):
                    replies.append((w.job, ("error", self._died(w))))
                    continue
                w.job = None
            elif time.monotonic() >= w.deadline:
                what = f"page {w.job.page}: rendering" if w.job.page else "opening it"
                replies.append((w.job, ("error", f"{w.job.source.path}: {what} took longer than "
                                        f"{self.timeout:g} s (--page-timeout)")))
                self._replace(w)
        return replies

    def _died(self, w: _Worker) -> str:
        w.process.join(1.0)
        what = f"page {w.job.page}" if w.job.page else "opening it"
        message = f"{w.job.source.path}: {what}: the renderer crashed (exit code {w.process.exitcode})"
        self._replace(w)
        return message

    def _replace(self, w: _Worker) -> None:
        w.process.kill()
        w.process.join(1.0)
        w.conn.close()
        self._workers[self._workers.index(w)] = self._start()

    def close(self) -> None:
        for w in self._workers:
            try:
                w.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        deadline = time.monotonic() + 2.0
        for w in self._workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()  # busy on a page nobody needs any more
                w.process.join(1.0)
            w.conn.close()
