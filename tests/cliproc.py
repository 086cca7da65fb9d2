"""Run the docvl CLI of this checkout as a separate process, as a user would, and measure it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAIN = "import sys; from docvl.cli.app import main; sys.argv[0] = 'docvl'; main()"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    peak_mb: float  # ru_maxrss of the process and of all it waited for (its render workers)


def run_docvl(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = 300) -> Result:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", MAIN, *map(str, args)], cwd=cwd, env=environ,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            # wait4 rather than Popen.wait: it also gives the process's resource usage.
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode == -9:
            raise AssertionError(f"docvl {' '.join(map(str, args))} did not finish in {timeout} s")
        out.seek(0)
        err.seek(0)
        return Result(proc.returncode, out.read().decode("utf-8"), err.read().decode("utf-8"),
                      usage.ru_maxrss / 1024)
