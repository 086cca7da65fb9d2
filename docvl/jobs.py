"""The job layer: one task over many inputs with one Config. The CLI and the Python API both run
their work through a Job; neither decides anything below it.

    arguments -> inputs -> Runner (raster -> prompt -> engine -> parse) -> documents
                                                   [-> --out-dir files, resume journal, summary]
"""

from __future__ import annotations

import os
from typing import BinaryIO, Callable, Iterable, Iterator

from .batch import OutDir, Summary
from .config import Config
from .engines import open_backend
from .errors import ExitCode, InputError, UsageError, exit_code
from .inputs import STDIN, Input, listed_inputs
from .output import SUFFIXES
from .runner import Done, Runner, RunOptions
from .tasks import Task


class Job:
    """Runs `task` under `config`. `render` turns a document into the text of its --out-dir file and
    `fmt` names that format (it keys resuming); `backend` is a loaded engine to use instead of
    opening one (a model kept across jobs); `on_pages(n)` is told as pages finish."""

    def __init__(self, task: Task, config: Config, *, fmt: str = "json",
                 render: Callable[[dict], str] | None = None, backend: Callable[[], object] | None = None,
                 on_pages: Callable[[int], None] | None = None):
        if config.out_dir and (render is None or fmt not in SUFFIXES):
            raise UsageError(f"--out-dir writes one file per document: use --format {' or '.join(SUFFIXES)}")
        self.task = task
        self.config = config
        self.fmt = fmt
        self.render = render
        self.backend = backend or (lambda: open_backend(config))
        self.on_pages = on_pages
        self.summary = Summary(task.name, config.shard_part)
        self.out_dir: OutDir | None = None
        self.stats: dict = {}

    def documents(self, args: list[str], stdin: BinaryIO | None = None) -> Iterator[Done]:
        """Every input's document, in input order, each as soon as it is finished (and written into
        --out-dir). Closing the iterator early (Ctrl-C) waits for the batch in the model, journals
        it, and stops. `stdin` is read for the argument '-'."""
        c = self.config
        if c.out_dir and not any(arg == STDIN or arg.startswith("@") or os.path.lexists(arg) for arg in args):
            # Said before --out-dir is made: a mistyped folder leaves nothing behind.
            raise InputError(f"{args[0]}: no such file or folder")
        with listed_inputs(args, c.glob, stdin, exclude=[c.out_dir] if c.out_dir else []) as inputs:
            yield from self.run(inputs)

    def run(self, inputs: Iterable[Input]) -> Iterator[Done]:
        """documents() for inputs already listed."""
        c = self.config
        if c.out_dir and self.out_dir is None:
            self.out_dir = OutDir(c.out_dir, SUFFIXES[self.fmt], c.overwrite, c.shard_part)
        options = RunOptions(c.budget, c.pages, c.password, c.pages_per_batch, c.max_batch_tokens, c.workers,
                             c.page_timeout, c.shard_part, c.verbose, c.min_confidence, c.blank == "auto",
                             c.orientation == "auto")
        runner = Runner(self.task, self.backend, options, self.out_dir, self.render,
                        {**c.result_settings(), "format": self.fmt}, on_pages=self.on_pages)
        done = runner.run(inputs)
        try:
            for d in done:
                self.summary.add(d.record, skipped=d.skipped)
                yield d
        finally:
            done.close()  # waits for the batch in the model and journals it
            runner.close()
            self.stats = runner.stats

    def finish(self, args: list[str], interrupted: bool = False) -> ExitCode:
        """The run's exit code; with --out-dir, its summary written. A run that found no input at
        all (and was not one shard of several) is an input error."""
        s = self.summary
        code = ExitCode.INTERRUPTED if interrupted else exit_code(s.total, s.failed, s.partial)
        if not interrupted and s.total == 0 and self.config.shard_part is None:
            wanted = ", ".join(self.config.glob) if self.config.glob else "PDF and image files"
            raise InputError(f"{' '.join(args)}: no PDF or image found (folders are searched for {wanted})")
        if self.out_dir is not None:
            outcome = {0: "ok", 1: "partial", 3: "failed", 130: "interrupted"}.get(int(code), "failed")
            self.out_dir.write_summary(s.to_dict(self.stats, outcome))
        return code

