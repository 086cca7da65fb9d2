"""docvl: document intelligence with Qwen2-VL — OCR, tables, grounding and key fields from PDFs and
images, on the command line (`docvl --help`) and in Python:

    import docvl
    doc = docvl.ocr("invoice.pdf")
    print(doc.text)

The functions and classes below load lazily, so `import docvl` (and `docvl --help`) stays fast.
"""

__version__ = "0.1.0"
SCHEMA = "docvl/1"

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads them on first use
    from . import errors
    from .api import Document, Engine, extract, extract_tables, ground, ocr, run

__all__ = ["Document", "Engine", "extract", "extract_tables", "ground", "ocr", "run", "errors"]
_API = {"Document", "Engine", "extract", "extract_tables", "ground", "ocr", "run"}


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "errors":
        from . import errors

        return errors
    raise AttributeError(f"module 'docvl' has no attribute {name!r}")
