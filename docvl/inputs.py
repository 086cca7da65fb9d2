"""Command-line arguments -> a lazy stream of inputs, each with the relative path of its output.

An argument is a file, a folder (searched recursively), `-` (paths on stdin, one a line; or the bytes
of a PDF when stdin is not a terminal and starts with %PDF) or `@list.txt` (paths in a file, one a
line). Folders and path lists are read as the run goes, so `find ... | docvl ocr -` starts at once.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass
from itertools import chain
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable, Iterator

from .errors import InputError, UsageError
from .paths import relative_output
from .sources import IMAGE_SUFFIXES, PDF_SUFFIXES

STDIN = "-"


@dataclass(frozen=True)
class Input:
    path: str  # as the user named it ("-" for a PDF's bytes on stdin); error messages use it
    rel: str  # relative POSIX path that names its output under --out-dir (the output suffix is added)
    file: str | None = None  # where the bytes are when not at `path` (stdin saved to a spool file)
    problem: str | None = None  # a reason it cannot be read, found while listing it

    @property
    def location(self) -> str:
        return self.file or self.path


def output_rel(path: str) -> str:
    """The relative path an input given as `path` takes under --out-dir: the path as given, made
    relative to the current folder where it can be, else without its root; `..` and control
    characters neutralised (paths.relative_output)."""
    return relative_output(path, os.getcwd())


def expand_inputs(args: Iterable[str], patterns: list[str] | None = None, stdin: BinaryIO | None = None,
                  stdin_is_tty: bool = False, spool: str | None = None,
                  exclude: Iterable[str] = ()) -> Iterator[Input]:
    """Check the arguments now (usage errors come before any work), then list inputs lazily.

    `patterns` select files inside folders (matched like Path.match, from the right of the path
    relative to the folder); by default every PDF and image. Hidden files and folders, and the
    `exclude` folders (the --out-dir), are not searched. A PDF read from stdin is saved in `spool`.
    """
    args = list(args)
    if args.count(STDIN) > 1:
        raise UsageError("'-' (read stdin) can be given only once")
    for arg in args:
        if arg.startswith("@") and len(arg) > 1 and not Path(arg[1:]).is_file():
            raise InputError(f"{arg}: no such list file (a path starting with @ is a list of paths; "
                             f"write ./{arg} for a file of that name)")
    skip = {Path(e).resolve() for e in exclude}
    return _expand_all(args, patterns, stdin, stdin_is_tty, spool, skip)


@contextlib.contextmanager
def listed_inputs(args: list[str], patterns: list[str] | None = None, stdin: BinaryIO | None = None,
                  exclude: Iterable[str] = ()) -> Iterator[Iterator[Input]]:
    """expand_inputs with a spool folder for a PDF read from `stdin` (for the argument '-'), removed
    when the block ends."""
    spool = tempfile.mkdtemp(prefix="docvl-stdin-") if STDIN in args else None
    try:
        tty = STDIN in args and stdin is not None and _isatty(stdin)
        yield expand_inputs(args, patterns, stdin, tty, spool, exclude)
    finally:
        if spool:
            shutil.rmtree(spool, ignore_errors=True)


def _isatty(stream) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _expand_all(args, patterns, stdin, stdin_is_tty, spool, skip) -> Iterator[Input]:
    for arg in args:
        if arg == STDIN:
            yield from _from_stdin(stdin, stdin_is_tty, spool, patterns, skip)
        elif arg.startswith("@") and len(arg) > 1:
            with open(arg[1:], "rb") as f:
                for name in _lines(f.readline(), f):
                    yield from _expand(name, patterns, skip)
        else:
            yield from _expand(arg, patterns, skip)


def _from_stdin(stdin: BinaryIO | None, is_tty: bool, spool: str | None, patterns, skip) -> Iterator[Input]:
    if stdin is None:
        raise UsageError("'-': no standard input to read")
    head = stdin.read(5)
    if not is_tty and head.startswith(b"%PDF"):
        if spool is None:
            raise UsageError("'-': a PDF on stdin needs a spool folder")
        target = Path(spool) / "stdin.pdf"
        with open(target, "wb") as f:
            f.write(head)
            shutil.copyfileobj(stdin, f)
        yield Input(STDIN, "stdin", file=str(target))
        return
    # `head` may hold a line break: complete its line, then split what was read into lines.
    for name in _lines(head + stdin.readline(), stdin):
        yield from _expand(name, patterns, skip)


def _lines(first: bytes, rest: BinaryIO) -> Iterator[str]:
    for raw in chain(first.splitlines(), iter(rest.readline, b"")):
        name = os.fsdecode(raw.rstrip(b"\r\n"))
        if name.strip():
            yield name


def _expand(path: str, patterns, skip) -> Iterator[Input]:
    p = Path(path)
    if p.is_dir():
        yield from _walk(p, patterns, skip)
    else:
        yield Input(path, output_rel(path))


def _walk(root: Path, patterns, skip) -> Iterator[Input]:
    unreadable: list[OSError] = []
    for folder, dirs, files in os.walk(root, onerror=unreadable.append):
        yield from _unreadable(unreadable, folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and Path(folder, d).resolve() not in skip)
        for name in sorted(files):
            if name.startswith("."):
                continue
            full = Path(folder, name)
            rel = full.relative_to(root).as_posix()
            if _wanted(rel, patterns):
                yield Input(str(full), rel)
    yield from _unreadable(unreadable, root)


def _unreadable(errors: list[OSError], folder) -> Iterator[Input]:
    while errors:
        e = errors.pop(0)
        where = str(e.filename or folder)
        yield Input(where, output_rel(where),
                    problem=f"{where}: cannot read this folder ({e.strerror or e}); its files were skipped")


def _wanted(rel: str, patterns: list[str] | None) -> bool:
    if patterns:
        return any(PurePosixPath(rel).match(p) for p in patterns)
    return PurePosixPath(rel).suffix.lower() in PDF_SUFFIXES | IMAGE_SUFFIXES


class InputFeed:
    """Lists inputs on a thread of its own, so that stdin and big folders are read as the run goes;
    `keep` picks this run's inputs (a --shard)."""

    _END = object()

    def __init__(self, inputs: Iterable[Input], keep: Callable[[Input], bool] = lambda item: True):
        self._queue: queue.Queue = queue.Queue(maxsize=256)
        self.exhausted = False
        threading.Thread(target=self._read, args=(inputs, keep), name="docvl-inputs", daemon=True).start()

    def _read(self, inputs, keep) -> None:
        try:
            for item in inputs:
                if keep(item):
                    self._queue.put(item)
        except BaseException as e:  # raised on the scheduler thread
            self._queue.put(e)
        self._queue.put(self._END)

    def next(self) -> Input | None:
        """The next input if one is listed already; None if none is (yet)."""
        if self.exhausted:
            return None
        try:
            item = self._queue.get_nowait()
        except queue.Empty:
            return None
        if item is self._END:
            self.exhausted = True
            return None
        if isinstance(item, BaseException):
            raise item
        return item
