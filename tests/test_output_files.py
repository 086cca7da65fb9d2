"""Output files and what stdout carries: file modes by the umask, and `--format text` documents."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cliproc import MAIN
from docs import text_pdf

ROOT = Path(__file__).resolve().parents[1]
INVOICE = ROOT / "examples" / "invoice.pdf"


def docvl(*args, umask: int = 0o022, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "DOCVL_PEAK_FILE": os.devnull}
    return subprocess.run([sys.executable, "-c", MAIN, *map(str, args)], env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, preexec_fn=lambda: os.umask(umask))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_are_created_with_the_users_umask(tmp_path, umask, expected):
    pdf = text_pdf(tmp_path / "doc.pdf", pages=1)
    proc = docvl("ocr", pdf, "-o", tmp_path / "one.json", umask=umask)
    assert proc.returncode == 0, proc.stderr
    proc = docvl("ocr", pdf, INVOICE, "--out-dir", tmp_path / "out", "-q", umask=umask)
    assert proc.returncode == 0, proc.stderr
    proc = docvl("extract-tables", INVOICE, "-o", tmp_path / "tables.csv", umask=umask)
    assert proc.returncode == 0, proc.stderr
    written = [tmp_path / "one.json", *(p for p in (tmp_path / "out").rglob("*") if p.is_file()),
               *tmp_path.glob("tables*.csv")]
    assert len(written) >= 4  # -o, two --out-dir results and the summary, the CSV
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in written} == \
        {str(p.relative_to(tmp_path)): oct(expected) for p in written}


def test_a_failed_text_run_writes_nothing_on_stdout(tmp_path):
    proc = docvl("ocr", tmp_path / "missing.pdf", "--format", "text")
    assert proc.returncode == 3 and proc.stdout == b""
    broken = tmp_path / "broken.pdf"
    broken.write_text("not a pdf")
    proc = docvl("ocr", tmp_path / "missing.pdf", broken, "--format", "text")
    assert proc.returncode == 1 and proc.stdout == b""
    assert len(proc.stderr.decode().splitlines()) == 2


def test_text_separates_documents_with_a_form_feed_line(tmp_path):
    one = text_pdf(tmp_path / "one.pdf", pages=2, lines=["First document."])
    two = text_pdf(tmp_path / "two.pdf", pages=1, lines=["Second document."])
    proc = docvl("ocr", one, tmp_path / "missing.pdf", two, "--format", "text")
    assert proc.returncode == 1  # the missing file failed; its error is on stderr, not in the text
    # Pages within a document are separated by a form feed ending the line; documents by a form-feed line.
    assert proc.stdout.decode() == "First document.\f\nFirst document.\n\f\nSecond document.\n"
    proc = docvl("ocr", two, "--format", "text")
    assert proc.returncode == 0 and proc.stdout.decode() == "Second document.\n"
