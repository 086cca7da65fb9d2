"""Display formulas of a born-digital page as LaTeX, from the text layer's glyph boxes.

A formula set on its own line is drawn as glyphs placed in two dimensions: scripts smaller and raised
or lowered beside their base, a fraction's numerator above its bar and its denominator below, a big
operator's limits over and under it. The text layer keeps each glyph's box and size, so the formula's
structure is read back from geometry:

- a formula's main line holds a relation (=, <, ≤, →, ...) and only math tokens (symbols, Greek,
  letters, numbers, function names; no word of prose); the short lines of math tokens just above or
  below it, within its width, are its numerators, denominators and limits;
- along the main line, left to right: a word on the line's axis is a base; smaller words raised or
  lowered are its superscript or subscript; full-size words above and below the axis, one over the
  other, are a fraction.

Only what the geometry shows is written: a radical's bar or a matrix's brackets drawn as lines are not
glyphs, and a formula whose glyphs the PDF maps to no Unicode reads as what it maps to.
"""

from __future__ import annotations

import re
from statistics import median

from .lines import Line
from .words import Word

# Characters that make a line a formula's main line.
RELATIONS = set("=<>\u2264\u2265\u2260\u2248\u2261\u221d\u2192\u21d2\u21d4\u2208\u2282\u2286")
# Operators whose limits are set under and over them in display.
BIG_OPERATORS = set("\u2211\u220f\u22c3\u22c2\u2210")
# A word this share of the main size or less is a script (or a limit).
SCRIPT = 0.85
# A base word's centre lies within this share of the main size from the line's axis.
AXIS = 0.35
# Lines within this many main-line heights above or below the main line can belong to its formula.
REACH = 0.5
# White this many main sizes wide parts two formulas set on one line.
APART = 2.0
# A numerator, denominator or limit line holds at most this many words.
PART_WORDS = 4

_LATEX = {
    "\u2212": "-", "\u2013": "-", "\u00b7": r"\cdot", "\u22c5": r"\cdot", "\u00d7": r"\times",
    "\u00f7": r"\div", "\u00b1": r"\pm", "\u2213": r"\mp", "\u2264": r"\leq", "\u2265": r"\geq",
    "\u2260": r"\neq", "\u2248": r"\approx", "\u2261": r"\equiv", "\u221d": r"\propto", "\u221e": r"\infty",
    "\u2202": r"\partial", "\u2207": r"\nabla", "\u222b": r"\int", "\u222e": r"\oint", "\u2211": r"\sum",
    "\u220f": r"\prod", "\u221a": r"\sqrt", "\u2192": r"\to", "\u2190": r"\leftarrow",
    "\u21d2": r"\Rightarrow", "\u21d4": r"\Leftrightarrow", "\u2208": r"\in", "\u2209": r"\notin",
    "\u2282": r"\subset", "\u2286": r"\subseteq", "\u222a": r"\cup", "\u2229": r"\cap", "\u2200": r"\forall",
    "\u2203": r"\exists", "\u2205": r"\emptyset", "\u2032": r"\prime", "\u2026": r"\ldots", "\u22ef": r"\cdots",
}
_GREEK = ("alpha beta gamma delta varepsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
          "varsigma sigma tau upsilon varphi chi psi omega").split()
_LATEX.update({chr(0x3B1 + i): "\\" + name for i, name in enumerate(_GREEK) if name != "omicron"})
_LATEX.update({chr(0x391 + i): "\\" + name.capitalize() for i, name in enumerate(_GREEK)
               if name in ("gamma", "delta", "theta", "lambda", "xi", "pi", "sigma", "upsilon", "psi", "omega")})
_LATEX.update({"\u03d5": r"\phi", "\u03f5": r"\epsilon", "\u03a6": r"\Phi"})  # the variants Unicode adds
_FUNCTIONS = {"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "lim", "max", "min", "sup",
              "inf", "det", "arg", "deg", "dim", "ker", "mod", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan"}
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_PROSE = re.compile(r"[A-Za-z]{4,}")
_LABEL = re.compile(r"^(\d{1,4}[.)]|\(\w{1,3}\))$")


def formulas(lines: list[Line], body: float) -> list[tuple[int, list[Word], str]]:
    """The display formulas among a page's printed lines: (index of the line its relation is on, the
    words it is drawn with, its LaTeX), in the order of those lines. A printed line may hold a formula
    beside other text (a column of prose beside one of formulas): only the formula's words are its."""
    segments = [(i, Line(seg)) for i, line in enumerate(lines) for seg in _segments(line)]
    mains = [(i, seg) for i, seg in segments if _is_main(seg, body)]
    # a relation set small right under or over a formula's larger one is its limit (s in S under a sum)
    mains = [(i, seg) for i, seg in mains
             if not any(_relation_size(seg) <= SCRIPT * _relation_size(other)
                        and all(_near(w, other) for w in seg.words)
                        for _, other in mains)]
    parts: list[list[Word]] = [[] for _ in mains]
    main_lines = {id(seg) for _, seg in mains}
    for _, seg in segments:
        if id(seg) in main_lines or not _is_part(seg):
            continue
        for w in seg.words:  # word by word: a part may hold those of formulas side by side
            near = [k for k, (_, main) in enumerate(mains) if _near(w, main)]
            if near:
                parts[min(near, key=lambda k: abs(mains[k][1].cy - w.cy))].append(w)
    out = []
    for (i, main), extra in zip(mains, parts):
        while _LABEL.match(main.words[0].text):  # "150." or "(a)" numbers the formula: text beside it
            main = Line(main.words[1:])
        words = [p for w in main.words + extra for p in (w.pieces or (w,)) if _visible(p)]
        relations = [w for w in main.words if any(c in RELATIONS for c in w.text)]  # on the axis, surely
        axis = median(w.cy for w in relations)
        size = _relation_size(main)
        out.append((i, main.words + extra, _expression(words, axis, size)))
    return out


def _segments(line: Line) -> list[list[Word]]:
    """A line's words parted where white of APART sizes or more parts them."""
    segs = [[line.words[0]]]
    for w in line.words[1:]:
        prev = segs[-1][-1]
        if w.x0 - prev.x1 >= APART * max(w.type_size, prev.type_size):
            segs.append([w])
        else:
            segs[-1].append(w)
    return segs


def _relation_size(line: Line) -> float:
    return max(w.type_size for w in line.words if any(c in RELATIONS for c in w.text))


def _visible(w: Word) -> bool:
    return bool(_INVISIBLE.sub("", w.text))


def _math_token(text: str) -> bool:
    text = _INVISIBLE.sub("", text)
    return not any(m.group() not in _FUNCTIONS for m in _PROSE.finditer(text))


def _is_main(line: Line, body: float) -> bool:
    """A relation at the size of the page's text (smaller, it is a limit: s in S under a sum), and math."""
    texts = [w.text for w in line.words]
    return (any(w.type_size > SCRIPT * body and any(c in RELATIONS for c in w.text) for w in line.words)
            and all(map(_math_token, texts)))


def _is_part(line: Line) -> bool:
    return len(line.words) <= PART_WORDS and all(_math_token(w.text) for w in line.words)


def _near(part: Word, main: Line) -> bool:
    h = main.height
    return (main.y0 - REACH * h <= part.y1 and part.y0 <= main.y1 + REACH * h
            and main.x0 - h <= part.x1 and part.x0 <= main.x1 + h)


def _expression(words: list[Word], axis: float, size: float) -> str:
    """LaTeX of `words` laid out around the horizontal `axis` (the centre line of full-size bases)."""
    limits = _limits(words, size)
    taken = {id(x) for lims in limits.values() for x in lims}
    words = sorted((w for w in words if id(w) not in taken), key=lambda w: w.x0)
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        small = w.type_size <= SCRIPT * size
        if id(w) in limits:  # a big operator with its limits under and over it
            lims = limits[id(w)]
            under, over = [x for x in lims if x.cy > w.cy], [x for x in lims if x.cy <= w.cy]
            out.append(_tex(w) + ("_{%s}" % _part(under, size) if under else "")
                       + ("^{%s}" % _part(over, size) if over else ""))
            i += 1
            continue
        if not small and abs(w.cy - axis) > AXIS * size:  # off the axis at full size: a fraction
            span, i = _stack(words, axis, size, i)
            above = [x for x in span if x.cy < axis]
            below = [x for x in span if x.cy >= axis]
            if above and below:
                out.append(r"\frac{%s}{%s}" % (_part(above, size), _part(below, size)))
            else:
                out.append(_part(span, size))
            continue
        if small:  # a script with no base before it: written as it is
            out.append(_tex(w))
            i += 1
            continue
        out.append(_tex(w))
        i += 1
        sup, sub = [], []
        while i < len(words) and words[i].type_size <= SCRIPT * size:
            (sup if words[i].cy < w.cy else sub).append(words[i])
            i += 1
        if sub:
            out[-1] += "_{%s}" % _part(sub, size)
        if sup:
            out[-1] += "^{%s}" % _part(sup, size)
    return " ".join(out)


def _limits(words: list[Word], size: float) -> dict[int, list[Word]]:
    """The small words centred under or over each big operator (a sum's s in S, its k), by operator."""
    ops = [w for w in words if _INVISIBLE.sub("", w.text) in BIG_OPERATORS]
    out: dict[int, list[Word]] = {}
    for x in words:
        if x in ops or x.type_size > SCRIPT * size:
            continue
        over = [op for op in ops if op.x0 <= x.cx <= op.x1 and (x.y1 <= op.cy or x.y0 >= op.cy)]
        if over:
            out.setdefault(id(min(over, key=lambda op: abs(op.cy - x.cy))), []).append(x)
    return out


def _stack(words: list[Word], axis: float, size: float, i: int) -> tuple[list[Word], int]:
    """The words from i on that stand over one another off the axis (a fraction's two parts, their own
    scripts beside them), and the index after them."""
    x1 = words[i].x1
    j = i + 1
    while j < len(words) and (words[j].x0 < x1 or abs(words[j].cy - axis) > AXIS * size
                              and words[j].x0 < x1 + AXIS * size):
        x1 = max(x1, words[j].x1)
        j += 1
    return words[i:j], j


def _part(words: list[Word], size: float) -> str:
    """A numerator, denominator or script: its own axis is the centre of its largest words."""
    big = max(w.type_size for w in words)
    axis = median(w.cy for w in words if w.type_size > SCRIPT * big)
    return _expression(words, axis, big)


def _tex(w: Word) -> str:
    text = _INVISIBLE.sub("", w.text)
    if text in _FUNCTIONS:
        return "\\" + text
    if w.bold and text.isalpha() and text.isascii():
        return r"\mathbf{%s}" % text
    out = []
    for c in text:
        cmd = _LATEX.get(c)
        out.append(cmd + " " if cmd else c)
    return "".join(out).strip()
