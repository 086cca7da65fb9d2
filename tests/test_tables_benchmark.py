"""benchmarks/tables_icdar.py runs end to end on two ICDAR 2013 documents, so that it cannot rot."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
CORPUS = SHARED / "corpus" / "icdar2013-eu"


@pytest.mark.skipif(not CORPUS.exists(), reason="needs ../shared/corpus")
def test_tables_benchmark_scores_each_tool_in_one_run(tmp_path):
    corpus = tmp_path / "icdar"
    corpus.mkdir()
    for name in ("eu-001", "eu-027"):  # ruled grids; a table ruled only across
        for suffix in (".pdf", "-str.xml"):
            shutil.copy(CORPUS / f"{name}{suffix}", corpus)
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, ROOT / "benchmarks" / "tables_icdar.py", "--corpus", corpus, "--out", out,
                           "--tools", "docvl text layer,pymupdf find_tables"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["documents"] == 2 and set(report["summary"]) == {"docvl text layer", "pymupdf find_tables"}
    docvl = report["summary"]["docvl text layer"]
    assert docvl["pymupdf_layout_model"] is False  # as the CLI runs it
    assert docvl["f1"] > 0.85 > report["summary"]["pymupdf find_tables"]["f1"]
    assert report["documents_detail"]["docvl text layer"]["eu-027"]["f1"] > 0.8
    assert "docvl text layer" in proc.stdout.splitlines()[1]
