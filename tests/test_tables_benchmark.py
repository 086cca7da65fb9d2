"""benchmarks/tables.py runs end to end on two small sets, so that it cannot rot: every tool in its own
process, sets given as NAME=FOLDER, kinds from a MANIFEST.tsv or, without one, from the PDF's rulings."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
ICDAR = SHARED / "corpus" / "icdar2013-eu"
PUBLIC = SHARED / "corpus" / "tables-public"


@pytest.mark.skipif(not ICDAR.exists() or not PUBLIC.exists(), reason="needs ../shared/corpus")
def test_tables_benchmark_scores_each_tool_on_each_set_in_one_run(tmp_path):
    icdar = tmp_path / "icdar"
    icdar.mkdir()
    for name in ("eu-001", "eu-027"):  # ruled grids; a table ruled only across
        for suffix in (".pdf", "-str.xml", "-reg.xml"):
            shutil.copy(ICDAR / f"{name}{suffix}", icdar)
    public = tmp_path / "public"
    public.mkdir()
    for suffix in (".pdf", "-str.xml"):
        shutil.copy(PUBLIC / "camelot" / f"mexican_towns{suffix}", public)
    (public / "MANIFEST.tsv").write_text("file\tkind\nmexican_towns.pdf\tunruled\n")
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, ROOT / "benchmarks" / "tables.py", "--set", f"icdar={icdar}",
                           "--set", f"public={public}", "--out", out,
                           "--tools", "docvl text layer,pymupdf find_tables"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert list(report["sets"]) == ["icdar", "public"]
    icdar_run, public_run = (report["sets"][s] for s in ("icdar", "public"))
    assert icdar_run["documents"] == 2 and set(icdar_run["tools"]) == {"docvl text layer", "pymupdf find_tables"}
    assert set(icdar_run["kinds"].values()) <= {"ruled", "partly ruled", "unruled"}  # read from the PDFs
    assert public_run["kinds"] == {"mexican_towns": "unruled"}  # from the manifest
    docvl = icdar_run["tools"]["docvl text layer"]
    assert docvl["pymupdf_layout_model"] is False  # as the CLI runs it
    assert docvl["f1"] > 0.85 > icdar_run["tools"]["pymupdf find_tables"]["f1"]
    assert docvl["per_document_f1"]["eu-027"] > 0.8 and docvl["seconds"] > 0
    assert public_run["tools"]["docvl text layer"]["by_kind"]["unruled"]["f1"] > 0.9
    assert "| icdar (2) | docvl text layer |" in proc.stdout
