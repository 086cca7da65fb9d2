import os
import sys
from pathlib import Path

import pytest

# Never reach for the Hugging Face hub from tests.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    from tinymodel import build_checkpoint

    return build_checkpoint("tiny")


@pytest.fixture
def run_cli():
    """Run the docvl CLI in-process; returns (exit code, stdout, stderr)."""
    from typer.testing import CliRunner

    from docvl.cli.app import app

    def run(*args: str, input: str | bytes | None = None):
        result = CliRunner().invoke(app, [str(a) for a in args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception  # a traceback is a bug: every error must be a one-line message
        return result.exit_code, result.stdout, result.stderr

    return run
