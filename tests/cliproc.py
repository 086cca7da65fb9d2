"""Run the docvl CLI of this checkout as a separate process, as a user would, and measure it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Runs the CLI (`python -c HEAVY_PROBE ARGS...`) and prints on stderr which heavy modules it imported:
# `HEAVY []` when neither torch nor transformers was loaded.
HEAVY_PROBE = """
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
# The process measures itself: its ru_maxrss as seen by a parent would include the parent's own
# memory at fork (a test process with torch loaded). VmHWM is the high-water mark of one program's
# memory alone; a thread samples it for every descendant too (the render workers, which fork from a
# forkserver, not from docvl), and the program's own is read at exit.
MAIN = """
import atexit, os, sys, threading, time

def _hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return 0

def _descendants():
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid]
        found += kids
        todo += kids
    return found

peak = [0]

def _sample():
    while True:
        peak[0] = max([peak[0]] + [_hwm(p) for p in _descendants()])
        time.sleep(0.2)

def _write():
    with open(os.environ["DOCVL_PEAK_FILE"], "w") as f:
        f.write(str(max(peak[0], _hwm(os.getpid()))))

threading.Thread(target=_sample, daemon=True).start()
atexit.register(_write)
from docvl.cli.app import main
sys.argv[0] = "docvl"
main()
"""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    peak_mb: float  # highest resident memory of the process or of one of its workers


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
