"""Batch folder jobs: --out-dir, resume, shards, stdin inputs, bad files among good ones."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import SHARED
from docs import page_image, text_pdf

MIN, MAX = 64 * 784, 128 * 784
GNARLY = SHARED / "corpus" / "gnarly"
# Bad files from the shared corpus, and the one line each must get on stderr.
BAD = {
    "not-a-pdf__qpdf_bookmarks-3_text.pdf": "not a PDF or an image",
    "corrupt__pdfjs_poppler-742-0-fuzzed.pdf": "broken PDF",
    "corrupt__pdfjs_poppler-67295-0.pdf": "broken PDF",
    "encrypted-user__camelot_health_protected.pdf": "--password",
    "zero-pages__qpdf_empty.pdf": "no pages",
    "empty__pdfplumber_empty.pdf": "empty file",
}
PARTIAL = "hostile-cycle__pdfjs_Pages-tree-refs.pdf"  # page 2 is a cycle in the page tree


def common(model):
    # --text-layer off: the generated PDFs are born digital, and these pages are for the model.
    return ("--text-layer", "off", "--model", model, "--min-pixels", MIN, "--max-pixels", MAX,
            "--max-new-tokens", 2, "--batch-size", 3)


def good_folder(root: Path) -> list[str]:
    """Good inputs under root; their paths relative to it."""
    root.mkdir()
    text_pdf(root / "a.pdf", pages=2)
    (root / "sub" / "deeper").mkdir(parents=True)
    text_pdf(root / "sub" / "deeper" / "b.pdf", pages=1)
    page_image(300, 400).save(root / "sub" / "c.png")
    (root / "notes.txt").write_text("not an input: no PDF or image suffix")
    return ["a.pdf", "sub/deeper/b.pdf", "sub/c.png"]


def outputs(out: Path) -> dict[str, dict]:
    """Every output document under out (state folder and summary aside), without timings."""
    found = {}
    for path in sorted(out.rglob("*.json")):
        rel = path.relative_to(out).as_posix()
        if rel.startswith(".docvl/") or rel.startswith("docvl-summary"):
            continue
        found[rel] = strip_timings(json.loads(path.read_text()))
    return found


def strip_timings(record: dict) -> dict:
    record = {k: v for k, v in record.items() if k != "seconds"}
    record["pages"] = [{k: v for k, v in p.items() if k != "seconds"} for p in record.get("pages", [])]
    return record


@pytest.mark.skipif(not GNARLY.is_dir(), reason="needs ../shared/corpus/gnarly")
def test_folder_of_good_and_bad_files_writes_every_good_result(run_cli, tiny_model, tmp_path):
    docs = tmp_path / "docs"
    good = good_folder(docs)
    for name in [*BAD, PARTIAL]:
        shutil.copy(GNARLY / name, docs / "sub" / name)
    out = tmp_path / "out"
    code, stdout, err = run_cli("ocr", docs, "--out-dir", out, *common(tiny_model))
    assert code == 1, err  # partial
    assert stdout == ""
    lines = err.strip().splitlines()
    for name, fragment in BAD.items():
        [line] = [line for line in lines if name in line]
        assert line.startswith(f"docvl: error: {docs / 'sub' / name}: ") and fragment in line
    [line] = [line for line in lines if PARTIAL in line]
    assert "1 of 2 pages failed" in line
    assert len(lines) == len(BAD) + 2  # one line per bad file, one per partial, the summary
    written = outputs(out)
    # One output per readable input, mirroring its path; failed files get none.
    assert sorted(written) == sorted([f"{g}.json" for g in good] + [f"sub/{PARTIAL}.json"])
    for g in good:
        assert written[f"{g}.json"]["status"] == "ok"
    cycle = written[f"sub/{PARTIAL}.json"]
    assert [p["status"] for p in cycle["pages"]] == ["ok", "failed"]
    summary = json.loads((out / "docvl-summary.json").read_text())
    assert summary["outcome"] == "partial"
    assert summary["documents"] == {"total": 10, "ok": 3, "partial": 1, "failed": 6, "skipped": 0}
    assert summary["pages"]["inferred"] == 5 and summary["pages"]["ok"] == 5
    assert sorted(Path(f["path"]).name for f in summary["failures"]) == sorted([*BAD, PARTIAL])
    assert not list((out / ".docvl" / "tmp").iterdir())

    # A rerun skips what finished ok (keyed by content and options) and tries the failed files and the
    # partial document's failed page again; its ok page comes from the journal, not the model.
    code, _, err = run_cli("ocr", docs, "--out-dir", out, *common(tiny_model))
    assert code == 1
    summary = json.loads((out / "docvl-summary.json").read_text())
    assert summary["documents"] == {"total": 10, "ok": 0, "partial": 1, "failed": 6, "skipped": 3}
    assert summary["pages"]["inferred"] == 0 and summary["pages"]["resumed"] == 1
    assert outputs(out) == written
    # Options that change results make a document new again.
    code, _, err = run_cli("ocr", docs, "--out-dir", out, "--glob", "a.pdf", *common(tiny_model)[:-2],
                           "--batch-size", 3, "--lang", "de")
    assert code == 0, err
    summary = json.loads((out / "docvl-summary.json").read_text())
    assert summary["documents"]["ok"] == 1 and summary["documents"]["skipped"] == 0
    assert json.loads((out / "a.pdf.json").read_text())["options"]["lang"] == "de"


def test_overwrite_and_shards(run_cli, tiny_model, tmp_path):
    docs = tmp_path / "docs"
    good = good_folder(docs)
    out = tmp_path / "out"
    seen = []
    for i in (1, 2):
        code, _, err = run_cli("ocr", docs, "--out-dir", out, "--shard", f"{i}/2", *common(tiny_model))
        assert code == 0, err
        summary = json.loads((out / f"docvl-summary-{i}of2.json").read_text())
        seen.append(summary["documents"]["ok"])
    assert sum(seen) == len(good)  # the shards split the inputs, every input in exactly one
    assert sorted(outputs(out)) == sorted(f"{g}.json" for g in good)
    code, _, err = run_cli("ocr", docs, "--out-dir", out, "--overwrite", *common(tiny_model))
    assert code == 0, err
    summary = json.loads((out / "docvl-summary.json").read_text())
    assert summary["documents"]["ok"] == len(good) and summary["pages"]["inferred"] == 4
    code, _, err = run_cli("ocr", docs, "--out-dir", out, "--shard", "3/2", *common(tiny_model))
    assert code == 2 and "--shard" in err


def test_paths_and_pdf_bytes_on_stdin(run_cli, tiny_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text_pdf(tmp_path / "one.pdf", pages=1)
    text_pdf(tmp_path / "two.pdf", pages=1)
    (tmp_path / "list.txt").write_text("two.pdf\n")
    code, stdout, err = run_cli("ocr", "-", "@list.txt", "--format", "jsonl", *common(tiny_model),
                                input="one.pdf\nmissing.pdf\n")
    assert code == 1
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [(r["source"]["path"], r["status"]) for r in records] == [
        ("one.pdf", "ok"), ("missing.pdf", "failed"), ("two.pdf", "ok")]
    assert err.strip() == "docvl: error: missing.pdf: no such file"
    code, stdout, err = run_cli("ocr", "-", *common(tiny_model), input=(tmp_path / "one.pdf").read_bytes())
    assert code == 0, err
    record = json.loads(stdout)
    assert record["source"]["path"] == "-" and record["source"]["page_count"] == 1


def test_an_input_that_does_not_exist_leaves_no_out_dir_behind(run_cli, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = run_cli("ocr", tmp_path / "scans", "--out-dir", out, "--text-layer", "only")
    assert (code, stdout) == (3, "") and err == f"docvl: error: {tmp_path / 'scans'}: no such file or folder\n"
    assert not out.exists()
