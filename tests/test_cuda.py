"""Paths that only a CUDA GPU exercises: `docvl ocr --device cuda` in bf16 and bitsandbytes 8/4-bit, and a
batch that runs out of GPU memory being split and retried. They skip where there is no GPU; the README's
Benchmarks section says where they last ran."""

import json

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

from docs import scan_pdf, text_pdf  # noqa: E402

from docvl.budget import Budget  # noqa: E402
from docvl.engines.local import LocalEngine, LocalOptions  # noqa: E402
from docvl.raster import render_page  # noqa: E402
from docvl.runner import Runner, RunOptions  # noqa: E402
from docvl.sources import open_document  # noqa: E402
from docvl.tasks.ocr import ocr_task  # noqa: E402


@pytest.mark.parametrize("quant", ["none", "8bit", "4bit"])
def test_ocr_on_cuda(run_cli, tiny_model, tmp_path, quant):
    pdf = text_pdf(tmp_path / "doc.pdf", pages=2)
    code, out, err = run_cli("ocr", pdf, "--model", tiny_model, "--device", "cuda", "--quant", quant,
                             "--max-new-tokens", "8", "--max-pixels", str(512 * 784))
    assert code == 0, err
    document = json.loads(out)
    assert [p["status"] for p in document["pages"]] == ["ok", "ok"]
    assert all(p["completion_tokens"] >= 1 for p in document["pages"])


def test_out_of_memory_splits_the_batch_and_every_page_still_runs(tiny_model, tmp_path):
    """Cap the process's GPU memory between what one page and what the whole batch needs: the runner must
    split the batch (never loop), and every page must come out as it does without the cap."""
    budget = Budget(1024 * 784, 2048 * 784)
    doc = open_document(str(scan_pdf(tmp_path / "scan.pdf", dpi=300, pages=8)))
    pages = [render_page(doc, n, budget) for n in range(1, 9)]
    engine = LocalEngine(LocalOptions(model=str(tiny_model), device="cuda", dtype="float32", attn="eager",
                                      max_new_tokens=4),
                         budget)
    runner = Runner(ocr_task(), lambda: engine, RunOptions(budget=budget, batch_size=8))

    # Eager attention: the batch's prefill needs measurably more memory than one page's.
    def peak(batch) -> tuple[int, list[dict]]:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        records = runner.infer(batch)
        return torch.cuda.max_memory_allocated(), records

    one, _ = peak(pages[:1])
    eight, expected = peak(pages)
    assert eight > one + 2**26, f"the batch needs {eight} bytes, one page {one}: no room for a cap between"
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction((one + eight) / 2 / total)
    try:
        _, records = peak(pages)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
    assert runner.stats["oom_splits"] >= 1
    assert [r["status"] for r in records] == ["ok"] * 8, [r["error"] for r in records]
    # Pages that ran at full size read as without the cap (a page that still did not fit ran smaller).
    assert [r["text"] for r in records if "oom_max_pixels" not in r] == \
        [e["text"] for r, e in zip(records, expected) if "oom_max_pixels" not in r]
