"""Inputs: open PDFs and images as documents and select their pages."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, UsageError, short_reason

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"}
PDF_SUFFIXES = {".pdf"}

_RANGE = re.compile(r"^\s*(\d+|end)\s*(?:-\s*(\d+|end)\s*)?$")


def parse_pages(spec: str | None, count: int) -> list[int]:
    """`1-3,7,10-end` -> sorted unique 1-based page numbers within 1..count."""
    if not spec:
        return list(range(1, count + 1))
    pages: set[int] = set()
    for part in spec.split(","):
        m = _RANGE.match(part)
        if not m:
            raise UsageError(f"--pages: cannot read {part.strip()!r}; use e.g. 1-3,7,10-end")
        first = count if m.group(1) == "end" else int(m.group(1))
        last_s = m.group(2) or m.group(1)
        last = count if last_s == "end" else int(last_s)
        if first < 1 or last < first:
            raise UsageError(f"--pages: {part.strip()!r} is not a range of pages counted from 1")
        pages.update(p for p in range(first, last + 1) if p <= count)
    return sorted(pages)


@dataclass
class Document:
    """An opened input: a PDF (PyMuPDF) or an image file (Pillow, multi-frame TIFF included)."""

    path: str
    kind: str  # "pdf" or "image"
    page_count: int
    sha256: str
    handle: object = field(repr=False)

    def close(self) -> None:
        close = getattr(self.handle, "close", None)
        if close:
            close()


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sniff(head: bytes) -> str | None:
    if b"%PDF-" in head[:1024]:
        return "pdf"
    signatures = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8", b"RIFF")
    if head.startswith(signatures):
        return "image"
    return None


def open_document(path: str, password: str | None = None, data: bytes | None = None) -> Document:
    """Open a file (or bytes read from stdin, named by `path`); raise InputError with a one-line reason."""
    if data is None:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{path}: no such file")
        if p.is_dir():
            raise InputError(f"{path}: is a folder; pass the files in it (batch jobs take folders)")
        try:
            data = p.read_bytes()
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    if not data:
        raise InputError(f"{path}: empty file (0 bytes)")
    kind = _sniff(data[:1024])
    if kind == "pdf":
        return _open_pdf(path, data, password)
    if kind == "image":
        return _open_image(path, data)
    raise InputError(f"{path}: not a PDF or an image (PNG, JPEG, TIFF)")


def _open_pdf(path: str, data: bytes, password: str | None) -> Document:
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as e:  # PyMuPDF raises several types for broken files
        raise InputError(f"{path}: broken PDF, cannot be opened ({short_reason(e)})") from None
    # Read needs_pass once, before authenticating: reading it afterwards can disturb PyMuPDF's state.
    if doc.needs_pass:
        if not password:
            doc.close()
            raise InputError(f"{path}: encrypted PDF; pass its password with --password")
        if not doc.authenticate(password):
            doc.close()
            raise InputError(f"{path}: wrong password for this encrypted PDF (--password)")
    try:
        count = doc.page_count
    except Exception as e:
        doc.close()
        raise InputError(f"{path}: broken PDF, cannot count pages ({short_reason(e)})") from None
    if count == 0:
        doc.close()
        raise InputError(f"{path}: the PDF has no pages")
    return Document(path, "pdf", count, file_digest(data), doc)


def _open_image(path: str, data: bytes) -> Document:
    import io

    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
        count = getattr(img, "n_frames", 1)
    except Exception as e:
        raise InputError(f"{path}: broken image, cannot be opened ({short_reason(e)})") from None
    return Document(path, "image", count, file_digest(data), img)

