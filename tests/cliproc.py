"""Run the docvl CLI of this checkout as a separate process, as a user would, and measure it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The process measures itself: its ru_maxrss as seen by a parent would include the parent's own
# memory at fork (a test process with torch loaded). VmHWM is the high-water mark of this program's
# memory alone; RUSAGE_CHILDREN adds the render workers (registered first, so this runs after they
# are stopped and waited for).
MAIN = """
import atexit, os, resource, sys

def _peak():
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.environ["DOCVL_PEAK_FILE"], "w") as f:
        f.write(str(max(hwm, workers)))

atexit.register(_peak)
from docvl.cli.app import main
sys.argv[0] = "docvl"
main()
"""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    peak_mb: float  # highest resident memory of the process, or of one of its render workers


def run_docvl(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = 300) -> Result:
    fd, peak_file = tempfile.mkstemp(prefix="docvl-peak-")
    os.close(fd)
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {}),
               "DOCVL_PEAK_FILE": peak_file}
    try:
        proc = subprocess.run([sys.executable, "-c", MAIN, *map(str, args)], cwd=cwd, env=environ,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        peak_kb = int(Path(peak_file).read_text() or 0)
    finally:
        os.unlink(peak_file)
    return Result(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"), peak_kb / 1024)
