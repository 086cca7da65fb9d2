"""Interrupting a batch job (Ctrl-C, and a kill that gives it no chance) then running it again gives the
outputs of an uninterrupted run; Ctrl-C loses no finished page, a kill leaves no partial file."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docs import text_pdf
from test_batch import outputs

ROOT = Path(__file__).resolve().parents[1]
MIN, MAX = 64 * 784, 192 * 784
DOCS, PAGES = 3, 4


def args(model, docs: Path, out: Path) -> list[str]:
    # Batches of one page: the model's numbers do not depend on which pages share a batch.
    return ["ocr", str(docs), "--out-dir", str(out), "--model", str(model), "--min-pixels", str(MIN),
            "--max-pixels", str(MAX), "--max-new-tokens", "6", "--batch-size", "1", "--workers", "1"]


def start(argv: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", "from docvl.cli.app import main; main()", *argv],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def journaled_pages(out: Path) -> int:
    state = out / ".docvl" / "pages"
    return sum(len(p.read_text().splitlines()) for p in state.glob("*.jsonl")) if state.is_dir() else 0


def finished_pages(out: Path) -> int:
    """Pages that a run has finished: in written documents, or journaled for unfinished ones."""
    return sum(len(doc["pages"]) for doc in outputs(out).values()) + journaled_pages(out)


def interrupt_mid_run(argv: list[str], out: Path, sig: int) -> subprocess.Popen:
    proc = start(argv)
    deadline = time.monotonic() + 120
    while finished_pages(out) < 2:  # the model is running: interrupt now
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    return proc


def run_to_end(tiny_model, docs, out) -> dict:
    """An uninterrupted run (in this process: only the interrupted runs need one of their own)."""
    from typer.testing import CliRunner

    from docvl.cli.app import app

    result = CliRunner().invoke(app, args(tiny_model, docs, out))
    assert result.exit_code == 0, result.stderr
    return json.loads((out / "docvl-summary.json").read_text())


@pytest.fixture(scope="module")
def job(tmp_path_factory, tiny_model):
    """The documents, and the outputs of an uninterrupted run over them."""
    root = tmp_path_factory.mktemp("job")
    docs = root / "docs"
    docs.mkdir()
    for i in range(DOCS):
        text_pdf(docs / f"doc{i}.pdf", pages=PAGES, lines=[f"document {i} line {n}" for n in range(12)])
    run_to_end(tiny_model, docs, root / "reference")
    reference = outputs(root / "reference")
    assert len(reference) == DOCS
    return docs, reference


def test_ctrl_c_writes_what_finished_and_a_rerun_does_only_the_rest(job, tiny_model, tmp_path):
    docs, reference = job
    out = tmp_path / "out"
    proc = interrupt_mid_run(args(tiny_model, docs, out), out, signal.SIGINT)
    err = proc.stderr.read()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert json.loads((out / "docvl-summary.json").read_text())["outcome"] == "interrupted"
    done = finished_pages(out)
    assert 2 <= done < DOCS * PAGES, "the run was not interrupted mid-way"
    summary = run_to_end(tiny_model, docs, out)
    # No page that finished before Ctrl-C went through the model again.
    assert summary["pages"]["inferred"] == DOCS * PAGES - done
    assert outputs(out) == reference
    assert journaled_pages(out) == 0 and not list((out / ".docvl" / "tmp").iterdir())


def test_kill_leaves_no_partial_file_and_a_rerun_completes(job, tiny_model, tmp_path):
    docs, reference = job
    out = tmp_path / "out"
    proc = interrupt_mid_run(args(tiny_model, docs, out), out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    # Whatever is in the folder is whole: every output file is a complete document of the reference.
    for rel, doc in outputs(out).items():
        assert doc == reference[rel]
    assert finished_pages(out) < DOCS * PAGES, "the run was not killed mid-way"
    run_to_end(tiny_model, docs, out)
    assert outputs(out) == reference
    # The killed run's temp files are gone: nothing partial is left anywhere in the folder.
    assert not list((out / ".docvl" / "tmp").iterdir())
    assert sorted(p.name for p in out.iterdir()) == sorted([".docvl", "docvl-summary.json", *reference])
