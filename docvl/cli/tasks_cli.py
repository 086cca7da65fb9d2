"""Commands for tables, grounding and key fields: `extract-tables`, `ground`, `extract`."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .common import Files, Output, PromptFile, Settings, TextLayer, run_task, task_command

TABLE_FORMATS = ("csv", "json", "jsonl", "xlsx")
JsonFormat = Annotated[str, typer.Option("--format", help="json or jsonl.")]


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
        "--format", help="csv, json, jsonl or xlsx; by default from -o's suffix, else csv.")] = None,
    output: Output = None,
    raw_cells: Annotated[bool, typer.Option(
        "--raw-cells", help="Write cells as the model wrote them, even those a spreadsheet would run.")] = False,
    join_pages: Annotated[bool, typer.Option(
        "--join-pages", help="Join a table continued on the next page into one table (one CSV file); by "
                             "default the continuation is linked to it in JSON.")] = False,
    prompt_file: PromptFile = None,
    text_layer: TextLayer = "auto",
    *,
    settings: Settings,
) -> None:
    """Tables: CSV (one file per table), JSON with every table's page, header, rows and box, or xlsx."""
    from ..output import DocumentSink
    from ..table_output import TableSink
    from ..tasks.tables import tables_task
    from ..textlayer.answer import with_text_layer

    fmt = _table_format(fmt, output)
    if settings.batch.out_dir and fmt in ("csv", "xlsx"):
        raise UsageError(f"extract-tables --out-dir writes one file per input: use --format json or jsonl "
                         f"there, or -o FILE.{fmt} for {fmt}")
    sink = DocumentSink(fmt, output) if fmt in ("json", "jsonl") else TableSink(fmt, output, raw_cells)
    run_task(with_text_layer(tables_task(prompt_file, join_pages), "tables", text_layer), files, sink, settings)


@task_command
def ground(
    files: Files,
    query: Annotated[str, typer.Argument(help="What to find, e.g. \"the signature block\".", show_default=False)],
    all_matches: Annotated[bool, typer.Option("--all", help="Every match on each page, not only the best.")] = False,
    overlay: Annotated[Optional[str], typer.Option(
        "--overlay", help="Write PNGs of the pages with the boxes drawn into this folder.")] = None,
    fmt: JsonFormat = "json",
    output: Output = None,
    prompt_file: PromptFile = None,
    text_layer: Annotated[str, typer.Option(
        "--text-layer", help="auto: on born-digital pages, a literal QUERY's box snaps to the PDF's words; off: "
                             "the model's boxes as they are.")] = "auto",
    *,
    settings: Settings,
) -> None:
    """Grounding: boxes of what QUERY describes, in PDF points and pixels of the rendered page."""
    from ..output import DocumentSink
    from ..tasks.grounding import ground_task

    if not query.strip():
        raise UsageError("ground: the query is empty; describe what to find, e.g. \"the total amount\"")
    if text_layer not in ("auto", "off"):
        raise UsageError(f"--text-layer {text_layer}: ground takes auto or off (it needs the model)")
    task = ground_task(query.strip(), all_matches, prompt_file)
    task.options["text_layer"] = text_layer
    sink = DocumentSink(_json_format(fmt), output)
    if overlay:
        from ..overlay import OverlaySink

        if settings.batch.out_dir:
            raise UsageError("ground --overlay writes into its own folder; run it without --out-dir")

        sink = OverlaySink(sink, overlay, settings.budget, settings.password)
    if text_layer == "auto":
        sink = _SnapToTextLayer(sink, query.strip(), settings.password)
    run_task(task, files, sink, settings)


class _SnapToTextLayer:
    """Snaps the model's boxes on born-digital pages to the words of a literal query, before the
    records are drawn or written (to stdout or -o through add, to --out-dir through render)."""

    def __init__(self, inner, query: str, password: Optional[str]):
        self.inner, self.query, self.password = inner, query, password

    def __getattr__(self, name: str):  # fmt, out, suffix, close: the inner sink's
        return getattr(self.inner, name)

    def _snap(self, record: dict) -> dict:
        from ..textlayer.snap import snap_record

        snap_record(record, self.query, self.password)
        return record

    def add(self, record: dict) -> None:
        self.inner.add(self._snap(record))

    def render(self, records):
        return self.inner.render([self._snap(r) for r in records])


@task_command
def extract(
    files: Files,
    fields: Annotated[Optional[str], typer.Option(
        "--fields", help="Comma-separated field names, e.g. invoice_number,date,total.")] = None,
    schema: Annotated[Optional[str], typer.Option(
        "--schema", help="JSON file of fields with types (JSON Schema properties or name -> type).")] = None,
    fmt: JsonFormat = "json",
    output: Output = None,
    prompt_file: PromptFile = None,
    *,
    settings: Settings,
) -> None:
    """Key fields as JSON: exactly the fields asked for, null when absent, typed as the schema says."""
    from ..output import DocumentSink
    from ..tasks.extract import extract_task, specs_from_names, specs_from_schema

    if (fields is None) == (schema is None):
        raise UsageError("extract: give either --fields a,b,c or --schema FILE")
    specs = specs_from_names(fields) if fields is not None else specs_from_schema(schema)
    sink = DocumentSink(_json_format(fmt), output)
    run_task(extract_task(specs, prompt_file), files, sink, settings)
