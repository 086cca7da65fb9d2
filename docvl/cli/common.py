"""The Typer app, error handling and the options every model-backed command shares."""

import functools
import inspect
import sys
from dataclasses import dataclass, field
from typing import Annotated, Optional

import typer

from ..budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, Budget
from ..engines import DEFAULT_MODEL
from ..errors import DocvlError, ExitCode, UsageError, one_line

app = typer.Typer(
    name="docvl",
    help="Document intelligence with Qwen2-VL: OCR, tables and grounding from PDFs and images.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

Files = Annotated[list[str], typer.Argument(help="PDF or image files.", show_default=False)]
Output = Annotated[Optional[str], typer.Option("-o", "--output", help="Write to this file ('-' = stdout).")]
PromptFile = Annotated[Optional[str], typer.Option("--prompt-file", help="Replace the task's prompt template.")]
Pages = Annotated[Optional[str], typer.Option("--pages", help="1-based pages, e.g. 1-3,7,10-end.")]
Password = Annotated[Optional[str], typer.Option("--password", help="Password of encrypted PDFs.")]
MinPixels = Annotated[int, typer.Option("--min-pixels", help="Smallest page image, in pixels.")]
MaxPixels = Annotated[int, typer.Option("--max-pixels", help="Largest page image, in pixels (28x28 = 1 visual token).")]
# Seconds of rasterization each document may use: a page that renders forever cannot hang a batch.
DEFAULT_RASTER_TIMEOUT = 300.0
RasterTimeout = Annotated[float, typer.Option(
    "--raster-timeout", min=0, help="Seconds of page rendering each document may use; 0: no limit (renders in-process).")]


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


@dataclass
class Settings:
    """What every model-backed command takes besides its own options."""

    pages: Optional[str]
    password: Optional[str]
    budget: Budget
    batch_size: int
    engine: dict = field(default_factory=dict)  # LocalOptions fields
    raster_time_limit: Optional[float] = None


def _shared_options(
    pages: Pages = None,
    password: Password = None,
    min_pixels: MinPixels = DEFAULT_MIN_PIXELS,
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS,
    model: Annotated[str, typer.Option("--model", help="Hugging Face id or local checkpoint folder.")] = DEFAULT_MODEL,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    dtype: Annotated[str, typer.Option("--dtype", help="auto (bf16 on CUDA, fp32 on CPU), bfloat16, float16, float32.")] = "auto",
    quant: Annotated[str, typer.Option("--quant", help="none, 8bit or 4bit (bitsandbytes).")] = "none",
    gpus: Annotated[Optional[int], typer.Option("--gpus", help="Shard the model over this many GPUs.")] = None,
    max_memory: Annotated[Optional[str], typer.Option("--max-memory", help="Per-device caps, e.g. 0=20GiB,1=20GiB.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Pages per generate call.")] = 4,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Longest answer per page, in tokens.")] = 1024,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code", help="Run code shipped with the checkpoint.")] = False,
    attn: Annotated[str, typer.Option("--attn", help="Attention kernels: sdpa, eager or flash_attention_2.")] = "sdpa",
    compile: Annotated[bool, typer.Option("--compile", help="Static KV cache + torch.compile of decoding (pays on GPUs).")] = False,
    raster_timeout: RasterTimeout = DEFAULT_RASTER_TIMEOUT,
) -> Settings:
    return Settings(pages, password, make_budget(min_pixels, max_pixels), batch_size, dict(
        model=model, device=device, dtype=dtype, quant=quant, gpus=gpus, max_memory=max_memory,
        max_new_tokens=max_new_tokens, trust_remote_code=trust_remote_code, attn=attn, compile=compile),
        raster_timeout or None)


def task_command(fn):
    """Register a model-backed command: its own parameters, plus the shared ones, which reach it
    as one `settings: Settings` argument."""
    shared = inspect.signature(_shared_options).parameters
    own = [p for name, p in inspect.signature(fn).parameters.items() if name != "settings"]

    @functools.wraps(fn)
    def wrapper(**kwargs):
        settings = _shared_options(**{name: kwargs.pop(name) for name in shared})
        return fn(**kwargs, settings=settings)

    wrapper.__signature__ = inspect.Signature([*own, *shared.values()])
    del wrapper.__wrapped__  # Typer must read the combined signature, not fn's
    return command(wrapper)


def run_task(task, files: list[str], sink, settings: Settings) -> None:
    """Run `task` over `files` into `sink`; report failures on stderr; exit with the typed code."""
    from ..runner import Runner, RunOptions

    def engine_factory():
        from ..engines.local import LocalEngine, LocalOptions

        return LocalEngine(LocalOptions(**settings.engine), settings.budget)

    runner = Runner(task, engine_factory, RunOptions(settings.budget, settings.pages, settings.password,
                                                     settings.batch_size, settings.raster_time_limit))
    failed = partial = 0
    for record in runner.run(files):
        sink.add(record)
        if record["status"] == "failed":
            failed += 1
            print(f"docvl: error: {record['error']}", file=sys.stderr)
        elif record["status"] == "partial":
            partial += 1
            print(f"docvl: {one_line(record['source']['path'])}: {record['error']}", file=sys.stderr)
    sink.close()
    raise typer.Exit(exit_code(len(files), failed, partial))


def exit_code(total: int, failed: int, partial: int) -> int:
    if failed == 0 and partial == 0:
        return ExitCode.OK
    if failed == total and total == 1:
        return ExitCode.INPUT
    return ExitCode.PARTIAL
