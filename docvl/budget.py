"""Naive Dynamic Resolution: the pixel budget and the smart_resize rule.

Qwen2-VL cuts an image into 14x14 patches and merges 2x2 of them into one visual token, so sides are
multiples of 28 and each 28x28 block costs one token. The rule below is the one qwen-vl-utils and the
transformers image processor apply; docvl applies it itself so the processor never resizes again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FACTOR = 28
MAX_RATIO = 200
# Defaults for document pages on a 2B model: at most 2048 visual tokens (about 1.6 MP: a US letter
# page at ~136 DPI, enough for 9-10 pt body text) and at least 256 (small images are upsampled).
DEFAULT_MIN_PIXELS = 256 * FACTOR * FACTOR
DEFAULT_MAX_PIXELS = 2048 * FACTOR * FACTOR


@dataclass(frozen=True)
class Budget:
    min_pixels: int = DEFAULT_MIN_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self):
        if self.min_pixels < FACTOR * FACTOR:
            raise ValueError(f"--min-pixels must be at least {FACTOR * FACTOR} (one visual token)")
        if self.max_pixels < self.min_pixels:
            raise ValueError("--max-pixels must be at least --min-pixels")


def _round(x: float) -> int:
    return round(x / FACTOR) * FACTOR


def _ceil(x: float) -> int:
    return math.ceil(x / FACTOR) * FACTOR


def _floor(x: float) -> int:
    return math.floor(x / FACTOR) * FACTOR


def smart_resize(height: int, width: int, budget: Budget) -> tuple[int, int]:
    """(height, width) in multiples of 28 closest to the input inside the budget, aspect kept."""
    if min(height, width) <= 0:
        raise ValueError(f"image has no pixels ({width}x{height})")
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ValueError(
            f"aspect ratio {max(height, width) / min(height, width):.0f}:1 exceeds {MAX_RATIO}:1"
        )
    h = max(FACTOR, _round(height))
    w = max(FACTOR, _round(width))
    if h * w > budget.max_pixels:
        beta = math.sqrt(height * width / budget.max_pixels)
        h = max(FACTOR, _floor(height / beta))
        w = max(FACTOR, _floor(width / beta))
    elif h * w < budget.min_pixels:
        beta = math.sqrt(budget.min_pixels / (height * width))
        h = _ceil(height * beta)
        w = _ceil(width * beta)
    return h, w


def visual_tokens(height: int, width: int) -> int:
    """Tokens the model sees for an image already sized in multiples of 28."""
    return (height // FACTOR) * (width // FACTOR)
