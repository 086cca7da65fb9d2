"""One validated configuration for a run: what the CLI's shared options and the Python API's keyword
arguments both become. Every bad value or combination is a UsageError here, before any page is
rendered or any model loaded. Checks that need the hardware (is a CUDA GPU visible?) are left to
the engine, which alone imports torch."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from .budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, Budget
from .engines import BACKENDS, FAMILIES
from .errors import UsageError
from .sources import check_pages

DEFAULT_MODEL = "Qwen/Qwen2-VL-2B-Instruct"
FAMILY_NAMES = tuple(FAMILIES.values())
DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
DTYPES = ("auto", "bfloat16", "float16", "float32")
DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
QUANTS = ("none", "8bit", "4bit")
ATTENTION = ("sdpa", "eager", "flash_attention_2")
ENGINES = tuple(BACKENDS)
BLANK_CHOICES = ("auto", "off")  # --blank and --orientation
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


@dataclass
class Config:
    """Options of every model-backed job (each task adds its own, such as --lang or a query)."""

    # pages
    pages: str | None = None  # 1-based, e.g. "1-3,7,10-end"
    password: str | None = None
    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    prompt_file: str | None = None
    # the engine: local (transformers) or server (OpenAI-compatible); None: server if base_url is set
    engine: str | None = None
    model: str = DEFAULT_MODEL
    device: str = "auto"
    dtype: str = "auto"
    quant: str = "none"
    gpus: int | None = None
    max_memory: str | None = None
    max_new_tokens: int = 1024
    trust_remote_code: bool = False
    attn: str = "sdpa"
    compile: bool = False
    base_url: str | None = None
    api_key: str | None = None
    family: str | None = None
    concurrency: int = 4
    timeout: float = 300.0
    retries: int = 4
    # batching
    batch_size: int = 4
    max_batch_tokens: int | None = None
    workers: int | None = None
    page_timeout: float | None = 600.0  # None or 0: no limit
    # trust
    min_confidence: float | None = None  # pages below this mean token probability: "review": true
    blank: str = "auto"  # auto: pages with no ink are answered empty without the model; off: every page to it
    orientation: str = "auto"  # auto: scans are turned upright (0/90/180/270) before the model; off: as they are
    # batch jobs
    out_dir: str | None = None
    glob: list[str] | None = None
    overwrite: bool = False
    shard: str | None = None  # "i/n"
    quiet: bool = False
    verbose: bool = False
    budget: Budget = field(init=False, repr=False)
    shard_part: tuple[int, int] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self.budget = Budget(self.min_pixels, self.max_pixels)
        except ValueError as e:
            raise UsageError(str(e)) from None
        check_pages(self.pages)
        self.shard_part = parse_shard(self.shard)
        self.page_timeout = self.page_timeout or None
        self.dtype = DTYPE_ALIASES.get(self.dtype, self.dtype)
        self._check_engine()
        self._check_numbers()
        if self.quiet and self.verbose:
            raise UsageError("--quiet and --verbose: choose one")
        if self.prompt_file is not None and not Path(self.prompt_file).is_file():
            raise UsageError(f"--prompt-file {self.prompt_file}: no such file")

    @classmethod
    def of(cls, options: dict) -> "Config":
        """A Config from keyword arguments, naming any that is not an option."""
        known = {f.name for f in fields(cls) if f.init}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown option {unknown[0]!r}; options are {', '.join(sorted(known))}")
        return cls(**options)

    @property
    def engine_kind(self) -> str:
        return self.engine or ("server" if self.base_url else "local")

    @property
    def pages_per_batch(self) -> int:
        # A server needs at least `concurrency` pages per batch to keep that many requests in flight.
        return max(self.batch_size, self.concurrency) if self.engine_kind == "server" else self.batch_size

    def result_settings(self) -> dict:
        """Engine settings that change a page's result: with the task's options, they key resuming."""
        return {"model": self.model, "device": self.device, "dtype": self.dtype, "quant": self.quant,
                "max_new_tokens": self.max_new_tokens, "engine": self.engine_kind,
                **{k: v for k, v in (("blank", self.blank), ("orientation", self.orientation)) if v != "auto"}}

    def _check_engine(self) -> None:
        kind = self.engine_kind
        _choice("--engine", kind, ENGINES)
        if kind == "server" and not self.base_url:
            raise UsageError("--engine server needs --base-url, e.g. http://127.0.0.1:8000/v1")
        if kind == "local" and self.base_url:
            raise UsageError("--base-url is for --engine server")
        if self.family is not None:
            _choice("--family", self.family, FAMILY_NAMES)
        if not _DEVICE.fullmatch(self.device):
            raise UsageError(f"--device {self.device}: use {', '.join(DEVICES)}")
        _choice("--dtype", self.dtype, DTYPES)
        _choice("--quant", self.quant, QUANTS)
        _choice("--attn", self.attn, ATTENTION)
        if kind != "local":
            return
        if self.quant != "none":
            if self.device == "mps":
                raise UsageError("--quant needs CUDA or the CPU; bitsandbytes does not run on Apple's mps")
            if importlib.util.find_spec("bitsandbytes") is None:
                raise UsageError("--quant needs bitsandbytes: pip install 'docvl[quant]'")
        if self.attn == "flash_attention_2" and (
                self.device in ("cpu", "mps") or importlib.util.find_spec("flash_attn") is None):
            raise UsageError("--attn flash_attention_2 needs a CUDA GPU and the flash-attn package "
                             "(pip install flash-attn); use --attn sdpa")
        if (self.gpus or self.max_memory) and self.device in ("cpu", "mps"):
            raise UsageError("--gpus and --max-memory shard over CUDA GPUs; not with --device " + self.device)
        if self.max_memory:
            parse_max_memory(self.max_memory)

    def _check_numbers(self) -> None:
        for name in ("batch_size", "max_new_tokens", "concurrency"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        for name in ("max_batch_tokens", "workers", "gpus"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        if self.retries < 0:
            raise UsageError("--retries must be 0 or more")
        if self.timeout <= 0:
            raise UsageError("--timeout must be more than 0 seconds")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise UsageError("--min-confidence is a token probability between 0 and 1, e.g. 0.8")
        _choice("--blank", self.blank, BLANK_CHOICES)
        _choice("--orientation", self.orientation, BLANK_CHOICES)
        if self.page_timeout is not None and self.page_timeout < 0:
            raise UsageError("--page-timeout must be 0 (no limit) or more")


def _choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{option} {value}: use {', '.join(choices)}")


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    if spec is None:
        return None
    i, sep, n = spec.partition("/")
    try:
        i_n = (int(i), int(n))
    except ValueError:
        i_n = None
    if not sep or i_n is None or not 1 <= i_n[0] <= i_n[1]:
        raise UsageError(f"--shard {spec}: use i/n with 1 <= i <= n, e.g. --shard 1/4 ... --shard 4/4")
    return i_n


def parse_max_memory(spec: str) -> dict:
    """`0=20GiB,1=20GiB[,cpu=64GiB]` -> {0: "20GiB", 1: "20GiB", "cpu": "64GiB"}."""
    caps = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or not value.strip():
            raise UsageError(f"--max-memory: cannot read {part!r}; use e.g. 0=20GiB,1=20GiB")
        key = key.strip()
        caps[int(key) if key.isdigit() else key] = value.strip()
    return caps
