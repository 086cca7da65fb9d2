"""The streaming runner's batching: pages of several documents share batches, ordered by visual tokens
under --max-batch-tokens; out of memory splits a batch, then shrinks the page; a rerun into the same
--out-dir retries failed pages."""

import json
import threading

import pytest

from docs import scan_pdf
from docvl.batch import OutDir
from docvl.budget import Budget
from docvl.engines import Generation
from docvl.engines.local import LocalEngine, LocalOptions
from docvl.errors import EngineOutOfMemory
from docvl.inputs import Input
from docvl.runner import Runner, RunOptions
from docvl.tasks.ocr import ocr_task

BUDGET = Budget(16 * 784, 192 * 784)


class Watched:
    """The real engine, with each batch's visual tokens noted; out of memory above a limit (the way a
    GPU fails: the whole batch, before any result)."""

    def __init__(self, engine, oom_above: int | None = None):
        self.engine, self.oom_above, self.calls, self.threads = engine, oom_above, [], set()

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def generate(self, requests):
        tokens = [r.image.width * r.image.height // 784 for r in requests]
        self.calls.append(tokens)
        self.threads.add(threading.current_thread())  # held: a new thread may reuse an ended one's id
        if self.oom_above and len(tokens) * max(tokens) > self.oom_above:
            raise EngineOutOfMemory("CUDA out of memory (test limit)")
        return self.engine.generate(requests)


@pytest.fixture(scope="module")
def engine(tiny_model):
    return LocalEngine(LocalOptions(model=str(tiny_model), device="cpu", max_new_tokens=1), BUDGET)


@pytest.fixture
def docs(tmp_path):
    # Scans at three resolutions: pages of three sizes in visual tokens (48, 108, 180).
    paths = [scan_pdf(tmp_path / f"scan{dpi}.pdf", dpi=dpi, pages=3) for dpi in (20, 30, 45)]
    return [Input(str(p), p.name) for p in paths]


def run(engine, docs, out_dir=None, **options):
    runner = Runner(ocr_task(), lambda: engine, RunOptions(BUDGET, workers=1, **options), out_dir, json.dumps)
    try:
        return [d.record for d in runner.run(docs)], runner.stats
    finally:
        runner.close()


def test_batches_take_similar_pages_from_several_documents_within_the_token_bound(engine, docs):
    watched = Watched(engine)
    records, _ = run(watched, docs, batch_size=4, max_batch_tokens=500)
    assert [r["status"] for r in records] == ["ok"] * 3
    assert sum(len(c) for c in watched.calls) == 9
    for tokens in watched.calls:
        assert len(tokens) * max(tokens) <= 500 or len(tokens) == 1
    sizes = [r["pages"][0]["visual_tokens"] for r in records]
    assert sizes == [48, 108, 180]
    # The first batch: the three small pages and one of the next document (4 x 108 <= 500); the
    # largest pages go two at a time (2 x 180 <= 500 < 3 x 180).
    assert sorted(watched.calls[0]) == [48, 48, 48, 108]
    assert [c for c in watched.calls if max(c) == 180] == [[180, 180], [180]]
    # Every batch on one model thread, not the caller's: torch keeps per-thread state (--compile's CUDA
    # graphs, OpenMP's worker pool) that a thread per batch would rebuild each time.
    assert len(watched.threads) == 1 and threading.current_thread() not in watched.threads


def test_out_of_memory_splits_the_batch_then_shrinks_the_page(engine, docs):
    largest = docs[2:]  # 180 visual tokens a page
    watched = Watched(engine, oom_above=150)  # not even one page fits
    records, stats = run(watched, largest, batch_size=3)
    [record] = records
    assert record["status"] == "ok"
    for page in record["pages"]:
        assert page["visual_tokens"] * 784 <= page["oom_max_pixels"] < BUDGET.max_pixels
        assert (page["width_pt"], page["height_pt"]) == (612, 792)  # coordinates still in page points
    assert stats["oom_splits"] >= 1 and stats["oom_smaller_pages"] == 3
    # The first call was the whole batch; none was ever retried without being made smaller.
    assert len(watched.calls[0]) == 3
    assert all(len(c) == 1 for c in watched.calls[-3:])


def test_a_page_that_never_fits_fails_alone(engine, docs):
    watched = Watched(engine, oom_above=1)  # nothing fits
    records, _ = run(watched, docs[:1], batch_size=2)
    [record] = records
    assert record["status"] == "failed"
    assert all("out of memory" in p["error"] for p in record["pages"])
    assert len(watched.calls) < 30  # splits and two smaller tries per page, never an endless loop


def test_one_runner_reads_each_document_it_is_given(engine, tmp_path):
    # Raster workers keep documents open by id: ids must not repeat across runs of one runner (they
    # did, and a second run_document read the first document's pages).
    first, second = scan_pdf(tmp_path / "a.pdf", dpi=20, pages=1), scan_pdf(tmp_path / "b.pdf", dpi=30, pages=3)
    runner = Runner(ocr_task(), lambda: engine, RunOptions(BUDGET, workers=1))
    try:
        records = [runner.run_document(str(p)) for p in (first, second, first)]
    finally:
        runner.close()
    assert [len(r["pages"]) for r in records] == [1, 3, 1]
    assert [r["source"]["path"] for r in records] == [str(first), str(second), str(first)]
    assert records[1]["pages"][0]["visual_tokens"] != records[0]["pages"][0]["visual_tokens"]


class FailsFirst:
    """The real engine behind a server that is down for the first `down` pages it is sent."""

    def __init__(self, engine, down: int):
        self.engine, self.down, self.pages = engine, down, 0

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def generate(self, requests):
        self.pages += len(requests)
        if self.down > 0:
            self.down -= len(requests)
            return [Generation(text="", prompt_tokens=None, completion_tokens=None, visual_tokens=0,
                               seconds=0.0, finish_reason=None, error="server down (test)") for _ in requests]
        return self.engine.generate(requests)


def test_a_rerun_retries_failed_pages_and_keeps_ok_ones(engine, docs, tmp_path):
    # A first run loses pages to an outage: one document fails whole, one is partial, one is ok.
    out = OutDir(str(tmp_path / "out"), ".json")
    outage = FailsFirst(engine, down=4)
    records, _ = run(outage, docs, batch_size=1, out_dir=out)
    assert [r["status"] for r in records] == ["failed", "partial", "ok"]
    # The rerun sends only the four failed pages to the model and rewrites the partial output.
    rerun = FailsFirst(engine, down=0)
    records, stats = run(rerun, docs, batch_size=1, out_dir=OutDir(str(tmp_path / "out"), ".json"))
    assert [r["status"] for r in records] == ["ok", "ok", "ok"]
    assert rerun.pages == 4 and stats["pages_resumed"] == 2
    assert [len(r["pages"]) for r in records[:2]] == [3, 3]
    written = json.loads((tmp_path / "out" / "scan30.pdf.json").read_text())
    assert written["status"] == "ok" and [p["page"] for p in written["pages"]] == [1, 2, 3]
    # Now all are finished: a third run skips them.
    third = FailsFirst(engine, down=0)
    records, _ = run(third, docs, batch_size=1, out_dir=OutDir(str(tmp_path / "out"), ".json"))
    assert third.pages == 0 and [r["status"] for r in records] == ["ok"] * 3
