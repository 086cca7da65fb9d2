"""Scores: edit distances for OCR (CER, WER), exact key fields, and ICDAR 2013 cell adjacency for tables.

All counts are kept raw (errors and reference lengths, true/false positives) so that a run's total is
a sum over its pages and documents, and averages can be taken either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Hashable, Sequence

# -- edit distance ---------------------------------------------------------------------------------


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance (insert, delete, substitute: 1 each) between two sequences.

    Myers' bit-parallel algorithm (Hyyrö's formulation) with Python integers as bit vectors: one pass
    over `b` with whole-column operations, so a page of text against another takes milliseconds.
    """
    if len(a) < len(b):
        a, b = b, a  # the shorter sequence drives the loop, the longer one the bit vectors
    m = len(a)
    if m == 0 or not b:
        return max(m, len(b))
    peq: dict = {}
    for i, symbol in enumerate(a):
        peq[symbol] = peq.get(symbol, 0) | (1 << i)
    mask = (1 << m) - 1
    top = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for symbol in b:
        eq = peq.get(symbol, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


# -- OCR -------------------------------------------------------------------------------------------

# Typographic variants that a transcript and a model (or a PDF) write either way.
_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00ad": None, "\u200b": None, "\ufeff": None,
})
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """What OCR scores compare: NFKC (ligatures, full-width forms), one kind of quote and dash, no
    soft hyphens, every run of whitespace (line breaks included) as one space. Case is kept."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return _SPACE.sub(" ", text).strip()


@dataclass
class TextScore:
    """Edit counts of one hypothesis against one reference, after normalize_text."""

    char_errors: int
    chars: int
    word_errors: int
    words: int

    @classmethod
    def of(cls, reference: str, hypothesis: str) -> "TextScore":
        ref, hyp = normalize_text(reference), normalize_text(hypothesis)
        ref_words, hyp_words = ref.split(), hyp.split()
        return cls(edit_distance(ref, hyp), len(ref), edit_distance(ref_words, hyp_words), len(ref_words))

    def __add__(self, other: "TextScore") -> "TextScore":
        return TextScore(self.char_errors + other.char_errors, self.chars + other.chars,
                         self.word_errors + other.word_errors, self.words + other.words)

    @property
    def cer(self) -> float | None:
        return self.char_errors / self.chars if self.chars else None

    @property
    def wer(self) -> float | None:
        return self.word_errors / self.words if self.words else None


# -- precision, recall, F1 -------------------------------------------------------------------------


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# -- key fields (SROIE) ----------------------------------------------------------------------------


def normalize_field(value) -> str:
    """SROIE compares field values as exact strings; case and spacing are not the model's fault."""
    if value is None:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", str(value))).strip().upper()


def score_fields(truth: dict, predicted: dict) -> dict[str, bool]:
    """Per key of the truth: does the prediction give the same value (after normalize_field)?"""
    return {key: bool(normalize_field(value)) and normalize_field(predicted.get(key)) == normalize_field(value)
            for key, value in truth.items()}


# -- tables: ICDAR 2013 cell adjacency -------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    row: int
    col: int
    end_row: int
    end_col: int


def normalize_cell(text: str) -> str:
    """As the ICDAR 2013 tools compare cell contents: accents and marks dropped, ASCII only, no
    whitespace."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_only = unicodedata.normalize("NFKC", plain).encode("ascii", "ignore").decode("ascii")
    return _SPACE.sub("", ascii_only)


def grid_cells(rows: list[list[str]]) -> list[Cell]:
    """Cells of a plain grid (one cell per position, no spans), e.g. header + rows of a table record."""
    return [Cell(str(text or ""), r, c, r, c) for r, row in enumerate(rows) for c, text in enumerate(row)]


def adjacency_relations(cells: list[Cell]) -> Counter:
    """The table's adjacency relations: each non-empty cell with the next non-empty cell to its
    right and below, empty cells skipped; a spanning cell relates to each neighbour along its span.
    Relations are (text, text, direction) after normalize_cell, counted as a multiset."""
    if not cells:
        return Counter()
    n_rows = max(c.end_row for c in cells) + 1
    n_cols = max(c.end_col for c in cells) + 1
    grid: list[list[int | None]] = [[None] * n_cols for _ in range(n_rows)]
    texts = [normalize_cell(c.text) for c in cells]
    for i, c in enumerate(cells):
        if not texts[i]:
            continue
        for r in range(c.row, c.end_row + 1):
            for k in range(c.col, c.end_col + 1):
                grid[r][k] = i
    pairs: set[tuple[int, int, str]] = set()
    lines = [(row, "right") for row in grid] + [([row[k] for row in grid], "down") for k in range(n_cols)]
    for line, direction in lines:
        previous = None
        for cell in line:
            if cell is None or cell == previous:
                continue
            if previous is not None:
                pairs.add((previous, cell, direction))
            previous = cell
    return Counter((texts[a], texts[b], d) for a, b, d in pairs)


def relation_counts(truth: Counter, predicted: Counter) -> Counts:
    tp = sum((truth & predicted).values())
    return Counts(tp, sum(predicted.values()) - tp, sum(truth.values()) - tp)


def match_tables(truth: list[Counter], predicted: list[Counter]) -> Counts:
    """One document's relation counts: each true table is paired with at most one predicted table
    (greedily, best pair F1 first); unpaired true tables are missed, unpaired predictions false."""
    candidates = []
    for i, t in enumerate(truth):
        for j, p in enumerate(predicted):
            c = relation_counts(t, p)
            if c.tp:
                candidates.append((c.f1, c.tp, -i, -j, i, j, c))
    total = Counts()
    used_t, used_p = set(), set()
    for *_, i, j, c in sorted(candidates, reverse=True):
        if i in used_t or j in used_p:
            continue
        used_t.add(i)
        used_p.add(j)
        total += c
    for i, t in enumerate(truth):
        if i not in used_t:
            total += Counts(fn=sum(t.values()))
    for j, p in enumerate(predicted):
        if j not in used_p:
            total += Counts(fp=sum(p.values()))
    return total
