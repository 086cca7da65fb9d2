"""The Typer app, error handling and the options every model-backed command shares."""

import functools
import inspect
import sys
from dataclasses import dataclass, field
from typing import Annotated, Optional

import typer

from ..budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, Budget
from ..engines import DEFAULT_MODEL, FAMILIES
from ..errors import DocvlError, ExitCode, UsageError

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
SERVER_PANEL = "Server engine (vLLM, SGLang, transformers serve)"


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
    engine_kind: str = "local"  # or "server"
    server: dict = field(default_factory=dict)  # ServerOptions fields


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
    engine: Annotated[Optional[str], typer.Option("--engine", help="local (transformers here) or server (an OpenAI-compatible server); default: server if --base-url is given.", rich_help_panel=SERVER_PANEL)] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Server URL, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang, transformers serve).", rich_help_panel=SERVER_PANEL)] = None,
    api_key: Annotated[Optional[str], typer.Option("--api-key", envvar=["DOCVL_API_KEY", "OPENAI_API_KEY"], show_envvar=True, help="Server API key.", rich_help_panel=SERVER_PANEL)] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Server requests in flight at once.", rich_help_panel=SERVER_PANEL)] = 4,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Seconds a server request (each try) may take.", rich_help_panel=SERVER_PANEL)] = 300.0,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Retries of a server request after connection errors, timeouts, 429 and 5xx.", rich_help_panel=SERVER_PANEL)] = 4,
    family: Annotated[Optional[str], typer.Option("--family", help="Family of the served model: qwen2-vl, qwen2.5-vl or qwen3-vl (default: from its name).", rich_help_panel=SERVER_PANEL)] = None,
) -> Settings:
    kind = engine or ("server" if base_url else "local")
    if kind not in ("local", "server"):
        raise UsageError(f"--engine {engine}: use local or server")
    if kind == "server" and not base_url:
        raise UsageError("--engine server needs --base-url, e.g. http://127.0.0.1:8000/v1")
    if kind == "local" and base_url:
        raise UsageError("--base-url is for --engine server")
    if family is not None and family not in FAMILIES.values():
        raise UsageError(f"--family {family}: use one of {', '.join(FAMILIES.values())}")
    # A server engine needs at least `concurrency` pages per batch to keep that many requests in flight.
    batch = max(batch_size, concurrency) if kind == "server" else batch_size
    return Settings(pages, password, make_budget(min_pixels, max_pixels), batch, dict(
        model=model, device=device, dtype=dtype, quant=quant, gpus=gpus, max_memory=max_memory,
        max_new_tokens=max_new_tokens, trust_remote_code=trust_remote_code, attn=attn, compile=compile), kind, dict(
        base_url=base_url, model=model, api_key=api_key, family=family, concurrency=concurrency,
        timeout=timeout, retries=retries, max_new_tokens=max_new_tokens))


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
        if settings.engine_kind == "server":
            from ..engines.server import ServerEngine, ServerOptions

            return ServerEngine(ServerOptions(**settings.server))
        from ..engines.local import LocalEngine, LocalOptions

        return LocalEngine(LocalOptions(**settings.engine), settings.budget)

    runner = Runner(task, engine_factory,
                    RunOptions(settings.budget, settings.pages, settings.password, settings.batch_size))
    failed = partial = 0
    for record in runner.run(files):
        sink.add(record)
        if record["status"] == "failed":
            failed += 1
            print(f"docvl: error: {record['error']}", file=sys.stderr)
        elif record["status"] == "partial":
            partial += 1
            print(f"docvl: {record['source']['path']}: {record['error']}", file=sys.stderr)
    sink.close()
    raise typer.Exit(exit_code(len(files), failed, partial))


def exit_code(total: int, failed: int, partial: int) -> int:
    if failed == 0 and partial == 0:
        return ExitCode.OK
    if failed == total and total == 1:
        return ExitCode.INPUT
    return ExitCode.PARTIAL
