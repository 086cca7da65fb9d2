"""What every benchmark result records: the machine, the versions, the exact command; and the JSON writer."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PACKAGES = ("docvl", "torch", "transformers", "bitsandbytes", "accelerate", "flash-attn", "pymupdf",
            "pypdfium2", "qwen-vl-utils", "pillow")


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine(device: str = "cpu") -> dict:
    info = {"device": device, "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "torch_threads": None, "gpu": None, "gpu_memory_gib": None}
    if "torch" in sys.modules:  # the raster benchmark never imports torch
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if device.startswith("cuda"):
            props = torch.cuda.get_device_properties(torch.device(device))
            info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1))
    return info


def command(script: str, argv: list[str]) -> str:
    """The command line that reproduces a run, from the repository root."""
    return " ".join(shlex.quote(a) for a in ["python", os.path.relpath(script, ROOT), *argv])


def write(path: Path, payload: dict) -> Path:
    from docvl.output import atomic_write

    payload = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **payload}
    atomic_write(path, json.dumps(payload, indent=2) + "\n")
    return path
