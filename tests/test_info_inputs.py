"""`docvl info` takes the inputs `ocr` takes: '-' (paths on stdin, or a PDF's bytes), folders, @list.txt."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cliproc import MAIN
from docs import scan_pdf, text_pdf

ROOT = Path(__file__).resolve().parents[1]


def info(*args, stdin: bytes = b""):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "DOCVL_PEAK_FILE": os.devnull}
    return subprocess.run([sys.executable, "-c", MAIN, "info", *map(str, args)], input=stdin, env=env,
                          capture_output=True, timeout=120)


def test_info_reads_a_pdfs_bytes_on_stdin(tmp_path):
    pdf = text_pdf(tmp_path / "doc.pdf", pages=2)
    proc = info("-", "--json", stdin=pdf.read_bytes())
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["path"] == "-" and report["kind"] == "pdf" and report["page_count"] == 2


def test_info_reads_paths_on_stdin(tmp_path):
    one = text_pdf(tmp_path / "one.pdf", pages=1)
    two = scan_pdf(tmp_path / "two.pdf", dpi=100)
    proc = info("-", "--json", stdin=f"{one}\n{two}\n".encode())
    assert proc.returncode == 0, proc.stderr
    reports = json.loads(proc.stdout)
    assert [r["path"] for r in reports] == [str(one), str(two)]
    assert [r["pages"][0]["text_layer"]["verdict"] for r in reports] == ["ok", "none"]


def test_info_searches_folders_and_reads_list_files(tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    text_pdf(tmp_path / "docs" / "a.pdf", pages=1)
    text_pdf(tmp_path / "docs" / "sub" / "b.pdf", pages=1)
    (tmp_path / "list.txt").write_text(f"{tmp_path / 'docs' / 'a.pdf'}\n")
    proc = info(tmp_path / "docs", f"@{tmp_path / 'list.txt'}", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [Path(r["path"]).name for r in json.loads(proc.stdout)] == ["a.pdf", "b.pdf", "a.pdf"]


def test_info_on_a_folder_without_documents_is_one_line(tmp_path):
    proc = info(tmp_path)
    assert proc.returncode == 3 and proc.stdout == b""
    assert proc.stderr.decode().splitlines() == [
        f"docvl: error: {tmp_path}: no PDF or image found (folders are searched for PDF and image files)"]
