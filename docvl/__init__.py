"""docvl: document intelligence on the command line with Qwen2-VL."""

__version__ = "0.1.0"
SCHEMA = "docvl/1"
