"""The runner: documents -> pages -> batches -> engine -> parsed, page-anchored records.

Failures stay where they happen: a file that cannot be opened becomes a failed document record, a
page that cannot be rendered or parsed a failed page record; the rest of the run goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from . import SCHEMA
from .budget import Budget
from .engines import Request
from .errors import DocvlError, short_reason
from .raster import PageImage, render_page
from .sources import Document, open_document, parse_pages
from .tasks import Task


@dataclass
class RunOptions:
    budget: Budget = field(default_factory=Budget)
    pages: str | None = None
    password: str | None = None
    batch_size: int = 4


class Runner:
    def __init__(self, task: Task, engine_factory: Callable[[], object], options: RunOptions):
        self.task = task
        self.options = options
        self._engine_factory = engine_factory
        self._engine = None

    @property
    def engine(self):
        # Loaded on the first page that needs a model, once per process.
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def run(self, paths: Iterable[str]) -> Iterator[dict]:
        for path in paths:
            yield self.run_document(path)

    def run_document(self, path: str) -> dict:
        start = time.perf_counter()
        record = {"schema": SCHEMA, "task": self.task.name, "source": {"path": path}}
        try:
            doc = open_document(path, self.options.password)
        except DocvlError as e:
            record.update(status="failed", error=e.message, pages=[])
            return record
        try:
            numbers = parse_pages(self.options.pages, doc.page_count)
            record["source"].update(kind=doc.kind, sha256=doc.sha256, page_count=doc.page_count)
            pages = list(self._pages(doc, numbers))
        finally:
            doc.close()
        record["engine"] = self.engine_info()
        record["options"] = self.options_info()
        record["pages"] = pages
        failed = sum(p["status"] != "ok" for p in pages)
        record["status"] = "ok" if failed == 0 else ("failed" if failed == len(pages) else "partial")
        record["error"] = None if failed == 0 else f"{failed} of {len(pages)} pages failed"
        record["seconds"] = round(time.perf_counter() - start, 3)
        return record

    def engine_info(self) -> dict:
        e = self._engine
        if e is None:
            return {"name": None, "model": None, "family": None}
        return {"name": e.name, "model": e.model_name, "family": e.family}

    def options_info(self) -> dict:
        b = self.options.budget
        return {"min_pixels": b.min_pixels, "max_pixels": b.max_pixels, "pages": self.options.pages,
                **self.task.options}

    def _pages(self, doc: Document, numbers: list[int]) -> Iterator[dict]:
        batch: list[PageImage] = []
        for number in numbers:
            try:
                batch.append(render_page(doc, number, self.options.budget))
            except DocvlError as e:
                yield failed_page(number, e.message)
                continue
            if len(batch) >= self.options.batch_size:
                yield from self._infer(batch)
                batch = []
        if batch:
            yield from self._infer(batch)

    def _infer(self, batch: list[PageImage]) -> list[dict]:
        engine = self.engine
        requests = [Request(p.image, self.task.prompt(p, engine.family)) for p in batch]
        generations = engine.generate(requests)
        records = []
        for page, gen in zip(batch, generations):
            if gen.error is not None:  # e.g. the server gave up on this page
                records.append(failed_page(page.page, gen.error))
                continue
            record = {"page": page.page, "status": "ok", "error": None, **page.describe(),
                      "prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
                      "seconds": round(gen.seconds, 3)}
            if gen.visual_tokens != page.visual_tokens:
                # The processor resized the page again: pixel boxes would no longer match it.
                record.update(status="failed", error=f"the model's processor saw {gen.visual_tokens} visual "
                              f"tokens, docvl planned {page.visual_tokens}")
                records.append(record)
                continue
            try:
                record.update(self.task.parse(gen.text, page, engine.family))
            except Exception as e:  # parsers must not raise; if one does, the page says so
                record.update(status="failed", error=f"cannot parse the model's answer: {short_reason(e)}")
            records.append(record)
        return records


def failed_page(number: int, message: str) -> dict:
    return {"page": number, "status": "failed", "error": message}
