"""Blank pages: decided from the rendered pixels, before the model, so that a page with no ink is never
sent to it (a model asked to read an empty page writes something all the same).

Ink is what is clearly darker than the paper: the paper's level is the page's median, and a pixel is ink
only `INK_CONTRAST` levels below it, which leaves out faint show-through from the other side and
scanner noise. Lone dark pixels (noise, JPEG speckle) are dropped; what remains is grouped, at about
one cell per point, into connected marks. The page has ink if one mark, not touching the image's edge
(a scanner's dark border, a shadow at the fold), is as tall or as wide as a small printed character.
Errors are meant to fall one way: a page in doubt goes to the model.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from PIL import Image

INK_CONTRAST = 60  # gray levels below the paper (0-255) that count as ink
MIN_MARK_PT = 3.5  # a mark this tall or wide (points) is text: a small digit is about 5 pt tall
MANY_INK_CELLS = 0.01  # a page with ink in more of its cells than this is not blank, whatever its marks
DARK_PAPER = 96  # a page whose median is darker than this (a photo, a negative) goes to the model


def is_blank(image: Image.Image, dpi: float) -> bool:
    """Whether the page image holds no ink (see the module's notes). `dpi`: its resolution."""
    gray = np.asarray(image.convert("L"), dtype=np.int16)
    h, w = gray.shape
    if h < 3 or w < 3:
        return False
    paper = int(np.median(gray[:: max(1, h // 256), :: max(1, w // 256)]))
    if paper < DARK_PAPER:
        return False
    ink = gray < paper - INK_CONTRAST
    if not ink.any():
        return True
    # Drop lone pixels: keep ink with at least two ink pixels among its 8 neighbours.
    padded = np.pad(ink, 1).astype(np.uint8)
    neighbours = sum(padded[1 + dy:h + 1 + dy, 1 + dx:w + 1 + dx]
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1)) - ink
    ink &= neighbours >= 2
    # About one cell a point: marks are measured in cells.
    cell = max(1, round(dpi / 72.0))
    ch, cw = h // cell, w // cell
    if ch < 3 or cw < 3:
        return not ink.any()
    cells = _strip_edges(ink[: ch * cell, : cw * cell].reshape(ch, cell, cw, cell).any(axis=(1, 3)))
    count = int(cells.sum())
    if count == 0:
        return True
    if count > MANY_INK_CELLS * ch * cw:
        return False
    return not _has_mark(cells, max(2, round(MIN_MARK_PT * dpi / 72.0 / cell)))


def _strip_edges(cells: np.ndarray) -> np.ndarray:
    """Ink that runs in from the image's edge (a scanner's dark border, ragged or not) taken away: in
    each row and column, the unbroken run of ink cells from each end."""
    for view in (cells, cells[:, ::-1], cells.T, cells.T[:, ::-1]):
        run = np.argmin(view, axis=1)
        run[view.all(axis=1)] = view.shape[1]
        view[np.arange(view.shape[1])[None, :] < run[:, None]] = False
    return cells


def _has_mark(cells: np.ndarray, size: int) -> bool:
    """Whether a connected group of ink cells (8-neighbours) away from the edge spans `size` cells."""
    ch, cw = cells.shape
    seen = np.zeros_like(cells)
    for y0, x0 in np.argwhere(cells):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        queue = deque([(y0, x0)])
        top, bottom, left, right, edge = y0, y0, x0, x0, False
        while queue:
            y, x = queue.popleft()
            edge |= y == 0 or x == 0 or y == ch - 1 or x == cw - 1
            top, bottom, left, right = min(top, y), max(bottom, y), min(left, x), max(right, x)
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if 0 <= ny < ch and 0 <= nx < cw and cells[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        if not edge and max(bottom - top, right - left) + 1 >= size:
            return True
    return False
