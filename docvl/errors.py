"""Typed errors, each mapped to a documented process exit code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PARTIAL = 1  # some pages or files failed; the rest were written
    USAGE = 2  # bad options (Typer/Click use 2 as well)
    INPUT = 3  # an input could not be read: missing, not a document, encrypted, broken
    ENGINE = 4  # the model or server could not be loaded or run
    INTERRUPTED = 130  # Ctrl-C; what finished was written


class DocvlError(Exception):
    """An error with a one-line message for the user and an exit code."""

    code = ExitCode.INPUT

    def __init__(self, message: str):
        message = one_line(message)
        super().__init__(message)
        self.message = message


class InputError(DocvlError):
    code = ExitCode.INPUT


class UsageError(DocvlError):
    code = ExitCode.USAGE


class EngineError(DocvlError):
    code = ExitCode.ENGINE


class EngineOutOfMemory(EngineError):
    """The accelerator ran out of memory on a batch: the runner splits the batch and retries."""


def exit_code(total: int, failed: int, partial: int) -> ExitCode:
    """A run's exit code from its documents: a lone document that failed is an input error; some
    failed or partial among several, a partial failure."""
    if failed == 0 and partial == 0:
        return ExitCode.OK
    if failed == total and total == 1:
        return ExitCode.INPUT
    return ExitCode.PARTIAL


def short_reason(e: BaseException) -> str:
    """The first line of an exception's message, for one-line errors."""
    text = str(e).strip().splitlines()
    return text[0][:160] if text else type(e).__name__


def counted(n: int, noun: str) -> str:
    """`1 page`, `2 pages`."""
    return f"{n} {noun}{'s' * (n != 1)}"


def one_line(text: str) -> str:
    """`text` with control characters (newlines in file names, terminal escapes), invisible format
    characters and unpaired surrogates (undecodable file names) written as backslash escapes, so that
    an error message is always one printable line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
