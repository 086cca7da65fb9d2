"""An OCRmyPDF plugin: Qwen2-VL through docvl as OCRmyPDF's OCR engine.

    pip install "docvl[ocrmypdf]"
    ocrmypdf --plugin docvl.ocrmypdf --jobs 1 in.pdf out.pdf
    ocrmypdf --plugin docvl.ocrmypdf --docvl-base-url http://127.0.0.1:8000/v1 --jobs 4 in.pdf out.pdf

OCRmyPDF keeps doing what it does (rasterising, deskew, rotation, PDF/A, optimisation); for each page
image it asks this engine for hOCR, which docvl writes from its `ocr --boxes` lines (docvl.hocr), or for
a text-only PDF (`--pdf-renderer sandwich`), which docvl writes as its searchable PDFs' text layer.
docvl's options arrive as OCRmyPDF options: --docvl-model, --docvl-engine, --docvl-base-url,
--docvl-api-key, --docvl-device, --docvl-dtype, --docvl-min-pixels, --docvl-max-pixels,
--docvl-max-new-tokens, --docvl-lang. The plugin stands in for Tesseract, which it blocks (Tesseract
need not be installed). A local model is loaded once per OCRmyPDF worker process: use --jobs 1 unless
the model is served (--docvl-base-url), where --jobs sets the requests in flight.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ocrmypdf import hookimpl
from ocrmypdf.exceptions import BadArgsError
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence
from pydantic import BaseModel

from . import __version__
from .budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS
from .config import DEFAULT_MODEL

log = logging.getLogger(__name__)

# OCRmyPDF checks -l against these; Qwen2-VL reads far more, and docvl's prompt needs none of them.
LANGUAGES = {"eng", "deu", "fra", "spa", "ita", "por", "nld", "pol", "ces", "swe", "dan", "nor", "fin", "tur",
             "rus", "ukr", "ell", "heb", "ara", "fas", "hin", "tha", "vie", "ind", "kor", "jpn", "chi_sim",
             "chi_tra"}


class DocvlOptions(BaseModel):
    """docvl's options inside OCRmyPDF (options.docvl.*; on the command line --docvl-*)."""

    model: str = DEFAULT_MODEL
    engine: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_new_tokens: int = 1024
    lang: str | None = None


@hookimpl
def initialize(plugin_manager):
    # This engine replaces Tesseract, whose checks would otherwise demand the program.
    plugin_manager.set_blocked("ocrmypdf.builtin_plugins.tesseract_ocr")


@hookimpl
def register_options():
    # OCRmyPDF's own option checks read options.tesseract.*: its model stays registered, with defaults.
    from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOptions

    return {"docvl": DocvlOptions, "tesseract": TesseractOptions}


@hookimpl
def add_options(parser):
    group = parser.add_argument_group("docvl", "Qwen2-VL through docvl as the OCR engine")
    for name, field in DocvlOptions.model_fields.items():
        kind = field.annotation if field.annotation in (int, str) else str
        group.add_argument(f"--docvl-{name.replace('_', '-')}", dest=f"docvl_{name}", type=kind,
                           default=field.default, help=f"docvl's --{name.replace('_', '-')} (default: {field.default})")


def _engine_options(options) -> dict:
    d = options.docvl
    return {"model": d.model, "engine": d.engine, "base_url": d.base_url, "api_key": d.api_key,
            "device": d.device, "dtype": d.dtype, "min_pixels": d.min_pixels, "max_pixels": d.max_pixels,
            "max_new_tokens": d.max_new_tokens, "workers": 1, "quiet": True}


@hookimpl
def check_options(options):
    from .config import Config
    from .errors import UsageError
    from .prompts import language_name

    try:
        Config.of(_engine_options(options))
        language_name(options.docvl.lang)
    except UsageError as e:
        raise BadArgsError(f"docvl: {e.message}") from None


_engines: dict = {}
_lock = threading.Lock()


def _docvl_engine(options):
    """One docvl Engine per process and options (the model loads on the first page)."""
    import docvl

    opts = _engine_options(options)
    key = tuple(sorted((k, str(v)) for k, v in opts.items()))
    with _lock:
        if key not in _engines:
            _engines[key] = docvl.Engine(**opts)
        return _engines[key]


def _read(input_file: Path, options) -> tuple[dict, float]:
    """docvl's record of one page image, and the image's resolution."""
    import docvl
    from PIL import Image

    from .raster import _image_dpi

    with Image.open(input_file) as img:
        dpi = _image_dpi(img)
    doc = docvl.ocr(str(input_file), boxes=True, text_layer="off", lang=options.docvl.lang,
                    engine=_docvl_engine(options))
    return doc.to_dict(), dpi


class DocvlOcrEngine(OcrEngine):
    @staticmethod
    def version() -> str:
        return __version__

    @staticmethod
    def creator_tag(options) -> str:
        return f"docvl {__version__} ({options.docvl.model})"

    def __str__(self) -> str:
        return f"docvl {__version__}"

    @staticmethod
    def languages(options) -> set[str]:
        return set(LANGUAGES) | set(getattr(options, "languages", None) or [])

    @staticmethod
    def get_orientation(input_file: Path, options) -> OrientationConfidence:
        return OrientationConfidence(angle=0, confidence=0.0)  # docvl does not guess rotation

    @staticmethod
    def get_deskew(input_file: Path, options) -> float:
        return 0.0

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options) -> None:
        from .hocr import to_hocr

        record, dpi = _read(input_file, options)
        Path(output_hocr).write_text(to_hocr(record, image_dpi=dpi), encoding="utf-8")
        Path(output_text).write_text(_text(record), encoding="utf-8")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options) -> None:
        from .searchable import text_only_pdf

        record, _ = _read(input_file, options)
        Path(output_pdf).write_bytes(text_only_pdf(record))
        Path(output_text).write_text(_text(record), encoding="utf-8")


def _text(record: dict) -> str:
    return "\f".join(p.get("text", "") for p in record.get("pages", []) if p.get("status") == "ok")


@hookimpl
def get_ocr_engine(options):
    if options is not None and getattr(options, "ocr_engine", "auto") not in ("auto", "docvl"):
        return None
    return DocvlOcrEngine()
