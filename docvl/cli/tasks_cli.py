"""Commands for tables, grounding and key fields: `extract-tables`, `ground`, `extract`."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import Config
from ..errors import UsageError
from .common import Files, Output, TextLayer, run_task, task_command

TABLE_FORMATS = ("csv", "json", "jsonl", "xlsx")
JsonFormat = Annotated[str, typer.Option("--format", metavar="json|jsonl", help="JSON, or JSONL (a document a line).")]


def _json_format(fmt: str) -> str:
    if fmt not in ("json", "jsonl"):
        raise UsageError(f"--format {fmt}: use json or jsonl")
    return fmt


def _table_format(fmt: Optional[str], output: Optional[str]) -> str:
    if fmt is None:
        suffix = Path(output).suffix.lower() if output and output != "-" else ""
        fmt = {".json": "json", ".jsonl": "jsonl", ".xlsx": "xlsx"}.get(suffix, "csv")
    if fmt not in TABLE_FORMATS:
        raise UsageError(f"--format {fmt}: use {', '.join(TABLE_FORMATS)}")
    if fmt == "xlsx":
        if output in (None, "-"):
            raise UsageError("--format xlsx writes a workbook file; give it with -o FILE.xlsx")
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise UsageError("--format xlsx needs openpyxl: pip install 'docvl[xlsx]'") from None
    return fmt


@task_command
def extract_tables(
    files: Files,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", metavar="csv|json|jsonl|xlsx", help="By default from -o's suffix, else csv.")] = None,
    output: Output = None,
    raw_cells: Annotated[bool, typer.Option(
        "--raw-cells", help="Write cells as the model wrote them, even those a spreadsheet would run.")] = False,
    join_pages: Annotated[bool, typer.Option(
        "--join-pages", help="Join a table continued on the next page into one table (one CSV file); by "
                             "default the continuation is linked to it in JSON.")] = False,
    text_layer: TextLayer = "auto",
    *,
    config: Config,
) -> None:
    """Tables: CSV (one file per table), JSON with every table's page, header, rows and box, or xlsx."""
    from ..output import DocumentSink
    from ..table_output import TableSink
    from ..tasks.tables import tables_task
    from ..textlayer.answer import with_text_layer

    fmt = _table_format(fmt, output)
    if config.out_dir and fmt in ("csv", "xlsx"):
        raise UsageError(f"extract-tables --out-dir writes one file per input: use --format json or jsonl "
                         f"there, or -o FILE.{fmt} for {fmt}")
    sink = DocumentSink(fmt, output) if fmt in ("json", "jsonl") else TableSink(fmt, output, raw_cells)
    run_task(with_text_layer(tables_task(config.prompt_file, join_pages), "tables", text_layer), files, sink, config)


@task_command
def ground(
    files: Files,
    query: Annotated[str, typer.Argument(help="What to find, e.g. \"the signature block\".", show_default=False)],
    all_matches: Annotated[bool, typer.Option("--all", help="Every match on each page, not only the best.")] = False,
    overlay: Annotated[Optional[str], typer.Option(
        "--overlay", help="Write PNGs of the pages with the boxes drawn into this folder.")] = None,
    fmt: JsonFormat = "json",
    output: Output = None,
    text_layer: Annotated[str, typer.Option(
        "--text-layer", metavar="auto|off",
        help="auto: on born-digital pages, a literal QUERY's box snaps to the PDF's words; off: "
             "the model's boxes as they are.")] = "auto",
    *,
    config: Config,
) -> None:
    """Grounding: boxes of what QUERY describes, in PDF points and pixels of the rendered page."""
    from ..output import DocumentSink
    from ..overlay import Overlays
    from ..tasks.grounding import ground_task

    if overlay and config.out_dir:
        raise UsageError("ground --overlay writes into its own folder; run it without --out-dir")
    overlays = Overlays(overlay) if overlay else None
    task = ground_task(query, all_matches, config.prompt_file, text_layer, overlays)
    try:
        run_task(task, files, DocumentSink(_json_format(fmt), output), config)
    except typer.Exit:
        if overlays is not None and not overlays.boxed_pages:  # an empty or missing folder would say nothing
            print("docvl: no box found; --overlay wrote nothing", file=sys.stderr)
        raise


@task_command
def extract(
    files: Files,
    fields: Annotated[Optional[str], typer.Option(
        "--fields", help="Comma-separated field names, e.g. invoice_number,date,total.")] = None,
    schema: Annotated[Optional[str], typer.Option(
        "--schema", help="JSON file of fields with types (JSON Schema properties or name -> type).")] = None,
    fmt: JsonFormat = "json",
    output: Output = None,
    *,
    config: Config,
) -> None:
    """Key fields as JSON: exactly the fields asked for, null when absent, typed as the schema says."""
    from ..output import DocumentSink
    from ..tasks.extract import extract_task, specs_from_names, specs_from_schema

    if (fields is None) == (schema is None):
        raise UsageError("extract: give either --fields a,b,c or --schema FILE")
    specs = specs_from_names(fields) if fields is not None else specs_from_schema(schema)
    sink = DocumentSink(_json_format(fmt), output)
    run_task(extract_task(specs, config.prompt_file), files, sink, config)
