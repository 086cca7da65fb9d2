"""PyMuPDF 2.0 loads an ONNX layout-analysis model on import (~0.6 s) that docvl never uses, and
imports pymupdf4llm if installed, which loads onnxruntime (it writes a device id under ~/.cache and a
session file in the temp folder on every run). Processes docvl owns (the CLI, the raster workers)
leave both out; a program that imports docvl as a library keeps them. Importing this module leaves
them out (the raster workers' forkserver preloads it)."""

import os
import sys


def leave_out() -> None:
    if "pymupdf" not in sys.modules:
        sys.modules.setdefault("pymupdf.layout", None)
        sys.modules.setdefault("pymupdf4llm", None)
    # Stops PyMuPDF from looking for the layout model again, and from printing a recommendation to
    # stdout, which carries data.
    os.environ.setdefault("PYMUPDF_SUGGEST_LAYOUT_ANALYZER", "0")


leave_out()
