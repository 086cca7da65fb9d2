"""The Python API: the CLI's jobs as functions, on the same job layer (docvl.jobs).

    doc = docvl.ocr("invoice.pdf", lang="de")          # a path, bytes or a PIL image
    doc.to_dict()                                        # exactly the CLI's docvl/1 JSON
    with docvl.Engine(device="cuda") as engine:          # one model for many calls
        docvl.extract_tables("report.pdf", engine=engine)
    for doc in docvl.run("ocr", ["scans/"], out_dir="results"):   # a resumable batch
        print(doc.path, doc.status)

Options are the CLI's, as keyword arguments with underscores (pages="1-3", max_pixels=..., device=...).
Bad options raise docvl.errors.UsageError before any page is rendered; a single document that cannot
be read raises InputError (a batch records it as a failed document and goes on); an engine that
cannot load or run raises EngineError.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator, Union

from PIL import Image

from .config import DEFAULT_MODEL, Config
from .engines import Backend, open_backend
from .errors import InputError, UsageError
from .inputs import Input, output_rel
from .jobs import Job
from .output import MARKDOWN_PAGE_BREAK, SUFFIXES, DocumentSink
from .tasks import Task

Source = Union[str, os.PathLike, bytes, Image.Image]


class Document:
    """One input's result. `to_dict()` is the CLI's JSON for it (schema docvl/1)."""

    def __init__(self, record: dict, skipped: bool = False):
        self._record = record
        self.skipped = skipped  # a batch found it finished by an earlier run into the same out_dir

    def to_dict(self) -> dict:
        return self._record

    @property
    def path(self) -> str:
        return self._record["source"]["path"]

    @property
    def status(self) -> str:
        """ok, partial (some pages failed) or failed."""
        return self._record["status"]

    @property
    def error(self) -> str | None:
        return self._record.get("error")

    @property
    def pages(self) -> list[dict]:
        return self._record.get("pages", [])

    @property
    def text(self) -> str:
        """The text of every ok page (ocr), pages separated by a form feed."""
        return "\f".join(p.get("text", "") for p in self.pages if p.get("status") == "ok")

    @property
    def markdown(self) -> str:
        """The Markdown of every ok page (ocr with markdown=True), pages separated by a form feed on a
        line of its own between blank lines."""
        return MARKDOWN_PAGE_BREAK.join(p.get("markdown", "") for p in self.pages if p.get("status") == "ok")

    @property
    def tables(self) -> list[dict]:
        """Every table record of every page (extract_tables)."""
        return [t for p in self.pages for t in p.get("tables", [])]

    @property
    def fields(self) -> dict | None:
        """The document's key fields (extract)."""
        return self._record.get("fields")

    def dataframes(self, raw_cells: bool = True) -> list:
        """The tables as pandas DataFrames of strings, the header as columns. Cells are as found;
        `raw_cells=False` neutralises those a spreadsheet would run as formulas, as CSV output does."""
        from .table_output import to_dataframe

        return [to_dataframe(t, raw_cells) for t in self.tables]

    def save(self, path: str | os.PathLike, format: str = "pdf", source: str | os.PathLike | None = None,
             password: str | None = None) -> None:
        """Write an `ocr(..., boxes=True)` result as a searchable PDF (the source file with an invisible text
        layer; `source` defaults to the path it was read from), hOCR or ALTO."""
        from .ocr_output import FORMATS, OcrFileSink
        from .output import atomic_write

        if format not in FORMATS:
            raise UsageError(f"format {format!r}: use {', '.join(FORMATS)}")
        if self._record["task"] != "ocr" or not self._record.get("options", {}).get("boxes"):
            raise UsageError("save() writes OCR lines with their boxes: run docvl.ocr(..., boxes=True)")
        sink = OcrFileSink(format, os.fspath(path))
        if format == "pdf":
            where = os.fspath(source) if source is not None else self.path
            if not os.path.isfile(where):
                raise UsageError(f"{where}: not a file; give the document it was read from as source=")
            sink.finish(self._record, where, password)
        atomic_write(path, sink.render([self._record]))

    def __repr__(self) -> str:
        return f"<docvl.Document {self.path!r} {self._record['task']} {self.status}, {len(self.pages)} pages>"


class Engine:
    """A model loaded once (or a server connected once) for every call given it as `engine=`.

    `Engine()` is the local Qwen2-VL-2B-Instruct; `Engine(model=..., device="cuda", quant="4bit")` any
    local checkpoint; `Engine(base_url="http://127.0.0.1:8000/v1", model=...)` an OpenAI-compatible
    server. The model loads on the first page that needs it (born-digital pages may need none)."""

    def __init__(self, model: str = DEFAULT_MODEL, **options):
        self.config = Config.of({"model": model, **options})
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    def backend(self) -> Backend:
        with self._lock:
            if self._backend is None:
                self._backend = open_backend(self.config)
            return self._backend

    @property
    def loaded(self) -> bool:
        return self._backend is not None

    def close(self) -> None:
        """Let the model go (its memory is freed once nothing else holds it)."""
        self._backend = None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ocr(self, source: Source, **options) -> Document:
        return ocr(source, engine=self, **options)

    def extract_tables(self, source: Source, **options) -> Document:
        return extract_tables(source, engine=self, **options)

    def ground(self, source: Source, query: str, **options) -> Document:
        return ground(source, query, engine=self, **options)

    def extract(self, source: Source, **options) -> Document:
        return extract(source, engine=self, **options)


# -- the tasks ---------------------------------------------------------------------------------------

def ocr(source: Source, *, lang: str | None = None, boxes: bool = False, text_layer: str = "auto",
        markdown: bool = False, engine: Engine | None = None, **options) -> Document:
    """The text of every page (`boxes=True`: each line with its box in page coordinates; `markdown=True`:
    each page's Markdown too, in `Document.markdown`, running headers and footers in its "furniture")."""
    task = _task("ocr", dict(lang=lang, boxes=boxes, text_layer=text_layer, markdown=markdown), options)
    return _one(task, source, engine, options)


def extract_tables(source: Source, *, text_layer: str = "auto", engine: Engine | None = None,
                   **options) -> Document:
    """Every table of every page: header, rows and box."""
    return _one(_task("extract-tables", dict(text_layer=text_layer), options), source, engine, options)


def ground(source: Source, query: str, *, all: bool = False, text_layer: str = "auto",
           overlay: str | None = None, engine: Engine | None = None, **options) -> Document:
    """Boxes of what `query` describes (`all=True`: every match); `overlay`: a folder for PNGs."""
    task = _task("ground", dict(query=query, all=all, text_layer=text_layer, overlay=overlay), options)
    return _one(task, source, engine, options)


def extract(source: Source, *, fields: Iterable[str] | str | None = None, schema: dict | str | None = None,
            engine: Engine | None = None, **options) -> Document:
    """Key fields, null where absent: `fields=["date", "total"]` (text) or `schema=` a JSON Schema's
    properties, a mapping of names to types, or the path of a JSON file of either."""
    return _one(_task("extract", dict(fields=fields, schema=schema), options), source, engine, options)


def run(task: str, inputs: Iterable[str | os.PathLike], *, out_dir: str | os.PathLike | None = None,
        format: str = "json", engine: Engine | None = None, **options) -> Iterator[Document]:
    """A batch: `task` ("ocr", "extract-tables", "ground", "extract") over files and folders, yielding
    each document as it finishes, failed ones too (a bad file never stops the batch). With `out_dir`
    each is also written there and the batch resumes as the CLI's --out-dir does; `format` is json, jsonl
    or text, for "ocr" also markdown (implies markdown=True), pdf (searchable), hocr or alto. Task options (lang, query, fields, ...) and
    the CLI's options are keyword arguments."""
    from .ocr_output import FORMATS, OcrFileSink

    task_options = {k: options.pop(k) for k in list(options) if k in _TASK_OPTIONS}
    if format in FORMATS:
        if task != "ocr":
            raise UsageError(f"format {format!r} is for task \"ocr\"")
        task_options["boxes"] = True  # a text layer, hOCR and ALTO are made of the lines' boxes
    if format == "markdown":
        if task != "ocr":
            raise UsageError(f"format {format!r} is for task \"ocr\"")
        task_options["markdown"] = True
    job_task = _task(task, task_options, options)
    config = _config(engine, {**options, "out_dir": None if out_dir is None else os.fspath(out_dir)})
    if format not in SUFFIXES:
        raise UsageError(f"format {format!r}: use {', '.join(SUFFIXES)}")
    if format in FORMATS:
        sink = OcrFileSink(format, None, replace=task_options.get("text_layer") == "off")
        job_task.finish = sink.finish if out_dir is not None else None
    else:
        sink = DocumentSink(format, None)
    job = Job(job_task, config, fmt=format, render=lambda r: sink.render([r]), backend=_backend(engine))
    args = [os.fspath(p) for p in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)]
    for done in job.documents(args):
        yield Document(done.record, done.skipped)
    job.finish(args)


# -- plumbing ----------------------------------------------------------------------------------------

_TASK_OPTIONS = {"lang", "boxes", "markdown", "text_layer", "query", "all", "overlay", "fields", "schema"}


def _task(name: str, task_options: dict, options: dict) -> Task:
    from .textlayer.answer import with_text_layer

    prompt_file = options.get("prompt_file")
    if name == "ocr":
        from .tasks.ocr import ocr_task

        boxes, markdown = bool(task_options.get("boxes")), bool(task_options.get("markdown"))
        task = ocr_task(task_options.get("lang"), prompt_file, boxes, markdown)
        return with_text_layer(task, "lines" if boxes else "text", task_options.get("text_layer", "auto"), markdown)
    if name in ("extract-tables", "extract_tables", "tables"):
        from .tasks.tables import tables_task

        return with_text_layer(tables_task(prompt_file), "tables", task_options.get("text_layer", "auto"))
    if name == "ground":
        from .overlay import Overlays
        from .tasks.grounding import ground_task

        if not isinstance(task_options.get("query"), str):
            raise UsageError("ground: give the query, e.g. query=\"the total amount\"")
        overlay = task_options.get("overlay")
        return ground_task(task_options["query"], bool(task_options.get("all")), prompt_file,
                           task_options.get("text_layer", "auto"), Overlays(os.fspath(overlay)) if overlay else None)
    if name == "extract":
        from .tasks.extract import extract_task, specs_from_mapping, specs_from_names, specs_from_schema

        fields, schema = task_options.get("fields"), task_options.get("schema")
        if (fields is None) == (schema is None):
            raise UsageError("extract: give either fields=[...] or schema=...")
        if fields is not None:
            specs = specs_from_names(fields if isinstance(fields, str) else ",".join(fields))
        elif isinstance(schema, dict):
            specs = specs_from_mapping(schema, "schema")
        else:
            specs = specs_from_schema(os.fspath(schema))
        return extract_task(specs, prompt_file)
    raise UsageError(f"task {name!r}: use ocr, extract-tables, ground or extract")


def _config(engine: Engine | None, options: dict) -> Config:
    if engine is None:
        return Config.of(options)
    Config.of(options)  # names an unknown option as such
    return dataclasses.replace(engine.config, **options)


def _backend(engine: Engine | None):
    return None if engine is None else engine.backend


def _one(task: Task, source: Source, engine: Engine | None, options: dict) -> Document:
    """One source through a Job: a failed document raises, a partial one is returned."""
    for name in ("out_dir", "shard", "glob", "overwrite"):
        if options.get(name):
            raise UsageError(f"{name} is for batches: use docvl.run(...)")
    config = _config(engine, options)
    job = Job(task, config, backend=_backend(engine))
    with _as_input(source) as item:
        [record] = [d.record for d in job.run([item])]  # run to its end: that closes the runner
    if record["status"] == "failed":
        raise InputError(record["error"])
    return Document(record)


class _as_input:
    """A source as a runner Input: paths as they are; bytes and images through a temporary file."""

    def __init__(self, source: Source):
        self.source = source
        self.folder: str | None = None

    def __enter__(self) -> Input:
        source = self.source
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if os.path.isdir(path):
                raise UsageError(f"{path}: a folder; use docvl.run(...) for folders and batches")
            return Input(path, output_rel(path))
        self.folder = tempfile.mkdtemp(prefix="docvl-api-")
        if isinstance(source, Image.Image):
            file, name = Path(self.folder, "image.png"), "<image>"
            source.save(file, format="PNG")
        elif isinstance(source, (bytes, bytearray, memoryview)):
            # Documents are told apart by their content, so the file needs no suffix.
            file, name = Path(self.folder, "bytes"), "<bytes>"
            file.write_bytes(bytes(source))
        else:
            raise UsageError(f"source: give a path, bytes or a PIL image, not {type(source).__name__}")
        return Input(name, name.strip("<>"), file=str(file))

    def __exit__(self, *exc) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

