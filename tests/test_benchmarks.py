"""The benchmarks run end to end on a tiny configuration, so that they cannot rot."""

import json
import shutil
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

TOKENS, PAGES = 3, 2


@pytest.fixture(scope="module")
def throughput_run(tmp_path_factory):
    import throughput

    out = tmp_path_factory.mktemp("results") / "throughput.json"
    payload = throughput.main(["--config", "tiny", "--pages", str(PAGES), "--tokens", str(TOKENS),
                               "--batch-size", "2", "--min-pixels", str(64 * 784), "--max-pixels",
                               str(128 * 784), "--device", "cpu", "--bandwidth-tbps", "0.05", "--out", str(out)])
    return payload, out


def test_throughput_times_baseline_and_docvl_on_the_same_work(throughput_run):
    payload, out = throughput_run
    assert json.loads(out.read_text())["runs"] == payload["runs"]
    assert "--config tiny" in payload["command"] and payload["versions"]["transformers"]
    baseline, docvl, alone = payload["runs"]
    assert (baseline["engine"], baseline["calls"], baseline["mean_batch"]) == ("baseline", PAGES, 1)
    assert (docvl["engine"], docvl["calls"], docvl["mean_batch"]) == ("docvl", 1, PAGES)
    assert (alone["engine"], alone["calls"], alone["mean_batch"]) == ("docvl-engine", 1, PAGES)
    for run in (baseline, docvl, alone):
        # min = max new tokens: every page generates exactly TOKENS, so the work is the same.
        assert run["completion_tokens_each"] == [TOKENS] and run["generated_tokens"] == PAGES * TOKENS
        assert run["decode_tokens"] == PAGES * (TOKENS - 1)
        assert min(run["vision_s"], run["prefill_s"], run["decode_s"], run["host_s"]) > 0
        assert run["vision_s"] + run["prefill_s"] + run["decode_s"] <= run["generate_s"] <= run["seconds"]
        assert run["pages_per_s"] == pytest.approx(PAGES / run["seconds"], rel=0.01)
        roof = run["roofline"]
        assert 0 < roof["fraction"] and roof["decode_tokens_per_s_bound"] > 0
    # The same pages at the same budget: the same prompts, token for token.
    assert baseline["prompt_tokens_mean"] == docvl["prompt_tokens_mean"] == alone["prompt_tokens_mean"]
    assert baseline["visual_tokens_mean"] == docvl["visual_tokens_mean"] == alone["visual_tokens_mean"] <= 128
    assert [r["engine"] for r in payload["ratios"]] == ["docvl", "docvl-engine"]
    for ratio, run in zip(payload["ratios"], (docvl, alone)):
        assert ratio["docvl_over_baseline_pages_per_s"] == pytest.approx(
            run["pages_per_s"] / baseline["pages_per_s"], rel=0.01)


def test_roofline_bandwidth_table_and_bound():
    import roofline

    assert roofline.bandwidth_tbps("NVIDIA H100 80GB HBM3") == 3.35
    assert roofline.bandwidth_tbps("NVIDIA H100 PCIe") == 2.0
    assert roofline.bandwidth_tbps("NVIDIA H200") == 4.8
    assert roofline.bandwidth_tbps("NVIDIA GH200 480GB") == 4.0
    assert roofline.bandwidth_tbps(None) is None and roofline.bandwidth_tbps("Some GPU") is None
    # 3 GB of weights at 3 TB/s: 1000 steps/s at batch 1; a batch of 4 shares the weight reads.
    assert roofline.decode_bound(3.0, 3 * 10**9, 0, 1, 1000) == pytest.approx(1000)
    assert roofline.decode_bound(3.0, 3 * 10**9, 0, 4, 1000) == pytest.approx(4000)
    # KV only: 2 rows x 1000 tokens x 1 MB = 2 GB a step, 1500 steps/s, 2 tokens a step.
    assert roofline.decode_bound(3.0, 0, 10**6, 2, 1000) == pytest.approx(3000)


def test_rasterize_compares_tools_at_equal_pixels(tmp_path):
    import rasterize
    from synthetic import SHAPES, synthetic_pdf

    synthetic_pdf(tmp_path / "pdfs" / "pages.pdf", len(SHAPES))
    payload = rasterize.main(["--corpus", str(tmp_path / "pdfs"), "--repeat", "1", "--min-pixels", str(64 * 784),
                              "--max-pixels", str(256 * 784), "--out", str(tmp_path / "rasterize.json")])
    ours, *others = payload["results"]
    assert ours["pages"] == len(SHAPES) and ours["failed"] == 0
    expected = {"pdftoppm": shutil.which("pdftoppm") is not None, "pypdfium2": True}
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        expected["pypdfium2"] = False
    assert sorted(r["tool"] for r in others) == sorted(name for name, present in expected.items() if present)
    assert payload["skipped"] == [name for name, present in expected.items() if not present]
    for r in others:
        assert r["pages"] == len(SHAPES) and r["failed"] == 0
        assert r["megapixels"] == pytest.approx(ours["megapixels"], rel=0.02)
        assert payload["ratios"][f"docvl_over_{r['tool']}_pages_per_s"] > 0


def test_overlap_and_memory_benchmarks_run_on_a_tiny_job(tmp_path):
    import memory
    import overlap

    payload = overlap.main(["--pages", "8", "--repeat", "1", "--strokes", "50", "--out", str(tmp_path / "o.json")])
    [r] = payload["rounds"]
    assert r["end_to_end_s"] > 0 and r["raster_s"] > 0 and r["model_s"] > 0
    assert 0.5 <= payload["ratios"]["perfect_overlap_would_be"] < 1
    payload = memory.main(["--pages", "8", "--baseline-pages", "4", "--out", str(tmp_path / "m.json")])
    assert json.loads((tmp_path / "m.json").read_text())["runs"] == payload["runs"]
    assert [r["pages"] for r in payload["runs"]] == [4, 8]


def test_blank_benchmark_calls_no_text_page_blank(tmp_path):
    import blank

    corpus = tmp_path / "scans"
    corpus.mkdir()
    from docs import page_image

    page_image(850, 1100).save(corpus / "letter.png", dpi=(100, 100))
    out = tmp_path / "blank.json"
    payload = blank.main(["--corpus", str(corpus), "--dpi", "100", "--out", str(out)])
    assert json.loads(out.read_text())["summary"] == payload["summary"]
    s = payload["summary"]
    assert s["text_called_blank"] == 0 and s["blank_sent_to_model"] == 0 and s["pages_with_text"] > 10


def test_orientation_benchmark_scores_every_turn(tmp_path):
    import pymupdf
    from PIL import Image

    import orientation
    from docs import text_pdf

    scans, pdfs = tmp_path / "scans", tmp_path / "pdfs"
    scans.mkdir()
    pdfs.mkdir()
    pdf = text_pdf(pdfs / "letter.pdf", pages=1)
    with pymupdf.open(pdf) as doc:
        pix = doc[0].get_pixmap(dpi=100, colorspace="gray")
    Image.frombytes("L", (pix.width, pix.height), pix.samples).save(scans / "scan.png", dpi=(100, 100))
    (scans / "scan.txt").write_text("transcript")
    out = tmp_path / "orientation.json"
    payload = orientation.main(["--scans", str(scans), "--pdfs", str(pdfs), "--out", str(out)])
    s = json.loads(out.read_text())["summary"]
    assert s == payload["summary"] and s["pages"] == 2 and s["samples"] == 8
    assert s["accuracy_per_angle"] == {"0": 1.0, "90": 1.0, "180": 1.0, "270": 1.0}
