"""Synthetic, text-dense document pages in the shapes docvl meets most: letter, A4, a till receipt and a
landscape page. Deterministic (seeded), so every run and every engine reads the same pages."""

from __future__ import annotations

import random
from pathlib import Path

import pymupdf

# (name, width_pt, height_pt, font size)
SHAPES = [
    ("letter", 612.0, 792.0, 9.0),
    ("a4", 595.28, 841.89, 9.0),
    ("receipt", 226.77, 680.0, 8.0),  # 80 mm till roll
    ("landscape", 792.0, 612.0, 9.0),
]
WORDS = ("invoice total amount due account payment balance order quantity description unit price tax "
         "net gross date customer supplier reference number item service delivery address phone").split()
MARGIN = 36.0


def _line(rng: random.Random, chars: int) -> str:
    words = []
    while sum(len(w) + 1 for w in words) < chars:
        words.append(rng.choice(WORDS) if rng.random() < 0.75 else f"{rng.uniform(0, 9999):.2f}")
    return " ".join(words)[:chars]


def synthetic_pdf(path: Path, pages: int, seed: int = 0) -> Path:
    """A PDF of `pages` pages cycling through SHAPES, each filled with lines of text to its margins."""
    rng = random.Random(seed)
    doc = pymupdf.open()
    for n in range(pages):
        _, width, height, size = SHAPES[n % len(SHAPES)]
        page = doc.new_page(width=width, height=height)
        chars = int((width - 2 * MARGIN) / (0.5 * size))  # Helvetica averages about half an em a character
        y = MARGIN + size
        while y < height - MARGIN:
            page.insert_text((MARGIN, y), _line(rng, chars), fontsize=size)
            y += size * 1.25
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    doc.close()
    return path
