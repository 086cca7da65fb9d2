"""The Typer app, error handling and the options every model-backed command shares."""

import functools
import inspect
import sys
import time
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from ..budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, Budget
from ..config import DEFAULT_MODEL, Config
from ..errors import DocvlError, UsageError, exit_code, one_line


class _NoFlagTypes:
    """Help that names values, not Python types: Typer writes `<bool>` after each flag (which takes no
    value) and `<str>` or `<list[str]>` after the rest."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if param.metavar is None and param.name:
                param.metavar = "" if getattr(param, "is_flag", False) else param.name.upper()
        return params


class DocvlCommand(_NoFlagTypes, TyperCommand):
    pass


class DocvlGroup(_NoFlagTypes, TyperGroup):
    pass


app = typer.Typer(
    name="docvl",
    help="Document intelligence with Qwen2-VL: OCR, tables and grounding from PDFs and images.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=DocvlGroup,
)

Files = Annotated[list[str], typer.Argument(
    help="PDF or image files, folders (searched recursively), '-' (paths on stdin, or a PDF's bytes) or "
         "@list.txt (paths, one a line).", show_default=False)]
Output = Annotated[Optional[str], typer.Option("-o", "--output", help="Write to this file ('-' = stdout).")]
PromptFile = Annotated[Optional[str], typer.Option("--prompt-file", help="Replace the task's prompt template.")]
Pages = Annotated[Optional[str], typer.Option("--pages", help="1-based pages, e.g. 1-3,7,10-end.")]
Password = Annotated[Optional[str], typer.Option("--password", help="Password of encrypted PDFs.")]
MinPixels = Annotated[int, typer.Option("--min-pixels", help="Smallest page image, in pixels.")]
MaxPixels = Annotated[int, typer.Option("--max-pixels", help="Largest page image, in pixels (28x28 = 1 visual token).")]
TextLayer = Annotated[str, typer.Option(
    "--text-layer", metavar="auto|off|only",
    help="auto: pages with a trustworthy PDF text layer come from it, the rest from the model; "
         "off: every page from the model; only: never load a model.")]
DEFAULT_PAGE_TIMEOUT = 600.0
PageTimeout = Annotated[float, typer.Option(
    "--page-timeout", min=0, help="Seconds a page may take to render, and to generate (0: no limit).")]
SERVER_PANEL = "Server engine (vLLM, SGLang, transformers serve)"
TRUST_PANEL = "Trust (docs/trust.md)"


def command(fn=None, *, name: str | None = None):
    """Register a command whose DocvlErrors become one line on stderr and their exit code
    (`@command`, or `@command(name="eval")` where the name is not a good Python name)."""
    if fn is None:
        return functools.partial(command, name=name)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DocvlError as e:
            print(f"docvl: error: {e.message}", file=sys.stderr)
            raise typer.Exit(int(e.code)) from None

    return app.command(name, cls=DocvlCommand)(wrapper)


def make_budget(min_pixels: int, max_pixels: int) -> Budget:
    try:
        return Budget(min_pixels, max_pixels)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _shared_options(
    prompt_file: PromptFile = None,
    pages: Pages = None,
    password: Password = None,
    min_pixels: MinPixels = DEFAULT_MIN_PIXELS,
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS,
    model: Annotated[str, typer.Option("--model", help="Hugging Face id or local checkpoint folder.")] = DEFAULT_MODEL,
    device: Annotated[str, typer.Option("--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N (GPU N) or mps.")] = "auto",
    dtype: Annotated[str, typer.Option("--dtype", metavar="DTYPE", help="auto (bfloat16 on CUDA, float32 on CPU), bfloat16, float16 or float32.")] = "auto",
    quant: Annotated[str, typer.Option("--quant", metavar="none|8bit|4bit", help="Quantize the weights with bitsandbytes.")] = "none",
    gpus: Annotated[Optional[int], typer.Option("--gpus", help="Shard the model over this many GPUs.")] = None,
    max_memory: Annotated[Optional[str], typer.Option("--max-memory", help="Per-device caps, e.g. 0=20GiB,1=20GiB.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Pages per generate call.")] = 4,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Longest answer per page, in tokens.")] = 1024,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code", help="Run code shipped with the checkpoint.")] = False,
    attn: Annotated[str, typer.Option("--attn", metavar="KERNELS", help="Attention kernels: sdpa, eager or flash_attention_2.")] = "sdpa",
    compile: Annotated[bool, typer.Option("--compile", help="Static KV cache + torch.compile of decoding (pays on GPUs).")] = False,
    out_dir: Annotated[Optional[str], typer.Option("--out-dir", help="Batch job: one output per input in this folder; resumable.")] = None,
    glob: Annotated[Optional[list[str]], typer.Option("--glob", help="Files to take from folders, e.g. '*.pdf' (repeatable).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Redo documents an earlier run into --out-dir finished.")] = False,
    shard: Annotated[Optional[str], typer.Option("--shard", help="Run part i of n of the inputs, e.g. 2/4.")] = None,
    max_batch_tokens: Annotated[Optional[int], typer.Option("--max-batch-tokens", min=1, help="Most visual tokens in one batch (pages x largest page).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Rendering processes (default: CPUs - 1, at most 4).")] = None,
    page_timeout: PageTimeout = DEFAULT_PAGE_TIMEOUT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary line; errors only.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="A line per document, and MuPDF's warnings.")] = False,
    min_confidence: Annotated[Optional[float], typer.Option("--min-confidence", metavar="P", help="Mark pages whose mean token probability is below this (0-1) with \"review\": true and a warning.", rich_help_panel=TRUST_PANEL)] = None,
    orientation: Annotated[str, typer.Option("--orientation", metavar="auto|off", help="auto: scans (image files, scanned PDF pages) lying on their side or upside down are turned upright before the model, and boxes turned back; off: as they are.", rich_help_panel=TRUST_PANEL)] = "auto",
    blank: Annotated[str, typer.Option("--blank", metavar="auto|off", help="auto: pages with no ink are answered empty (\"blank\": true) without the model; off: every page goes to the model.", rich_help_panel=TRUST_PANEL)] = "auto",
    engine: Annotated[Optional[str], typer.Option("--engine", metavar="local|server", help="local (transformers here) or server (an OpenAI-compatible server); default: server if --base-url is given.", rich_help_panel=SERVER_PANEL)] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Server URL, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang, transformers serve).", rich_help_panel=SERVER_PANEL)] = None,
    api_key: Annotated[Optional[str], typer.Option("--api-key", envvar=["DOCVL_API_KEY", "OPENAI_API_KEY"], show_envvar=True, help="Server API key.", rich_help_panel=SERVER_PANEL)] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Server requests in flight at once.", rich_help_panel=SERVER_PANEL)] = 4,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Seconds a server request (each try) may take.", rich_help_panel=SERVER_PANEL)] = 300.0,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Retries of a server request after connection errors, timeouts, 429 and 5xx.", rich_help_panel=SERVER_PANEL)] = 4,
    family: Annotated[Optional[str], typer.Option("--family", metavar="FAMILY", help="Family of the served model: qwen2-vl, qwen2.5-vl or qwen3-vl (default: from its name).", rich_help_panel=SERVER_PANEL)] = None,
) -> Config:
    return Config(
        prompt_file=prompt_file, pages=pages, password=password, min_pixels=min_pixels, max_pixels=max_pixels, engine=engine, model=model,
        device=device, dtype=dtype, quant=quant, gpus=gpus, max_memory=max_memory, max_new_tokens=max_new_tokens,
        trust_remote_code=trust_remote_code, attn=attn, compile=compile, base_url=base_url, api_key=api_key,
        family=family, concurrency=concurrency, timeout=timeout, retries=retries, batch_size=batch_size,
        max_batch_tokens=max_batch_tokens, workers=workers, page_timeout=page_timeout, out_dir=out_dir, glob=glob,
        overwrite=overwrite, shard=shard, quiet=quiet, verbose=verbose, min_confidence=min_confidence, blank=blank,
        orientation=orientation)


def task_command(fn):
    """Register a model-backed command: its own parameters, plus the shared ones, which reach it
    as one validated `config: Config` argument."""
    shared = inspect.signature(_shared_options).parameters
    own = [p for name, p in inspect.signature(fn).parameters.items() if name != "config"]

    @functools.wraps(fn)
    def wrapper(**kwargs):
        config = _shared_options(**{name: kwargs.pop(name) for name in shared})
        return fn(**kwargs, config=config)

    wrapper.__signature__ = inspect.Signature([*own, *shared.values()])
    del wrapper.__wrapped__  # Typer must read the combined signature, not fn's
    return command(wrapper)


def run_task(task, files: list[str], sink, config: Config) -> None:
    """Run `task` over the inputs into `sink` (stdout, -o) or --out-dir; report failures on stderr
    one line each; exit with the typed code. Ctrl-C writes what finished and exits 130."""
    from ..jobs import Job
    from .progress import progress_bar

    if config.out_dir and sink.out:
        raise UsageError("-o and --out-dir: choose one (--out-dir writes one file per input)")
    progress = progress_bar(enabled=not config.quiet and sys.stderr.isatty())
    job = Job(task, config, fmt=sink.fmt, render=lambda r: sink.render([r]), on_pages=progress.pages)
    documents = job.documents(files, sys.stdin.buffer)
    interrupted = False
    try:
        with progress:
            for d in documents:
                progress.document()
                if not d.skipped and job.out_dir is None:
                    sink.add(d.record)
                _report(d, config.verbose, progress)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        documents.close()
    if job.out_dir is None:
        sink.close()
    code = job.finish(files, interrupted)
    if job.out_dir is not None and not config.quiet:
        print(f"docvl: {job.summary.line(time.time() - job.summary.started)} -> {job.out_dir.root}", file=sys.stderr)
    if interrupted:
        print("docvl: interrupted; what finished was written, run the same command again to finish",
              file=sys.stderr)
    raise typer.Exit(int(code))


def _report(d, verbose: bool, progress) -> None:
    record = d.record
    path = record["source"]["path"]
    if d.skipped:
        line = f"docvl: {path}: finished by an earlier run, skipped" if verbose else None
    elif record["status"] == "failed":
        line = f"docvl: error: {record['error']}"
    elif record["status"] == "partial":
        line = f"docvl: {record['error']}"  # it names the file
    else:
        line = f"docvl: {path}: ok, {len(record['pages'])} pages in {record['seconds']:.1f} s" if verbose else None
    if line:
        progress.print(one_line(line))  # a newline in a file name must not break the line
