"""`--help` and `--version`: what a newcomer reads first."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cliproc import HEAVY_PROBE, run_docvl

ROOT = Path(__file__).resolve().parents[1]


def help_of(*command: str, columns: int = 80) -> str:
    r = run_docvl(*command, "--help", env={"COLUMNS": str(columns)})
    assert r.code == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("command", [[], ["ocr"], ["info"], ["eval"], ["extract-tables"], ["ground"], ["extract"]])
def test_flags_show_no_type(command):
    text = help_of(*command)
    assert "<bool>" not in text
    flag = {(): "--version", ("info",): "--json", ("eval",): "--json"}.get(tuple(command), "--quiet")
    [line] = [x for x in text.splitlines() if f" {flag} " in x]
    assert line.split(flag, 1)[1].split()[0] not in ("<bool>", "BOOLEAN")  # the help follows the flag


def test_options_with_a_fixed_set_of_values_list_them():
    ocr = help_of("ocr", columns=200)
    for choices in ("json|jsonl|text", "auto|off|only", "none|8bit|4bit", "local|server",
                    "auto, cpu, cuda, cuda:N (GPU N) or mps", "bfloat16, float16 or float32",
                    "sdpa, eager or flash_attention_2", "qwen2-vl, qwen2.5-vl or qwen3-vl"):
        assert choices in ocr, choices
    assert "csv|json|jsonl|xlsx" in help_of("extract-tables", columns=200)
    ground = help_of("ground", columns=200)
    assert "json|jsonl" in ground and "auto|off" in ground
    assert "form-feed line between documents" in " ".join(ocr.split())


def test_a_value_outside_the_choices_is_one_line():
    r = run_docvl("ocr", "examples/invoice.pdf", "--format", "xml", cwd=ROOT)
    assert r.code == 2 and r.stderr == "docvl: error: --format xml: use json, jsonl, text, markdown, pdf, hocr or alto\n"


def test_version_prints_the_package_version_without_loading_torch():
    from docvl import __version__

    proc = subprocess.run([sys.executable, "-c", HEAVY_PROBE, "--version"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"docvl {__version__}\n" == "docvl 0.1.0\n"
    assert "HEAVY []" in proc.stderr
