"""The docvl command line (Typer). Importing it must not import torch."""
