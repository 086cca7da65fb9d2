"""The sink of `ocr --format pdf|hocr|alto`: one document per output file (-o, or one file per input
under --out-dir), rendered from the same document records as the JSON.

A searchable PDF needs the source file again; the runner hands it to a task's `finish` hook (the
file's location, also for a PDF read from stdin, and its password), so the sink builds the PDF there
and `render` returns it.
"""

from __future__ import annotations

import sys
from typing import Iterable

from .errors import DocvlError, InputError, UsageError, short_reason
from .output import atomic_write

FORMATS = ("pdf", "hocr", "alto")


class OcrFileSink:
    """Like output.DocumentSink (fmt, out, suffix, add, render, close), for one document per file."""

    def __init__(self, fmt: str, out: str | None, replace: bool = False):
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt}: use {', '.join(FORMATS)}")
        self.fmt = fmt
        self.out = None if out in (None, "-") else out
        self.to_stdout = out == "-" or out is None
        self.replace = replace  # --text-layer off: an existing invisible OCR layer is replaced
        self.made: dict[int, bytes] = {}
        self.outputs: list[str | bytes] = []
        self.count = 0

    @property
    def suffix(self) -> str:
        from .output import SUFFIXES

        return SUFFIXES[self.fmt]

    def finish(self, record: dict, location: str, password: str | None) -> None:
        """Task.finish hook: build the searchable PDF while the source is at hand. Never raises:
        a PDF that cannot be built is said when it is rendered."""
        if self.fmt != "pdf" or record.get("status") == "failed":
            return
        from .searchable import searchable_pdf

        try:
            self.made[id(record)] = searchable_pdf(record, location, password, self.replace)
        except DocvlError as e:
            self.made[id(record)] = e
        except Exception as e:  # MuPDF's or pikepdf's many error types
            self.made[id(record)] = InputError(
                f"{record['source']['path']}: cannot write its searchable PDF ({short_reason(e)})")

    def render_one(self, record: dict) -> str | bytes:
        if self.fmt == "hocr":
            from .hocr import to_hocr

            return to_hocr(record)
        if self.fmt == "alto":
            from .hocr import to_alto

            return to_alto(record)
        made = self.made.pop(id(record), None)
        if isinstance(made, DocvlError):
            raise made
        if made is None:
            raise InputError(f"{record['source']['path']}: no searchable PDF was made")
        return made

    def render(self, records: Iterable[dict]) -> str | bytes:
        [record] = list(records)
        return self.render_one(record)

    def add(self, record: dict) -> None:
        self.count += 1
        if record.get("status") == "failed":
            self.made.pop(id(record), None)
            return  # said on stderr; no file
        if self.count > 1:
            raise UsageError(f"--format {self.fmt} writes one document per file; several inputs need --out-dir")
        self.outputs.append(self.render_one(record))

    def close(self) -> None:
        for output in self.outputs:
            if not self.to_stdout:
                atomic_write(self.out, output)
            elif isinstance(output, bytes):
                sys.stdout.buffer.write(output)
                sys.stdout.buffer.flush()
            else:
                sys.stdout.write(output)
                sys.stdout.flush()
