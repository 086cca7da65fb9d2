"""Page orientation of scans: 0, 90, 180 or 270 degrees, from the pixels alone (no model), before the
model sees the page.

Both cues are read in parts of the page and put to a vote, so that a chart, a ruled table or a second
column sways only its own parts:
- the text's axis: lines of text leave empty rows between them, so in a tile of the page the ink's
  profile along the rows has more empty stretches than the profile along the columns; each tile with
  ink votes for the axis with more (tiles of a fifth of the page's longer side);
- up or down: in a vertical strip of the page (an eighth of its width), each text line's band of dense
  ink (the x-height) has more ink just above it (ascenders, capitals, digits) than just below it
  (descenders) when the line stands upright; each line votes.

`detect` gives the clockwise turn that makes the page upright; `turn` applies it to an image.
benchmarks/orientation.py measures it (docs/trust.md).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

ANGLES = (0, 90, 180, 270)
WORK_PIXELS = 1_700_000  # larger pages are reduced first (speed)
TILES = 5  # axis votes: tiles of (longer side / TILES) pixels
STRIPS = 8  # up/down votes: strips of (width / STRIPS) pixels
EMPTY = 0.05  # a row (column) with ink below this share of the fullest one counts as empty
MIN_TILE_INK = 50  # pixels of ink a tile needs to vote
MIN_LINE_PX = 5  # thinner runs of ink rows are rules or noise, not text lines
MIN_VOTERS = 3  # tiles with ink a page needs for any turn
BAND = 0.5  # a line's dense band: its rows with at least this share of its fullest row's ink


def detect(image: Image.Image) -> int:
    """The clockwise turn (0, 90, 180, 270) that makes the page's text upright; 0 when in doubt."""
    ink = _ink(image)
    if ink is None:
        return 0
    axis, voters = _axis_vote(ink)
    if voters < MIN_VOTERS:
        return 0  # a line or two (a label, a title): too little text to tell
    if axis >= 0:  # horizontal lines (ties: as it is)
        return 0 if _upright_vote(ink) >= 0 else 180
    turned = np.rot90(ink, -1)  # the page turned 90 degrees clockwise
    return 90 if _upright_vote(turned) >= 0 else 270


def turn(image: Image.Image, angle: int) -> Image.Image:
    """`image` turned `angle` degrees clockwise."""
    if angle == 0:
        return image
    return image.transpose({90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                            270: Image.Transpose.ROTATE_90}[angle])


def _ink(image: Image.Image) -> np.ndarray | None:
    g = np.asarray(image.convert("L"))
    pixels = g.shape[0] * g.shape[1]
    if pixels > WORK_PIXELS:
        step = max(2, round((pixels / WORK_PIXELS) ** 0.5))
        g = g[::step, ::step]
    if g.shape[0] < 32 or g.shape[1] < 32:
        return None
    counts = np.cumsum(np.bincount(g[::4, ::4].ravel(), minlength=256))
    paper = int(np.searchsorted(counts, counts[-1] * 0.5))
    dark = int(np.searchsorted(counts, counts[-1] * 0.005))
    # Ink: half way from the paper to the darkest ink, and at least 40 levels below the paper.
    ink = g < paper - max(40.0, (paper - dark) / 2)
    return ink if ink.any() else None


def _empty_share(profile: np.ndarray) -> float:
    """The share of empty entries of an ink profile between its first and last with ink."""
    filled = np.flatnonzero(profile)
    if len(filled) < 2:
        return 0.0
    profile = profile[filled[0]:filled[-1] + 1]
    return float((profile <= max(1, EMPTY * profile.max())).mean())


def _axis_vote(ink: np.ndarray) -> tuple[int, int]:
    """(votes, voters): tiles with ink voting for horizontal text lines (+1) or vertical ones (-1)."""
    h, w = ink.shape
    size = max(32, max(h, w) // TILES)
    xs = np.arange(0, w, size)
    u8 = ink.view(np.uint8)
    row_sums = np.add.reduceat(u8, xs, axis=1, dtype=np.int32)  # h x tile columns
    votes = voters = 0
    for y in range(0, h, size):
        col_sums = u8[y:y + size].sum(axis=0, dtype=np.int32)
        for j, x in enumerate(xs):
            rows = row_sums[y:y + size, j]
            if rows.sum() >= MIN_TILE_INK:
                voters += 1
                votes += int(np.sign(_empty_share(rows) - _empty_share(col_sums[x:x + size])))
    return votes, voters


def _upright_vote(ink: np.ndarray) -> int:
    """Text lines (horizontal in `ink`) voting upright (+1) or upside down (-1), strip by strip."""
    w = ink.shape[1]
    size = max(16, w // STRIPS)
    starts = np.arange(0, w, size)
    strips = np.add.reduceat(ink.view(np.uint8), starts, axis=1, dtype=np.int32)  # rows x strips
    votes = 0
    for rows in strips.T:
        peak = rows.max()
        if not peak:
            continue
        on = rows > max(1, EMPTY * peak)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
        for start, end in zip(edges[::2], edges[1::2]):
            if end - start < MIN_LINE_PX:
                continue
            line = rows[start:end]
            band = np.flatnonzero(line >= BAND * line.max())
            votes += int(np.sign(int(line[:band[0]].sum()) - int(line[band[-1] + 1:].sum())))
    return votes
