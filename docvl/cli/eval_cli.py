"""`docvl eval`: score outputs against ground truth; loads no model."""

import sys
from typing import Annotated, Optional

import typer

from ..errors import DocvlError, InputError
from .common import Output, command, exit_code


@command(name="eval")
def eval_runs(
    runs: Annotated[list[str], typer.Argument(help="docvl JSON or JSONL outputs; several are compared side by side.",
                                              show_default=False)],
    truth: Annotated[Optional[list[str]], typer.Option(
        "--truth", help="Folder of ground truth (STEM.txt, STEM.json, STEM-str.xml); repeat for several.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    output: Output = None,
) -> None:
    """Score outputs: OCR CER/WER, key fields, table cell adjacency; born-digital PDFs are their own truth."""
    from pathlib import Path

    from ..evaluate import evaluate, read_run
    from ..evaluate.report import write_report

    for folder in truth or []:
        if not Path(folder).is_dir():
            raise InputError(f"{folder}: --truth needs a folder of ground-truth files")
    loaded, failed = [], 0
    for path in runs:
        try:
            loaded.append((path, read_run(path)))
        except DocvlError as e:
            failed += 1
            print(f"docvl: error: {e.message}", file=sys.stderr)
    if loaded:
        write_report(evaluate(loaded, truth or []), as_json, output)
    raise typer.Exit(exit_code(len(runs), failed, 0))
