"""The docvl command line (Typer). Importing it must not import torch."""

import os
import sys

# PyMuPDF 2.0 loads an ONNX layout-analysis model on import (~0.6 s) that docvl never uses. The CLI
# owns its process, so it leaves that module out; the environment switch stops PyMuPDF from looking
# for it again (and from printing a recommendation to stdout, which carries data).
# Likewise pymupdf4llm, which PyMuPDF imports if installed: it loads onnxruntime, which writes a
# device id under ~/.cache and a session file in the temp folder, on every run.
if "pymupdf" not in sys.modules:
    sys.modules.setdefault("pymupdf.layout", None)
    sys.modules.setdefault("pymupdf4llm", None)
os.environ.setdefault("PYMUPDF_SUGGEST_LAYOUT_ANALYZER", "0")
