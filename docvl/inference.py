"""The model side of a run: the engine (loaded once, on first need), and page records from its
generations, with failures isolated to the pages they belong to.

Out of memory, a batch is split in halves, and a single page is retried at a quarter of its pixels
(twice at most) and marked so. A batch that fails as a whole for another reason is split the same
way until the page at fault fails alone. An engine that cannot run at all ends the run.
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Callable

from PIL import Image

from .budget import Budget, smart_resize
from .engines import BatchFailed, Request
from .errors import DocvlError, EngineOutOfMemory, short_reason
from .raster import PageImage
from .tasks import Task

OOM_SHRINK = 4  # an out-of-memory page is retried at 1/4 of its pixels (half each side) ...
OOM_RETRIES = 2  # ... at most this many times


class Inference:
    def __init__(self, task: Task, engine_factory: Callable[[], object], budget: Budget,
                 page_timeout: float | None, stats: dict):
        self.task = task
        self.budget = budget
        self.page_timeout = page_timeout
        self.stats = stats
        self._engine_factory = engine_factory
        self._engine = None
        self._engine_lock = threading.Lock()

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

    def __call__(self, pages: list[PageImage]) -> list[dict]:
        """Page records for a batch (runs on the model thread)."""
        try:
            engine = self.engine
        except DocvlError as e:  # say which page wanted it: the others may need no model at all
            raise type(e)(f"{pages[0].source}: page {pages[0].page} needs the model: {e.message}") from None
        start = time.perf_counter()
        oom = False
        try:
            records = self._records(engine, pages)
            self.stats["pages_inferred"] += len(pages)
            return records
        except EngineOutOfMemory as e:
            oom, problem = True, e.message
        except BatchFailed as e:
            problem = e.message
        except DocvlError:
            raise
        except Exception as e:  # a bug must cost only the pages it touched
            problem = f"the model failed on this page: {short_reason(e)}"
        finally:
            self.stats["model_seconds"] += time.perf_counter() - start
        if len(pages) > 1:
            self.stats["oom_splits"] += oom
            half = len(pages) // 2
            return self(pages[:half]) + self(pages[half:])
        if oom:
            return [self._smaller(engine, pages[0], problem)]
        return [failed_page(pages[0].page, f"{pages[0].source}: page {pages[0].page}: {problem}")]

    def _smaller(self, engine, page: PageImage, problem: str) -> dict:
        min_pixels = self.budget.min_pixels
        for _ in range(OOM_RETRIES):
            target = max(min_pixels, page.width_px * page.height_px // OOM_SHRINK)
            if target >= page.width_px * page.height_px:
                break
            page = shrink(page, Budget(min_pixels, target))
            try:
                [record] = self._records(engine, [page])
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

    def _records(self, engine, batch: list[PageImage]) -> list[dict]:
        requests = [Request(p.image, self.task.prompt(p, engine.family)) for p in batch]
        return [self._record(page, gen, engine.family) for page, gen in zip(batch, engine.generate(requests))]

    def _record(self, page: PageImage, gen, family: str) -> dict:
        if gen.error is not None:  # e.g. the server gave up on this page
            return failed_page(page.page, gen.error)
        record = {"page": page.page, "status": "ok", "error": None, "source": "model", **page.describe(),
                  "prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
                  "seconds": round(gen.seconds, 3)}
        if gen.visual_tokens != page.visual_tokens:
            # The processor resized the page again: pixel boxes would no longer match it.
            record.update(status="failed", error=f"the model's processor saw {gen.visual_tokens} visual "
                          f"tokens, docvl planned {page.visual_tokens}")
        elif gen.finish_reason == "time":
            record.update(status="failed", error=f"{page.source}: page {page.page}: generation took "
                          f"longer than {self.page_timeout:g} s (--page-timeout)")
        else:
            try:
                record.update(self.task.parse(gen.text, page, family))
            except Exception as e:  # parsers must not raise; if one does, the page says so
                record.update(status="failed", error=f"cannot parse the model's answer: {short_reason(e)}")
        if record["status"] == "ok":
            self._trust(record, gen)
        return record

    def _trust(self, record: dict, gen) -> None:
        """What says the answer may not be right: its token probabilities, the token limit."""
        warnings = record.setdefault("warnings", [])
        record["confidence"] = token_confidence(gen.token_logprobs)
        if record["confidence"] is not None:
            element_confidence(record, gen.text, gen.token_texts, gen.token_logprobs)
        if gen.finish_reason == "length":
            record["truncated"] = True
            warnings.append(f"the answer reached the token limit ({gen.completion_tokens} tokens, --max-new-tokens) "
                            "and was cut off there; raise --max-new-tokens if the page holds more")


def span_confidences(spans: list[str], text: str, pieces: list[str] | None,
                     logprobs: list[float]) -> list[dict | None] | None:
    """The confidence of each span of the answer's text (a line, a field's value, a table cell): the
    mean probability of the tokens that wrote it, the spans found in order in the answer. None when the
    tokens' texts are unknown or do not spell the answer; a span not found (empty, or rewritten by the
    parser, such as a number or date put in its canonical form) gets None."""
    if not pieces or len(pieces) != len(logprobs) or "".join(pieces) != text:
        return None
    ends, total = [], 0
    for piece in pieces:
        total += len(piece)
        ends.append(total)
    found, cursor = [], 0
    for span in spans:
        start = text.find(span, cursor) if span else -1
        if start < 0:
            found.append(None)
            continue
        stop = start + len(span)
        cursor = stop
        # tokens overlapping [start, stop): those ending after start and starting before stop
        chosen = [lp for lp, end, piece in zip(logprobs, ends, pieces) if end > start and end - len(piece) < stop]
        found.append(token_confidence(chosen))
    return found


def element_confidence(record: dict, text: str, pieces: list[str] | None, logprobs: list[float]) -> None:
    """Confidence of the page's elements where the answer allows: each OCR line (`confidence`), each
    table cell (`cell_confidence`: the header's and the rows' cells, as the table's grid) and each key
    field (`field_confidence`: name -> confidence, null where the value is absent or rewritten)."""
    lines = record.get("lines") or []
    if lines:
        confs = span_confidences([ln["text"] for ln in lines], text, pieces, logprobs)
        for line, conf in zip(lines, confs or []):
            line["confidence"] = conf
    for table in record.get("tables") or []:
        grid = ([table["header"]] if table.get("header") else []) + table["rows"]
        confs = span_confidences([cell for row in grid for cell in row], text, pieces, logprobs)
        if confs is not None:
            it = iter(confs)
            table["cell_confidence"] = [[next(it) for _ in row] for row in grid]
    fields = record.get("fields")
    if isinstance(fields, dict) and fields:
        names = [n for n, v in fields.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        confs = span_confidences([_field_text(fields[n]) for n in names], text, pieces, logprobs)
        if confs is not None:
            by_name = dict(zip(names, confs))
            record["field_confidence"] = {n: by_name.get(n) for n in fields}


def _field_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


REVIEW_WARNING = "low confidence: "


def mark_review(record: dict, min_confidence: float | None) -> None:
    """`"review": true` and a warning on a page whose mean token probability is below `min_confidence`
    (decided when its document is finished, so that pages resumed from an earlier run are judged alike)."""
    warnings = record.get("warnings")
    if record.pop("review", None) and warnings:
        record["warnings"] = [w for w in warnings if not w.startswith(REVIEW_WARNING)]
    confidence = record.get("confidence")
    if min_confidence is None or record.get("status") != "ok" or not confidence or confidence["mean"] >= min_confidence:
        return
    record["review"] = True
    record.setdefault("warnings", []).append(
        f"{REVIEW_WARNING}the answer's mean token probability {confidence['mean']:.3g} is below "
        f"--min-confidence {min_confidence:g}; check this page")


def token_confidence(logprobs: list[float] | None) -> dict | None:
    """The mean and the lowest probability of the answer's tokens; None without log-probabilities
    (a server that gives none) or without answer tokens."""
    if not logprobs:
        return None
    probs = [math.exp(v) for v in logprobs]
    return {"mean": float(f"{sum(probs) / len(probs):.6g}"), "min": float(f"{min(probs):.6g}"), "tokens": len(probs)}


def shrink(page: PageImage, budget: Budget) -> PageImage:
    """The page at a smaller pixel budget (for an out-of-memory retry)."""
    h, w = smart_resize(page.height_px, page.width_px, budget)
    image = page.image.resize((w, h), Image.Resampling.BICUBIC)
    dpi = page.dpi * math.sqrt((w * h) / (page.width_px * page.height_px))
    return PageImage(page.source, page.page, image, page.width_pt, page.height_pt, page.rotation, dpi, page.scan_dpi,
                     page.orientation)


def blank_page(task: Task, page: PageImage, seconds: float) -> dict:
    """The record of a page with no ink (docvl.blank), answered without the model: the task's answer
    to nothing (empty text, no tables, no boxes, null fields)."""
    try:
        answer = task.parse("", page, "qwen2-vl")
    except Exception:
        answer = {}
    return {"page": page.page, "status": "ok", "error": None, "source": "blank", **page.describe(), **answer,
            "warnings": [], "blank": True, "prompt_tokens": 0, "completion_tokens": 0, "seconds": round(seconds, 3)}


def failed_page(number: int, message: str) -> dict:
    return {"page": number, "status": "failed", "error": message}


def document_status(path: str, pages: list[dict]) -> dict:
    """A document's status and error from its pages: ok, partial or failed."""
    failed = sum(p["status"] != "ok" for p in pages)
    if not failed:
        return {"status": "ok", "error": None}
    # The first failed page's reason usually says what to do.
    first = next(p["error"] for p in pages if p["status"] != "ok").removeprefix(f"{path}: ")
    return {"status": "failed" if failed == len(pages) else "partial",
            "error": f"{path}: {failed} of {len(pages)} pages failed; first: {first}"}
