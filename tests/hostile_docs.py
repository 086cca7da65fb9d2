"""Generated hostile inputs: a PDF that renders forever, giant pages and images, decompression bombs,
broken TIFF frames, truncated and bit-flipped files. Small on disk, expensive to read naively."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pymupdf
from PIL import Image, ImageDraw


def raw_pdf(objects: list[bytes], trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A PDF file from object bodies numbered 1..n, with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def stream(entries: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def one_page(content: bytes, resources: bytes = b"<< >>", extra: list[bytes] = (), media: bytes = b"0 0 612 792",
             trailer: bytes = b"/Root 1 0 R", page_entries: bytes = b"") -> bytes:
    """Objects 1-4 are the catalog, the page tree, the page and its content; `extra` are 5, 6, ..."""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Resources %s /Contents 4 0 R %s >>"
        % (media, resources, page_entries),
        stream(b"", content),
        *extra,
    ], trailer)


def forever_pdf(depth: int = 30, fan: int = 10) -> bytes:
    """A "billion laughs" page: form 5 draws form 6 `fan` times, which draws form 7 `fan` times, ...
    `fan ** depth` rectangles from a file of a few kilobytes. No cycle for MuPDF to detect."""
    forms = []
    for level in range(depth):
        number = 5 + level
        body = b" ".join([b"/F Do"] * fan)
        forms.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
                            b"/Resources << /XObject << /F %d 0 R >> >>" % (number + 1), body))
    forms.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792]", b"0 0 1 rg 10 10 100 100 re f"))
    return one_page(b"/F Do", b"<< /XObject << /F 5 0 R >> >>", forms)


def _zeros_deflated(rows: int, row: bytes) -> bytes:
    packer = zlib.compressobj(9)
    block = row * 1000
    parts = [packer.compress(block) for _ in range(rows // 1000)]
    parts.append(packer.compress(row * (rows % 1000)))
    parts.append(packer.flush())
    return b"".join(parts)


def giant_image_pdf(side: int = 50_000) -> bytes:
    """A US-letter page showing one bilevel image of side x side pixels (2.5 gigapixels at 50,000)."""
    data = _zeros_deflated(side, bytes((side + 7) // 8))
    image = stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                   b"/BitsPerComponent 1 /Decode [1 0] /Filter /FlateDecode" % (side, side), data)
    return one_page(b"q 612 0 0 792 0 0 cm /Im Do Q", b"<< /XObject << /Im 5 0 R >> >>", [image])


def giant_page_pdf(inches: float = 200) -> bytes:
    """One page of inches x inches with a line of text in its corner."""
    side = inches * 72
    doc = pymupdf.open()
    page = doc.new_page(width=side, height=side)
    page.insert_text((72, 144), "A corner of a very large page", fontsize=48)
    return doc.tobytes()


def png_bomb(width: int, height: int) -> bytes:
    """A valid bilevel PNG of width x height pixels; all white, so it deflates to almost nothing."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = _zeros_deflated(height, b"\x00" + b"\xff" * ((width + 7) // 8))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def tiff_pages(count: int = 3) -> tuple[bytes, list[tuple[int, int]]]:
    """A deflate-compressed multi-page TIFF and, per frame, (offset of its IFD, offset of its strip)."""
    frames = []
    for i in range(count):
        frame = Image.new("L", (300, 400), 255)
        ImageDraw.Draw(frame).text((20, 20), f"frame {i + 1}", fill=0)
        frames.append(frame)
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate",
                   dpi=(100, 100))
    data = buf.getvalue()
    where = []
    with Image.open(io.BytesIO(data)) as img:
        for i in range(count):
            img.seek(i)
            where.append((img._frame_pos[i], img.tag_v2[273][0]))
    return data, where


def tiff_with_broken_frame(broken: int, part: str) -> bytes:
    """A 3-page TIFF whose frame `broken` (0-based) has garbage in its strip data ("data") or in the
    entries of its directory ("header")."""
    data, where = tiff_pages(3)
    ifd, strip = where[broken]
    out = bytearray(data)
    if part == "data":
        out[strip:strip + 64] = b"\x55" * 64
    else:
        entries = struct.unpack_from("<H", out, ifd)[0]
        out[ifd + 2:ifd + 2 + 12 * entries] = b"\xff" * (12 * entries)
    return bytes(out)


def truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def bit_flipped(data: bytes, flips: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(flips):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def user_unit_pdf(unit: float = 10) -> bytes:
    """The gnarly poster's trick: a 1800 x 3600 MediaBox with /UserUnit, so 18000 x 36000 pt at 10."""
    return one_page(b"0 0 1 rg 100 100 1600 3400 re f", media=b"0 0 1800 3600", page_entries=b"/UserUnit %g" % unit)


def zero_page_pdf() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def png_with_pdf_header() -> bytes:
    """A PNG that carries "%PDF-" in a text chunk near its start."""
    buf = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "%PDF-1.7 not really")
    Image.new("L", (200, 100), 255).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()
