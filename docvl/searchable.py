"""Searchable PDFs: docvl's OCR lines written back into the document as an invisible text layer.

`searchable_pdf(record, file)` takes an `ocr --boxes` document record and the file it came from and
returns the PDF: every page as it was (content, images, annotations, size, /Rotate), with invisible
text (render mode 3) on the pages the model read. Pages answered from a trusted text layer, failed
pages and pages not selected are left as they are. Images (PNG, JPEG, TIFF frames) become pages at
their own resolution first.

The text is drawn in a glyphless TrueType font (docvl/fonts/glyphless.ttf: one blank glyph) as a
Type0 font with Identity-H encoding. Each distinct character of the document gets a CID of its own,
drawn with the blank glyph, and the font's ToUnicode CMap maps every CID back to its character, so
any script (Latin, Korean, Chinese, Japanese, Arabic, characters beyond the BMP) is extracted exactly
as the model wrote it, and nothing depends on a font having its glyphs. Each line is set at a font
size equal to its box's height (ascent 0.8, descent 0.2 of the size) and stretched (Tz) to its box's
width; its words fall where docvl.layout.split_words places them.

PDF inputs are saved incrementally where MuPDF can (the original bytes stay as they were, followed by
the text layer), else rewritten. With `replace=True` (`--text-layer off`) existing invisible text is
removed from the pages that get the new layer, so OCR layers are replaced, not stacked.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from importlib import resources

from .layout import EM, advance, line_advance, page_lines, visual_order
from .sources import load_pymupdf, open_document

FONT_NAME = "DocvlGlyphless"
RESOURCE = "DocvlOCR"
ASCENT = 0.8  # of the font size; the descent is the rest


def glyphless_font() -> bytes:
    return (resources.files("docvl.fonts") / "glyphless.ttf").read_bytes()


def layered_pages(record: dict) -> dict[int, list[dict]]:
    """1-based page -> the lines to write on it: pages the model read, with lines that have boxes."""
    pages = {}
    for page in record.get("pages", []):
        if page.get("source") == "text-layer":
            continue  # a trusted text layer is left as it is
        lines = page_lines(page)
        if lines:
            pages[page["page"]] = lines
    return pages


def searchable_pdf(record: dict, file: str, password: str | None = None, replace: bool = False) -> bytes:
    """The searchable PDF of one document record (`ocr --boxes`) read from `file`."""
    source = open_document(file, password)
    try:
        if source.kind == "pdf":
            return _layer_pdf(source.handle, file, record, password, replace)
        return _layer_images(source.handle, record, file)
    finally:
        source.close()


# -- PDF inputs ------------------------------------------------------------------------------------

def _layer_pdf(doc, file: str, record: dict, password: str | None, replace: bool) -> bytes:
    pymupdf = load_pymupdf()
    pages = layered_pages(record)
    if not pages:
        with open(file, "rb") as f:
            return f.read()  # nothing to add: the file as it was
    if replace and any(_has_invisible_text(doc[n - 1]) for n in pages):
        data = _strip_invisible_text(doc.tobytes(), set(pages), password)
        doc = pymupdf.open(stream=data, filetype="pdf")
        if doc.needs_pass:
            doc.authenticate(password or "")
    elif doc.can_save_incrementally():
        return _incremental(file, record, password, pages)
    _add_text_layer(doc, pages)
    return doc.tobytes(garbage=1, deflate=True)


def _incremental(file: str, record: dict, password: str | None, pages: dict) -> bytes:
    """The original bytes, then an incremental update with the text layer (MuPDF saves incrementally
    only into the file it opened: a temporary copy)."""
    pymupdf = load_pymupdf()
    folder = tempfile.mkdtemp(prefix="docvl-pdf-")
    try:
        copy = os.path.join(folder, "doc.pdf")
        shutil.copyfile(file, copy)
        doc = pymupdf.open(copy)
        try:
            if doc.needs_pass:
                from .sources import _authenticate

                _authenticate(doc, password or "")
            _add_text_layer(doc, pages)
            doc.save(copy, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP, deflate=True)
        finally:
            doc.close()
        with open(copy, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _has_invisible_text(page) -> bool:
    try:
        return any(span.get("type") == 3 for span in page.get_texttrace())
    except Exception:
        return False


def _strip_invisible_text(data: bytes, numbers: set[int], password: str | None) -> bytes:
    """Remove invisible text (render mode 3) from the content streams of pages `numbers` and of the
    forms they draw: the OCR layer an earlier program wrote."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data), password=password or "") as pdf:
        seen: set = set()
        for n in sorted(numbers):
            page = pdf.pages[n - 1]
            page.contents_coalesce()
            page.Contents.write(_without_invisible(pikepdf, page.Contents))
            _strip_forms(pikepdf, page.obj.get("/Resources"), seen)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def _strip_forms(pikepdf, res, seen: set) -> None:
    xobjects = res.get("/XObject") if isinstance(res, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return
    for _, xobj in xobjects.items():
        if not isinstance(xobj, pikepdf.Stream) or xobj.get("/Subtype") != "/Form":
            continue
        key = xobj.objgen
        if key in seen:
            continue
        seen.add(key)
        xobj.write(_without_invisible(pikepdf, xobj))
        _strip_forms(pikepdf, xobj.get("/Resources"), seen)


_SHOW = {"Tj", "TJ", "'", '"'}


def _without_invisible(pikepdf, stream) -> bytes:
    """The content stream without its text-showing operators drawn in render mode 3 (the state
    outside BT..ET, q and Q keep their meaning: the mode is part of the graphics state)."""
    kept = []
    mode, stack = 0, []
    for operands, operator in pikepdf.parse_content_stream(stream):
        op = str(operator)
        if op == "q":
            stack.append(mode)
        elif op == "Q" and stack:
            mode = stack.pop()
        elif op == "Tr" and operands:
            mode = int(operands[0])
        if op in _SHOW and mode == 3:
            continue
        kept.append((operands, operator))
    return pikepdf.unparse_content_stream(kept)


def text_only_pdf(record: dict) -> bytes:
    """Blank pages of the record's page sizes carrying only the text layer (OCRmyPDF grafts such a
    PDF onto its page; its sandwich renderer takes the font named /F1)."""
    pymupdf = load_pymupdf()
    doc = pymupdf.open()
    for page in record.get("pages", []):
        doc.new_page(width=page["width_pt"], height=page["height_pt"])
    numbers = {p["page"]: i + 1 for i, p in enumerate(record.get("pages", []))}
    _add_text_layer(doc, {numbers[n]: lines for n, lines in layered_pages(record).items()}, resource="F1")
    return doc.tobytes(garbage=1, deflate=True)


# -- image inputs ----------------------------------------------------------------------------------

def _layer_images(img, record: dict, file: str) -> bytes:
    """A PDF of the image's frames, each a page at the frame's own resolution, with the text layer."""
    import warnings

    from .raster import _image_dpi

    pymupdf = load_pymupdf()
    doc = pymupdf.open()
    count = getattr(img, "n_frames", 1)
    for n in range(count):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img.seek(n)
            img.load()
        dpi = _image_dpi(img)
        page = doc.new_page(width=img.width * 72.0 / dpi, height=img.height * 72.0 / dpi)
        page.insert_image(page.rect, stream=_frame_bytes(img, count, file))
    _add_text_layer(doc, layered_pages(record))
    return doc.tobytes(garbage=1, deflate=True)


def _frame_bytes(img, count: int, file: str) -> bytes:
    """The frame as an image file PDF can hold: a JPEG as it was (no second lossy encoding), anything
    else as PNG (lossless)."""
    if count == 1 and img.format == "JPEG":
        with open(file, "rb") as f:
            return f.read()
    frame = img
    if frame.mode not in ("1", "L", "LA", "RGB", "RGBA", "P"):
        frame = frame.convert("RGBA" if frame.has_transparency_data else "RGB")
    buf = io.BytesIO()
    frame.save(buf, format="PNG")
    return buf.getvalue()


# -- the text layer --------------------------------------------------------------------------------

def _add_text_layer(doc, pages: dict[int, list[dict]], resource: str = RESOURCE) -> None:
    if not pages:
        return
    chars = sorted({ch for lines in pages.values() for line in lines for ch in line["text"]})
    cids = {ch: i + 1 for i, ch in enumerate(chars)}
    font = _add_font(doc, chars)
    for number, lines in sorted(pages.items()):
        page = doc[number - 1]
        name = _add_font_resource(doc, page, font, resource)
        _append_content(doc, page, _text_ops(page, lines, name, cids))


def _add_font(doc, chars: list[str]) -> int:
    """A Type0 font (Identity-H) over the glyphless TrueType: CID i+1 is chars[i]. Its xref."""
    def new(obj: str, stream: bytes | None = None) -> int:
        xref = doc.get_new_xref()
        doc.update_object(xref, obj)
        if stream is not None:
            doc.update_stream(xref, stream, new=True)
        return xref

    ttf = glyphless_font()
    fontfile = new(f"<< /Length1 {len(ttf)} >>", ttf)
    descriptor = new(f"<< /Type /FontDescriptor /FontName /{FONT_NAME} /Flags 5 /FontBBox [0 -200 1000 800] "
                     f"/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 {fontfile} 0 R >>")
    # Every CID but 0 is drawn with glyph 1, the blank one.
    gid_map = new("<< >>", b"\x00\x00" + b"\x00\x01" * len(chars))
    widths = " ".join(str(advance(ch)) for ch in chars)
    cidfont = new(f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FONT_NAME} "
                  f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                  f"/FontDescriptor {descriptor} 0 R /DW {EM // 2} /W [1 [{widths}]] /CIDToGIDMap {gid_map} 0 R >>")
    to_unicode = new("<< >>", _to_unicode(chars))
    return new(f"<< /Type /Font /Subtype /Type0 /BaseFont /{FONT_NAME} /Encoding /Identity-H "
               f"/DescendantFonts [{cidfont} 0 R] /ToUnicode {to_unicode} 0 R >>")


def _to_unicode(chars: list[str]) -> bytes:
    head = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            f"/CMapName /{FONT_NAME}-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
    body = []
    for start in range(0, len(chars), 100):
        block = chars[start:start + 100]
        body.append(f"{len(block)} beginbfchar\n")
        for i, ch in enumerate(block, start + 1):
            body.append(f"<{i:04X}> <{ch.encode('utf-16-be').hex().upper()}>\n")
        body.append("endbfchar\n")
    tail = "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    return (head + "".join(body) + tail).encode("ascii")


def _resolve(doc, xref: int, key: str) -> tuple[str, str]:
    """A page's entry `key`, looked up through /Parent where it is inherited."""
    seen = set()
    while xref and xref not in seen:
        seen.add(xref)
        kind, value = doc.xref_get_key(xref, key)
        if kind != "null":
            return kind, value
        kind, parent = doc.xref_get_key(xref, "Parent")
        xref = int(parent.split()[0]) if kind == "xref" else 0
    return "null", "null"


def _add_font_resource(doc, page, font: int, resource: str = RESOURCE) -> str:
    """Put the font into the page's /Resources /Font under a name not taken there; the name."""
    if doc.xref_get_key(page.xref, "Resources")[0] == "null":
        # Inherited (or none): the page gets its own copy of the reference or dictionary.
        kind, value = _resolve(doc, page.xref, "Resources")
        doc.xref_set_key(page.xref, "Resources", value if kind != "null" else "<< >>")
    kind, value = doc.xref_get_key(page.xref, "Resources")
    res, prefix = (int(value.split()[0]), "") if kind == "xref" else (page.xref, "Resources/")
    kind, value = doc.xref_get_key(res, prefix + "Font")
    if kind == "xref":
        fonts = int(value.split()[0])
    else:  # a direct dictionary (or none) becomes an object of its own, whose keys can be listed
        fonts = doc.get_new_xref()
        doc.update_object(fonts, value if kind == "dict" else "<< >>")
        doc.xref_set_key(res, prefix + "Font", f"{fonts} 0 R")
    taken = set(doc.xref_get_keys(fonts))
    name, n = resource, 1
    while name in taken and doc.xref_get_key(fonts, name)[1] != f"{font} 0 R":
        n += 1
        name = f"{resource}{n}"
    doc.xref_set_key(fonts, name, f"{font} 0 R")
    return name


def _append_content(doc, page, ops: bytes) -> None:
    """Wrap the page's contents in q ... Q (whatever state they leave behind stays inside) and
    draw `ops` after them."""
    contents = page.get_contents()
    if not contents:  # a blank page: one stream (OCRmyPDF's sandwich grafting reads a single one)
        only = doc.get_new_xref()
        doc.update_object(only, "<< >>")
        doc.update_stream(only, ops, new=True)
        doc.xref_set_key(page.xref, "Contents", f"{only} 0 R")
        return
    first = doc.get_new_xref()
    doc.update_object(first, "<< >>")
    doc.update_stream(first, b"q\n", new=True)
    last = doc.get_new_xref()
    doc.update_object(last, "<< >>")
    doc.update_stream(last, b"Q\n" + ops, new=True)
    refs = " ".join(f"{x} 0 R" for x in [first, *contents, last])
    doc.xref_set_key(page.xref, "Contents", f"[{refs}]")


def _text_ops(page, lines: list[dict], name: str, cids: dict[str, int]) -> bytes:
    """The text object drawing `lines` (boxes in points of the page as displayed) invisibly."""
    pymupdf = load_pymupdf()
    # Points of the page as displayed (top-left origin, rotation applied) -> PDF user space.
    to_pdf = page.derotation_matrix * ~page.transformation_matrix
    out = [f"BT\n3 Tr\n/{name} 1 Tf\n"]
    for line in lines:
        text = line["text"]
        x0, y0, x1, y1 = line["box"]
        height = y1 - y0
        width = line_advance(text) * height / EM
        if width <= 0:
            continue
        # Text space: origin on the baseline at the box's left, one unit = the font size, y up.
        m = pymupdf.Matrix(height, 0, 0, -height, x0, y0 + ASCENT * height) * to_pdf
        scale = 100.0 * (x1 - x0) / width
        codes = "".join(f"{cids[text[i]]:04X}" for i in visual_order(text))  # drawn as seen
        out.append(f"{_num(scale)} Tz {_num(m.a)} {_num(m.b)} {_num(m.c)} {_num(m.d)} {_num(m.e)} {_num(m.f)} Tm "
                   f"<{codes}> Tj\n")
    out.append("ET\n")
    return "".join(out).encode("ascii")


def _num(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")  # a hundredth of a point
    return "0" if text in ("-0", "") else text
