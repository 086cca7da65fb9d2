"""Every gnarly and generated hostile input through the docvl CLI, as one batch each for `info` and
`ocr`: each file ends with its documented outcome (a result, or a one-line error), the run completes
with the partial exit code, nothing is written outside the output file, and peak memory stays bounded.

The gnarly corpus's expected outcomes come from its MANIFEST.tsv (what PyMuPDF observed on each file);
generated inputs carry their own below."""

import csv
import json
import re
from pathlib import Path

import pytest

import hostile_docs as h
from cliproc import run_docvl
from conftest import SHARED
from docs import text_pdf

GNARLY = SHARED / "corpus" / "gnarly"
PASSWORD = "userpass"  # the encrypted-user file's, per the manifest
# A tiny budget and answer keep the tiny model fast; the pages are still rendered and read for real.
# Every page goes to the model (--text-layer off), born-digital ones too.
OCR = ("--min-pixels", 784, "--max-pixels", 16 * 784, "--max-new-tokens", 2, "--batch-size", 4, "--text-layer", "off")
OCR_PAGES = "1-3"
# Peak resident memory of one CLI process or one of its render workers. `info` is an interpreter
# with PyMuPDF and Pillow (~80 MB); `ocr` adds torch and the tiny model (~1 GB). A full-size decode
# of any of the giant inputs would take 2.5 GB or more.
INFO_PEAK_MB = 300
OCR_PEAK_MB = 1500


def manifest() -> dict[str, dict]:
    """file -> {"status": ok|partial|failed, "pages": count or None, "sizes": [(w, h), ...] in pt,
    "failed_pages": [...]}, without a password."""
    expected = {}
    with open(GNARLY / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            seen = row["pymupdf_observed"]
            pages = re.search(r"\bpages=(\d+)", seen)
            broken = [int(p) for p in re.findall(r"page errors: p(\d+)", seen)]
            unreadable = ("open raises" in seen or "page_count raises" in seen or "is_pdf=False" in seen
                          or "needs_pass=True" in seen or (pages and pages.group(1) == "0"))
            sizes = []
            for spec in re.findall(r"sizes\(pt\)=([^;]+)", seen)[:1]:
                for item in spec.split(","):
                    size, _, times = item.partition("*")
                    w, hh = size.split("x")
                    sizes += [(float(w), float(hh))] * int(times or 1)
            expected[row["file"]] = {
                "status": "failed" if unreadable else ("partial" if broken else "ok"),
                "pages": int(pages.group(1)) if pages else None,
                "sizes": sizes, "failed_pages": broken,
                "needs_pass": "needs_pass=True" in seen,
            }
    return expected


def hostile_inputs(folder: Path) -> dict[str, tuple[str, str]]:
    """Generated inputs, written under `folder`, named as a careless or hostile folder names them;
    -> {path as passed on the command line: expected status of (info, ocr)}."""
    folder.mkdir()
    good = text_pdf(folder / "good.pdf", pages=3).read_bytes()
    files = {
        "good.pdf": (good, "ok"),
        "giant page 200 inches.pdf": (h.giant_page_pdf(200), "ok"),
        "poster UserUnit.pdf": (h.user_unit_pdf(10), "ok"),
        "image 50000 x 50000 px.pdf": (h.giant_image_pdf(50_000), "ok"),
        "renders forever.pdf": (h.forever_pdf(), "failed"),
        "bomb 50000 x 50000.png": (h.png_bomb(50_000, 50_000), "failed"),
        "three frames, second broken.tif": (h.tiff_with_broken_frame(1, "header"), "partial"),
        # info reads headers only: broken pixel data shows when the page is decoded for OCR.
        "three frames, second's data broken.tif": (h.tiff_with_broken_frame(1, "data"), ("ok", "partial")),
        "zero\npages.pdf": (h.zero_page_pdf(), "failed"),
        "empty.pdf": (b"", "failed"),
        "truncated.pdf": (h.truncated(good, 0.5), "ok"),  # MuPDF repairs it: three blank pages
        "header only.pdf": (h.truncated(good, 0.001), "failed"),
        "bit-flipped.pdf": (h.bit_flipped(good, 40, 0), "ok"),
        "-starts with a dash.pdf": (good, "ok"),
        "new\nline, fine.pdf": (good, "ok"),
    }
    expected = {}
    for name, (data, status) in files.items():
        (folder / name).write_bytes(data)
        # Reached through `..` (and as ./-name, so that a leading dash is not an option).
        expected[f"./{folder.name}/../{folder.name}/{name}"] = status if isinstance(status, tuple) else (status,) * 2
    # Above the working folder and back: its output must still land inside --out-dir.
    expected[f"../{folder.parent.name}/{folder.name}/good.pdf"] = ("ok", "ok")
    return expected


def snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if not p.is_dir()}


def one_line_errors(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert all(line.startswith("docvl: ") for line in lines), stderr
    return lines


needs_corpus = pytest.mark.skipif(not (GNARLY / "MANIFEST.tsv").exists(), reason="../shared corpus absent")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """cwd for the runs: gnarly (symlinked, read-only), generated inputs, a HOME and TMPDIR of its own."""
    root = tmp_path_factory.mktemp("hostile")
    inputs = {}
    if GNARLY.exists():
        (root / "gnarly").symlink_to(GNARLY)
        inputs.update({f"gnarly/{name}": (e["status"],) * 2 for name, e in manifest().items()})
    inputs.update(hostile_inputs(root / "made"))
    for folder in ("home", "tmp", "out"):
        (root / folder).mkdir()
    return root, inputs


def run_in(root: Path, *args):
    env = {"HOME": str(root / "home"), "TMPDIR": str(root / "tmp"), "XDG_CACHE_HOME": str(root / "home" / ".cache")}
    return run_docvl(*args, cwd=root, env=env, timeout=400)


def say(capsys, what: str, result, files: int) -> None:
    with capsys.disabled():
        print(f"\n{what}: {files} files, exit code {result.code}, peak memory {result.peak_mb:.0f} MB")


def test_info_gives_every_file_its_documented_outcome(workspace, capsys):
    root, inputs = workspace
    before = snapshot(root)
    result = run_in(root, "info", "--json", "--page-timeout", 5, *inputs)
    assert result.code == 1, result.stderr  # partial: some files failed, all were reported
    reports = json.loads(result.stdout)
    assert [r["path"] for r in reports] == list(inputs)
    assert {r["path"]: r["status"] for r in reports} == {path: s[0] for path, s in inputs.items()}
    errors = one_line_errors(result.stderr)
    failures = sum(1 for r in reports if r["status"] == "failed" and not r.get("pages")) + sum(
        p["status"] != "ok" for r in reports for p in r.get("pages", []))
    assert len(errors) == failures and all(e.startswith("docvl: error: ") for e in errors)
    assert any("zero\\npages.pdf: the PDF has no pages" in e for e in errors)  # the newline is escaped
    assert snapshot(root) == before  # info writes nothing, anywhere
    say(capsys, "docvl info", result, len(inputs))
    assert result.peak_mb < INFO_PEAK_MB

    if not GNARLY.exists():
        return
    by_path = {r["path"]: r for r in reports}
    for name, expected in manifest().items():
        report = by_path[f"gnarly/{name}"]
        if expected["status"] == "failed":
            assert "pages" not in report and report["error"].startswith(f"gnarly/{name}: ")
            continue
        assert report["page_count"] == expected["pages"], name
        failed = [p["page"] for p in report["pages"] if p["status"] != "ok"]
        assert failed == expected["failed_pages"], name
        sizes = sorted((round(p["width_pt"]), round(p["height_pt"])) for p in report["pages"] if p["status"] == "ok")
        want = sorted((round(w), round(hh)) for w, hh in expected["sizes"])
        assert sizes == want, name
        for p in report["pages"]:
            if p["status"] == "ok":
                assert p["visual_tokens"] * 784 <= 2048 * 784  # the default budget, giant pages included


def test_ocr_batch_over_every_hostile_file_completes(workspace, tiny_model, capsys):
    root, inputs = workspace
    before = snapshot(root)
    output = root / "out" / "all.json"
    result = run_in(root, "ocr", *inputs, "--model", tiny_model, *OCR, "--pages", OCR_PAGES,
                    "--password", PASSWORD, "--page-timeout", 5, "-o", output)
    assert result.code == 1, result.stderr
    assert result.stdout == ""  # the data went to the output file
    docs = json.loads(output.read_text(encoding="utf-8"))
    assert [d["source"]["path"] for d in docs] == list(inputs)
    expected = {path: s[1] for path, s in inputs.items()}
    if GNARLY.exists():
        for name, e in manifest().items():
            if e["needs_pass"]:
                expected[f"gnarly/{name}"] = "ok"  # --password opens it
    assert {d["source"]["path"]: d["status"] for d in docs} == expected
    for doc in docs:
        assert doc["schema"] == "docvl/1"
        if doc["status"] == "failed" and not doc["pages"]:
            assert doc["error"]
        for page in doc["pages"]:
            if page["status"] == "ok":
                assert page["width_px"] * page["height_px"] <= 16 * 784 and isinstance(page["text"], str)
            else:
                assert page["error"] and "\n" not in page["error"]
    errors = one_line_errors(result.stderr)
    assert len(errors) == sum(d["status"] != "ok" for d in docs)
    stopped = next(d for d in docs if d["source"]["path"].endswith("renders forever.pdf"))
    assert stopped["pages"][0]["error"].endswith("rendering took longer than 5 s (--page-timeout)")
    # Only the output file is new: no temp files left, nothing in HOME, TMPDIR or beside the inputs.
    assert snapshot(root) == {**before, "out/all.json": output.stat().st_size}
    say(capsys, "docvl ocr", result, len(inputs))
    assert result.peak_mb < OCR_PEAK_MB


@needs_corpus
def test_gnarly_pages_render_and_ocr_with_their_manifest_geometry(workspace, tiny_model):
    """The encrypted file opens with its password and shows its real page; the hostile-cycle file
    keeps page 1 and loses only page 2; the poster is read inside the budget."""
    root, _ = workspace
    names = ["encrypted-user__camelot_health_protected.pdf", "hostile-cycle__pdfjs_Pages-tree-refs.pdf",
             "huge-page__ocrmypdf_poster.pdf"]
    result = run_in(root, "info", "--json", "--password", PASSWORD, *(f"gnarly/{n}" for n in names))
    assert result.code == 1, result.stderr
    encrypted, cycle, poster = json.loads(result.stdout)
    assert encrypted["status"] == "ok" and encrypted["pages"][0]["text_layer"]["verdict"] == "ok"  # decrypted
    assert [p["status"] for p in cycle["pages"]] == ["ok", "failed"]
    assert "cycle in page tree" in cycle["pages"][1]["error"]
    assert (poster["pages"][0]["width_pt"], poster["pages"][0]["height_pt"]) == (18000, 36000)
    assert one_line_errors(result.stderr) == [f"docvl: error: {cycle['pages'][1]['error']}"]


def test_batch_into_an_out_dir_writes_only_there(workspace, tiny_model, capsys):
    root, inputs = workspace
    out = root / "out" / "batch"
    before = snapshot(root)
    result = run_in(root, "ocr", *inputs, "--model", tiny_model, *OCR, "--pages", OCR_PAGES,
                    "--password", PASSWORD, "--page-timeout", 5, "--out-dir", out, "--format", "json")
    assert result.code == 1, result.stderr
    assert result.stdout == ""
    written = {k for k in snapshot(root) if k not in before}
    assert written and all(k.startswith("out/batch/") for k in written)
    assert {k: v for k, v in snapshot(root).items() if k in before} == before  # nothing else changed
    summary = json.loads((out / "docvl-summary.json").read_text(encoding="utf-8"))
    expected = [s[1] for s in inputs.values()]
    if GNARLY.exists():
        expected = [s[1] if not (p.startswith("gnarly/") and manifest()[p[7:]]["needs_pass"]) else "ok"
                    for p, s in inputs.items()]
    assert summary["documents"]["total"] == len(inputs)
    assert summary["documents"]["failed"] == expected.count("failed")
    outputs = sorted(k for k in written if k.endswith(".json") and "/.docvl/" not in k and "docvl-summary" not in k)
    assert len(outputs) == len(inputs) - expected.count("failed")  # one per document with a result
    assert "out/batch/made/new_line, fine.pdf.json" in outputs  # the name's newline neutralised
    assert any(k.startswith("out/batch/__/") for k in outputs)  # the input from above the working folder
    for k in outputs:
        json.loads((root / k).read_text(encoding="utf-8"))
    errors = one_line_errors(result.stderr)
    assert len(errors) == sum(e != "ok" for e in expected) + 1  # and the summary line
    say(capsys, "docvl ocr --out-dir", result, len(inputs))
    assert result.peak_mb < OCR_PEAK_MB
