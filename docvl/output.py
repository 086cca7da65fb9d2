"""Writers: JSON (one document, or a list for several), JSONL (a document a line), text.

Files are written atomically (temp file on the same file system, then rename), so a reader or a
killed run never sees half a file.
"""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import sys
import tempfile
from pathlib import Path
from typing import Iterable, TextIO

from .paths import safe_name


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    """`text` as it can be written in UTF-8: surrogates (from undecodable file names or a model's broken
    bytes) are paired into their character where they form one, replaced by U+FFFD where they do not."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def dumps(record: dict, indent: int | None = None) -> str:
    # ensure_ascii=False keeps Korean or Arabic text readable; JSON stays valid whatever the model wrote.
    return utf8_safe(json.dumps(record, ensure_ascii=False, indent=indent))


# Between two pages' Markdown: a form feed on a line of its own between blank lines, so that a table
# ending one page does not take the next page's first line as a row.
MARKDOWN_PAGE_BREAK = "\n\n\f\n\n"


def as_text(record: dict, field: str = "text") -> str:
    """The pages' `field` ("text" or "markdown"), a form feed between pages; a failed page says so."""
    parts = []
    for page in record.get("pages", []):
        if page.get("status") == "ok":
            parts.append(page.get(field, ""))
        else:
            error = f"page {page.get('page')} failed: {page.get('error')}"
            parts.append(f"[{error}]" if field == "text" else f"<!-- {error.replace('--', '- -')} -->")
    return utf8_safe((MARKDOWN_PAGE_BREAK if field == "markdown" else "\f\n").join(parts) + "\n")


# One output file per document under --out-dir, named by the input and this suffix.
SUFFIXES = {"json": ".json", "jsonl": ".jsonl", "text": ".txt", "markdown": ".md", "pdf": ".pdf", "hocr": ".hocr", "alto": ".alto.xml"}


@functools.cache
def file_mode() -> int:
    """The mode a new file gets from open(): 0o666 less the umask. Read from /proc where it can be:
    setting the umask to read it back would, for a moment, change it for the process's other threads."""
    try:
        with open("/proc/self/status") as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | Path, text: str | bytes, tmp_dir: str | Path | None = None) -> None:
    """Write via a temp file and a rename. `tmp_dir` (same file system) keeps temp files out of the
    folder being written: batch jobs put theirs in a state folder, named by host and process, so a
    rerun can tell a dead run's leftovers from a live one's."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is None:
        # The temp file's name must fit too when the final name is near the 255-byte limit.
        fd, tmp = tempfile.mkstemp(prefix=f".{safe_name(path.name, 200)}.", suffix=".tmp", dir=path.parent)
    else:
        Path(tmp_dir).mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{socket.gethostname()}-{os.getpid()}-", suffix=".tmp", dir=tmp_dir)
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8")) as f:
            if hasattr(os, "fchmod"):  # mkstemp makes its files 0600; outputs are the user's, by their umask
                os.fchmod(f.fileno(), file_mode())
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DocumentSink:
    """Collects or streams document records in one format, to stdout or a file."""

    def __init__(self, fmt: str, out: str | None, stream: TextIO | None = None):
        self.fmt = fmt
        self.out = None if out in (None, "-") else out
        self.stream = stream or sys.stdout
        self.records: list[dict] = []
        self.count = 0  # documents added

    @property
    def suffix(self) -> str:
        """The file suffix of one document in this format (batch jobs write one file per input)."""
        return SUFFIXES[self.fmt]

    @property
    def streaming(self) -> bool:
        return self.fmt == "jsonl" and self.out is None

    def add(self, record: dict) -> None:
        self.count += 1
        if self.streaming:
            # Pipelines see each document as soon as it is done.
            self.stream.write(dumps(record) + "\n")
            self.stream.flush()
        else:
            self.records.append(record)

    def close(self) -> None:
        if self.streaming:
            return
        text = self.render(self.records)
        if self.out is None:
            if not text:
                return
            self.stream.write(text)
            self.stream.flush()
        else:
            atomic_write(self.out, text)

    def render(self, records: Iterable[dict]) -> str:
        records = list(records)
        if self.fmt == "jsonl":
            return "".join(dumps(r) + "\n" for r in records)
        if self.fmt in ("text", "markdown"):
            # A form-feed line between documents (a page's last line ends in one); a failed document has
            # no text (its error is on stderr), so a run where nothing succeeded writes nothing.
            return "\f\n".join(as_text(r, self.fmt) for r in records if r.get("status") != "failed")
        body = records[0] if len(records) == 1 else records
        return dumps(body, indent=2) + "\n"


class StemNamer:
    """Input path -> a file-name stem for outputs: the input's own stem, `-2`, `-3`... on repeats."""

    def __init__(self):
        self.used: set[str] = set()

    def name(self, path: str) -> str:
        stem = name = safe_name(Path(path).stem, 120) or "input"  # room for the rest of the name
        n = 1
        while name in self.used:
            n += 1
            name = f"{stem}-{n}"
        self.used.add(name)
        return name
