"""docvl's Typer application. Heavy modules (torch, transformers) load only inside commands that
need a model, so `docvl --help` and `docvl info` start fast."""

from __future__ import annotations

import functools
import sys
from typing import Annotated

import typer

from ..budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, Budget
from ..engines import DEFAULT_MODEL
from ..errors import DocvlError, ExitCode, UsageError
from . import options as o

app = typer.Typer(
    name="docvl",
    help="Document intelligence with Qwen2-VL: OCR, tables and grounding from PDFs and images.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def command(fn):
    """Register a command whose DocvlErrors become one line on stderr and their exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DocvlError as e:
            print(f"docvl: error: {e.message}", file=sys.stderr)
            raise typer.Exit(int(e.code)) from None

    return app.command()(wrapper)


def make_budget(min_pixels: int, max_pixels: int) -> Budget:
    try:
        return Budget(min_pixels, max_pixels)
    except ValueError as e:
        raise UsageError(str(e)) from None


@command
def ocr(
    files: o.Files,
    lang: Annotated[str | None, typer.Option("--lang", help="Language code of the text, e.g. ko, ja, de.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json, jsonl or text.")] = "json",
    output: o.Output = None,
    pages: o.Pages = None,
    password: o.Password = None,
    min_pixels: o.MinPixels = DEFAULT_MIN_PIXELS,
    max_pixels: o.MaxPixels = DEFAULT_MAX_PIXELS,
    model: o.Model = DEFAULT_MODEL,
    device: o.Device = "auto",
    dtype: o.Dtype = "auto",
    quant: o.Quant = "none",
    gpus: o.Gpus = None,
    max_memory: o.MaxMemory = None,
    batch_size: o.BatchSize = 4,
    max_new_tokens: o.MaxNewTokens = 1024,
    trust_remote_code: o.TrustRemoteCode = False,
    prompt_file: o.PromptFile = None,
) -> None:
    """OCR: the text of every page, as JSON (default), JSONL or plain text."""
    from ..tasks.ocr import ocr_task

    if fmt not in ("json", "jsonl", "text"):
        raise UsageError(f"--format {fmt}: use json, jsonl or text")
    task = ocr_task(lang, prompt_file)
    _run_task(task, files, fmt, output, pages, password, make_budget(min_pixels, max_pixels),
              batch_size, dict(model=model, device=device, dtype=dtype, quant=quant, gpus=gpus,
                               max_memory=max_memory, max_new_tokens=max_new_tokens,
                               trust_remote_code=trust_remote_code))


def _run_task(task, files, fmt, output, pages, password, budget, batch_size, engine_kwargs) -> None:
    from ..output import DocumentSink
    from ..runner import Runner, RunOptions

    def engine_factory():
        from ..engines.local import LocalEngine, LocalOptions

        return LocalEngine(LocalOptions(**engine_kwargs), budget)

    runner = Runner(task, engine_factory, RunOptions(budget, pages, password, batch_size))
    sink = DocumentSink(fmt, output)
    failed = partial = 0
    for record in runner.run(files):
        sink.add(record)
        if record["status"] == "failed":
            failed += 1
        elif record["status"] == "partial":
            partial += 1
        if record.get("error"):
            print(f"docvl: {record['source']['path']}: {record['error']}" if record["status"] != "failed"
                  else f"docvl: error: {record['error']}", file=sys.stderr)
    sink.close()
    raise typer.Exit(exit_code(len(files), failed, partial))


def exit_code(total: int, failed: int, partial: int) -> int:
    if failed == 0 and partial == 0:
        return ExitCode.OK
    if failed == total and total == 1:
        return ExitCode.INPUT
    return ExitCode.PARTIAL


@command
def info(
    files: o.Files,
    pages: o.Pages = None,
    password: o.Password = None,
    min_pixels: o.MinPixels = DEFAULT_MIN_PIXELS,
    max_pixels: o.MaxPixels = DEFAULT_MAX_PIXELS,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Pages, sizes, scan resolution, text layer and visual-token cost; loads no model."""
    from ..inspect import inspect_document, print_info

    budget = make_budget(min_pixels, max_pixels)
    reports = [inspect_document(f, budget, pages, password) for f in files]
    print_info(reports, as_json)
    failed = sum(r["status"] == "failed" for r in reports)
    raise typer.Exit(exit_code(len(files), failed, 0))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        print("docvl: interrupted", file=sys.stderr)
        sys.exit(int(ExitCode.INTERRUPTED))
