"""The docvl command line (Typer). Importing it must not import torch."""

from .. import mupdf_extras  # noqa: F401  (the CLI owns its process: PyMuPDF's unused extras stay out)
