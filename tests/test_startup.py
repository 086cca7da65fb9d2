"""`docvl --help` and `docvl info` must not import torch and must answer fast."""

import subprocess
import sys
import time

from cliproc import HEAVY_PROBE
from docs import text_pdf



def _run(*args):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", HEAVY_PROBE, *args], capture_output=True, text=True)
    return proc, time.perf_counter() - start


def test_help_and_info_do_not_import_torch(tmp_path):
    pdf = text_pdf(tmp_path / "t.pdf", pages=1)
    for args in (["--help"], ["ocr", "--help"], ["info", str(pdf)]):
        proc, seconds = _run(*args)
        assert proc.returncode == 0, proc.stderr
        assert "HEAVY []" in proc.stderr
        assert seconds < 2.0  # a cold interpreter included; typically ~0.3 s


LIBRARY_PROBE = """
import sys
import docvl
doc = docvl.ocr(sys.argv[1], text_layer="only")
print(doc.status, sorted(m for m in sys.modules if m == "torch" or m.startswith(("docvl.cli", "typer", "rich"))))
"""


def test_the_library_never_imports_the_cli_and_born_digital_pages_need_no_torch(tmp_path):
    pdf = text_pdf(tmp_path / "t.pdf", pages=1)
    proc = subprocess.run([sys.executable, "-c", LIBRARY_PROBE, str(pdf)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok []"
