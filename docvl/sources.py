"""Inputs: open PDFs and images as documents and select their pages."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import stringprep
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, UsageError, counted, short_reason

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"}
PDF_SUFFIXES = {".pdf"}
# The only decoders Pillow may use on an input: exotic formats are attack surface, not documents.
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "GIF", "WEBP")
# The most pixels an image may decode to (JPEG after its reduced-size decoding, up to 1/8 a side):
# a US-letter or A4 page scanned at 1200 DPI (135 / 140 megapixels) fits; a decompression bomb does
# not. Checked from the file's header, before anything is decoded.
MAX_DECODE_PIXELS = 150_000_000
JPEG_MAX_REDUCTION = 64

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


def check_pages(spec: str | None) -> None:
    """A --pages that no page count makes valid is a usage error before any work."""
    try:
        parse_pages(spec, 1)
    except UsageError:
        parse_pages(spec, 10**5)


def select_pages(path: str, spec: str | None, count: int) -> list[int]:
    """The pages of a `count`-page document that --pages selects. Pages past its end are left out (one
    --pages serves a folder of documents of any length); selecting none of its pages is an input error."""
    numbers = parse_pages(spec, count)
    if spec and count and not numbers:
        raise InputError(f"{path}: --pages {spec} selects none of its {counted(count, 'page')}")
    return numbers


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
    # An image's signature at offset 0 is definitive, even when a text chunk says "%PDF-".
    signatures = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8", b"RIFF")
    if head.startswith(signatures):
        return "image"
    if b"%PDF-" in head[:1024]:
        return "pdf"
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
    if kind is None:
        raise InputError(f"{path}: not a PDF or an image (PNG, JPEG, TIFF)")
    _check_name(path, kind)
    if kind == "pdf":
        return _open_pdf(path, data, password)
    return _open_image(path, data)


def _check_name(path: str, kind: str) -> None:
    """A name that says PDF on an image (or the reverse) usually means a wrong download or export:
    reading what is there would give a quietly wrong answer, so say so instead."""
    suffix = Path(path).suffix.lower()
    if kind == "image" and suffix in PDF_SUFFIXES:
        raise InputError(f"{path}: not a PDF, the file holds an image; rename it (e.g. to .png) to read it as one")
    if kind == "pdf" and suffix in IMAGE_SUFFIXES:
        raise InputError(f"{path}: the file holds a PDF, not a {suffix[1:].upper()} image; rename it to .pdf")


@functools.cache
def load_pymupdf():
    """PyMuPDF, its messages sent to the `docvl.mupdf` logger (silent unless logging is set up).
    By default PyMuPDF prints them to stdout, where they would corrupt docvl's data: find_tables(),
    for one, prints "find_tables: exception occurred: ..." there and returns None."""
    import pymupdf

    logging.getLogger("docvl.mupdf").addHandler(logging.NullHandler())
    pymupdf.set_messages(pylogging_name="docvl.mupdf")
    return pymupdf


def _open_pdf(path: str, data: bytes, password: str | None) -> Document:
    pymupdf = load_pymupdf()
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as e:  # PyMuPDF raises several types for broken files
        raise InputError(f"{path}: broken PDF, cannot be opened ({short_reason(e)})") from None
    try:
        # PyMuPDF opens HTML, XPS or images as documents too, whatever `filetype` says.
        if not doc.is_pdf:
            raise InputError(f"{path}: not a PDF, although it contains a PDF header")
        # Read needs_pass once, before authenticating: reading it afterwards breaks decryption.
        if doc.needs_pass:
            if not password:
                raise InputError(f"{path}: encrypted PDF; pass its password with --password")
            if not _authenticate(doc, password):
                raise InputError(f"{path}: wrong password for this encrypted PDF (--password)")
        try:
            count = doc.page_count
        except Exception as e:  # e.g. a /Count that is not a number of pages
            raise InputError(f"{path}: broken PDF, cannot count pages ({short_reason(e)})") from None
        if count == 0:
            # A broken trailer can be "repaired" into an empty document without any error.
            damaged = " (it was damaged and repaired)" if doc.is_repaired else ""
            raise InputError(f"{path}: the PDF has no pages{damaged}")
    except BaseException:
        doc.close()
        raise
    return Document(path, "pdf", count, file_digest(data), doc)


def _authenticate(doc, password: str) -> bool:
    """The password as typed, then as SASLprep prepares it: AES-256 (R6) files made by Acrobat were
    encrypted with the prepared form (e.g. a typed U+2168 ROMAN NUMERAL NINE is "IX"), MuPDF
    does not prepare passwords itself."""
    if doc.authenticate(password):
        return True
    prepared = saslprep(password)
    return prepared != password and bool(doc.authenticate(prepared))


def saslprep(text: str) -> str:
    """RFC 4013 mapping and normalisation (prohibited characters are left to the password check)."""
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c)
    )
    return unicodedata.normalize("NFKC", mapped)


def _open_image(path: str, data: bytes) -> Document:
    import io

    from PIL import Image

    # docvl's own limit (below, and per frame in raster) replaces Pillow's, which would refuse a
    # huge JPEG that docvl can decode at 1/8 scale.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on odd files are not the user's business
            img = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            reducible = JPEG_MAX_REDUCTION if img.format == "JPEG" else 1
            if img.width * img.height > MAX_DECODE_PIXELS * reducible:
                raise InputError(too_large(path, img.width, img.height))
            count = frame_count(img)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"{path}: broken image, cannot be opened ({short_reason(e)})") from None
    return Document(path, "image", count, file_digest(data), img)


def too_large(where: str, width: int, height: int) -> str:
    return (f"{where}: image of {width} x {height} pixels is larger than docvl decodes "
            f"({MAX_DECODE_PIXELS // 1_000_000} megapixels); downscale it first")


def frame_count(img) -> int:
    """Frames of a (multi-page) image. Pillow's count fails on a broken frame header; walking the
    frames instead counts a broken frame (it fails alone when rendered) and goes on past it, and
    stops where the frame after a broken one cannot be reached either."""
    try:
        return getattr(img, "n_frames", 1)
    except Exception:
        pass
    count = 0
    while True:
        try:
            img.seek(count)
        except EOFError:
            break
        except Exception:
            try:
                img.seek(count + 1)
            except Exception:
                count += 1
                break
        count += 1
    return count

