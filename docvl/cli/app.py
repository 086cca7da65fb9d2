"""docvl's command line. Heavy modules (torch, transformers) load only inside commands that need a
model, so `docvl --help` and `docvl info` start fast."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS
from ..errors import ExitCode, UsageError
from ..config import Config
from .common import Files, Output, app, command, exit_code, make_budget, run_task, task_command
from .common import DEFAULT_PAGE_TIMEOUT, MaxPixels, MinPixels, Pages, PageTimeout, Password, TextLayer


@task_command
def ocr(
    files: Files,
    lang: Annotated[str | None, typer.Option("--lang", help="Language code of the text, e.g. ko, ja, de.")] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="json|jsonl|text|markdown|pdf|hocr|alto", help=(
        "JSON, JSONL (a document a line) or text: the pages' text, a form feed between pages and a "
        "form-feed line between documents (a document that failed has no text; its error is on stderr). "
        "markdown: the same, of the pages' Markdown (implies --markdown). "
        "With line boxes: pdf (the input with an invisible text layer), hocr or alto."))] = "json",
    output: Output = None,
    boxes: Annotated[bool, typer.Option("--boxes", help="Each line of text with its box in page coordinates.")] = False,
    text_layer: TextLayer = "auto",
    markdown: Annotated[bool, typer.Option("--markdown", help=(
        "Each page's Markdown too: headings, lists, tables, paragraphs joined; running headers, footers "
        "and page numbers left out (kept as \"furniture\"). See docs/markdown.md."))] = False,
    *,
    config: Config,
) -> None:
    """OCR: the text of every page, as JSON (default), JSONL, plain text, Markdown, a searchable PDF, hOCR or ALTO."""
    from ..output import DocumentSink
    from ..ocr_output import FORMATS, OcrFileSink
    from ..tasks.ocr import ocr_task
    from ..textlayer.answer import with_text_layer

    if fmt not in ("json", "jsonl", "text", "markdown", *FORMATS):
        raise UsageError(f"--format {fmt}: use json, jsonl, text, markdown, pdf, hocr or alto")
    markdown = markdown or fmt == "markdown"
    if fmt not in FORMATS:
        sink = DocumentSink(fmt, output)
    else:
        boxes = True  # the text layer and hOCR/ALTO are made of the lines' boxes
        if not config.out_dir:
            if fmt == "pdf" and output is None:
                raise UsageError("--format pdf writes a PDF file; give it with -o FILE.pdf (or -o - for stdout)")
            if len(files) > 1 or any(f.startswith("@") or Path(f).is_dir() for f in files):
                raise UsageError(f"--format {fmt} writes one document per file; for several inputs use --out-dir")
        sink = OcrFileSink(fmt, output, replace=text_layer == "off")
    task = with_text_layer(ocr_task(lang, config.prompt_file, boxes, markdown), "lines" if boxes else "text",
                           text_layer, markdown)
    if fmt in FORMATS:
        task.finish = sink.finish
    run_task(task, files, sink, config)


@command
def info(
    files: Files,
    pages: Pages = None,
    password: Password = None,
    min_pixels: MinPixels = DEFAULT_MIN_PIXELS,
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    page_timeout: PageTimeout = DEFAULT_PAGE_TIMEOUT,
) -> None:
    """Pages, sizes, scan resolution, text layer and visual-token cost; loads no model."""
    from ..errors import InputError
    from ..inputs import listed_inputs
    from ..inspect import inspect_documents, print_info

    budget = make_budget(min_pixels, max_pixels)
    # The same inputs as ocr: folders, @list.txt, and '-' (paths on stdin, or a PDF's bytes).
    with listed_inputs(files, stdin=sys.stdin.buffer) as inputs:
        reports = list(inspect_documents(inputs, budget, pages, password, page_timeout or None))
    if not reports:
        raise InputError(f"{' '.join(files)}: no PDF or image found (folders are searched for PDF and image files)")
    print_info(reports, as_json)
    failed = sum(r["status"] == "failed" for r in reports)
    partial = sum(r["status"] == "partial" for r in reports)
    raise typer.Exit(exit_code(len(reports), failed, partial))


from . import eval_cli, tasks_cli  # noqa: E402,F401  (register eval; extract-tables, ground, extract)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"docvl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", metavar="", is_eager=True, callback=_print_version,
                                          help="Print docvl's version and exit.")] = False,
) -> None:
    pass  # the app's help is Typer(help=...) in common.py


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        print("docvl: interrupted", file=sys.stderr)
        sys.exit(int(ExitCode.INTERRUPTED))
