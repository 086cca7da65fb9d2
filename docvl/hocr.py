"""hOCR 1.2 and ALTO v4 from an `ocr --boxes` document record: one file per document, a page element
per page. Coordinates come from the record's boxes in points (nothing is measured again), in pixels of
the page at one resolution: a scan's own (`scan_dpi`: the pixels of the scanned image), else the one
docvl rendered the page at (`dpi`), else 72 (pages answered from a PDF's text layer). Words are the
lines' words placed by docvl.layout.split_words, as the searchable PDF places them.
"""

from __future__ import annotations

import os
from xml.sax.saxutils import escape, quoteattr

from . import __version__
from .layout import page_lines, split_words


def _page_frame(page: dict, image_dpi: float | None = None) -> tuple[float, float, float, float]:
    """(width, height, resolution in dpi, pixels per point) of a page's coordinate frame: the page at
    `image_dpi`, else at its scan's own resolution, else at the resolution docvl rendered it, else 72
    (a text-layer page). One resolution for both axes, as hOCR's scan_res and ALTO's pixels mean."""
    dpi = image_dpi or page.get("scan_dpi") or page.get("dpi") or 72.0
    per_pt = dpi / 72.0
    return (page.get("width_pt") or 0) * per_pt, (page.get("height_pt") or 0) * per_pt, dpi, per_pt


def _line_box(line: dict, per_pt: float) -> list[float]:
    return [v * per_pt for v in line["box"]]


def _words(line: dict, box: list[float]) -> list[tuple[str, list[float]]]:
    return [(w, [x0, box[1], x1, box[3]]) for w, x0, x1 in split_words(line["text"], box[0], box[2])]


def _int_box(box: list[float]) -> str:
    return " ".join(str(max(0, round(v))) for v in box)


def _conf(line: dict) -> float | None:
    conf = line.get("confidence")
    return conf if isinstance(conf, (int, float)) else None


def to_hocr(record: dict, image_dpi: float | None = None) -> str:
    """hOCR of a document; `image_dpi`: in pixels of the page at that resolution (OCRmyPDF's page
    image) instead of the image docvl's model saw."""
    image = os.path.basename(record["source"]["path"])
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
           '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
           '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n',
           '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n<head>\n',
           f"<title>{escape(image)}</title>\n",
           '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n',
           f"<meta name='ocr-system' content='docvl {__version__}'/>\n",
           "<meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word'/>\n",
           "</head>\n<body>\n"]
    for page in record.get("pages", []):
        n = page["page"]
        width, height, dpi, per_pt = _page_frame(page, image_dpi)
        title = (f"image {_quoted(image)}; bbox 0 0 {round(width)} {round(height)}; ppageno {n - 1}; "
                 f"scan_res {round(dpi)} {round(dpi)}")
        out.append(f"<div class='ocr_page' id='page_{n}' title={quoteattr(title)}>\n")
        lines = page_lines(page)
        if lines:
            out.append(f"<div class='ocr_carea' id='block_{n}_1'>\n<p class='ocr_par' id='par_{n}_1'>\n")
        for i, line in enumerate(lines, 1):
            box = _line_box(line, per_pt)
            out.append(f"<span class='ocr_line' id='line_{n}_{i}' title='bbox {_int_box(box)}'>")
            for j, (word, wbox) in enumerate(_words(line, box), 1):
                conf = _conf(line)
                wconf = f"; x_wconf {round(conf * 100)}" if conf is not None else ""
                out.append(f"<span class='ocrx_word' id='word_{n}_{i}_{j}' title='bbox {_int_box(wbox)}{wconf}'>"
                           f"{escape(word)}</span> ")
            out.append("</span>\n")
        if lines:
            out.append("</p>\n</div>\n")
        out.append("</div>\n")
    out.append("</body>\n</html>\n")
    return "".join(out)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"


def to_alto(record: dict) -> str:
    """ALTO v4 in pixels (MeasurementUnit pixel): each page in its own frame, as hOCR's."""
    name = record["source"]["path"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
           f'<alto xmlns="{ALTO_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xsi:schemaLocation="{ALTO_NS} http://www.loc.gov/alto/v4/alto-4-4.xsd">\n',
           "<Description>\n<MeasurementUnit>pixel</MeasurementUnit>\n<sourceImageInformation>\n"
           f"<fileName>{escape(name)}</fileName>\n</sourceImageInformation>\n",
           "<OCRProcessing ID=\"ocr_1\">\n<ocrProcessingStep>\n<processingSoftware>\n"
           f"<softwareName>docvl</softwareName>\n<softwareVersion>{escape(__version__)}</softwareVersion>\n"
           "</processingSoftware>\n</ocrProcessingStep>\n</OCRProcessing>\n</Description>\n<Layout>\n"]
    for page in record.get("pages", []):
        n = page["page"]
        width, height, dpi, per_pt = _page_frame(page)
        out.append(f'<Page ID="page_{n}" PHYSICAL_IMG_NR="{n}" WIDTH="{_f(width)}" HEIGHT="{_f(height)}">\n'
                   f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{_f(width)}" HEIGHT="{_f(height)}">\n')
        lines = page_lines(page)
        if lines:
            boxes = [_line_box(line, per_pt) for line in lines]
            x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
            x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
            out.append(f'<TextBlock ID="block_{n}_1" {_pos([x0, y0, x1, y1])}>\n')
            for i, (line, box) in enumerate(zip(lines, boxes), 1):
                out.append(f'<TextLine ID="line_{n}_{i}" {_pos(box)}>\n')
                words = _words(line, box)
                for j, (word, wbox) in enumerate(words, 1):
                    conf = _conf(line)
                    wc = f' WC="{conf:.2f}"' if conf is not None else ""
                    out.append(f'<String ID="string_{n}_{i}_{j}" CONTENT={quoteattr(word)} {_pos(wbox)}{wc}/>\n')
                    if j < len(words):
                        out.append(f'<SP HPOS="{_f(wbox[2])}" VPOS="{_f(wbox[1])}" '
                                   f'WIDTH="{_f(max(0.0, words[j][1][0] - wbox[2]))}"/>\n')
                out.append("</TextLine>\n")
            out.append("</TextBlock>\n")
        out.append("</PrintSpace>\n</Page>\n")
    out.append("</Layout>\n</alto>\n")
    return "".join(out)


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _pos(box: list[float]) -> str:
    x0, y0, x1, y1 = box
    return f'HPOS="{_f(x0)}" VPOS="{_f(y0)}" WIDTH="{_f(x1 - x0)}" HEIGHT="{_f(y1 - y0)}"'
