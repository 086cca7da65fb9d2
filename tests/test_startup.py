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
