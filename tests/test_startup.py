"""`docvl --help` and `docvl info` must not import torch and must answer fast."""

import subprocess
import sys
import time

from docs import text_pdf

PROBE = """
import sys
from docvl.cli.app import app
try:
    app(sys.argv[1:])
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in ("torch", "transformers", "torchvision") if m in sys.modules)
print("HEAVY", heavy, file=sys.stderr)
sys.exit(code)
"""


def _run(*args):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True)
    return proc, time.perf_counter() - start


def test_help_and_info_do_not_import_torch(tmp_path):
    pdf = text_pdf(tmp_path / "t.pdf", pages=1)
    for args in (["--help"], ["ocr", "--help"], ["info", str(pdf)]):
        proc, seconds = _run(*args)
        assert proc.returncode == 0, proc.stderr
        assert "HEAVY []" in proc.stderr
        assert seconds < 2.0  # a cold interpreter included; typically ~0.3 s
