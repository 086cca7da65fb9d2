"""A born-digital page as Markdown, from its text layer (docs/markdown.md).

A page is read in two steps, because what is furniture (a running header, a footer, a page number)
is known only once every page of the document has been read:

- `page_blocks` (in the raster workers, with the page): the printed lines in reading order
  (textlayer.order) grouped into blocks: headings (a line set larger than the page's body text, or
  bold and short), list items (a bullet or a number at its start), paragraphs (lines joined across
  line breaks and hyphenation), display formulas (textlayer.formulas, as $$LaTeX$$) and tables
  (textlayer.tables, as pipe tables in place of their lines).
  Lines alone at the top or bottom edge of the page, set apart by white, are marked as edge blocks,
  and so are lines running up or down a margin beside all the horizontal text;
- `document_markdown` (once the document is done): edge blocks whose text, digits aside, recurs at the
  same edge of another page, lone page numbers, edge lines set smaller than the body (not footnotes),
  edge lines that are stamps (a web address, "Downloaded from", a copyright, a volume and issue) or
  whose pieces stand far apart (a footer's left, centre and right parts), margin lines and line
  numbers are furniture: left out of the Markdown and kept in the page record's "furniture". Every other block
  is the page's Markdown.

Blocks are plain dicts (they travel from worker processes and are journalled with the page for resuming).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import replace
from statistics import median

from .formulas import formulas
from .lines import Line
from .order import line_text, reading_groups
from .tables import page_tables
from .words import PageWords, Word

# A line is an edge candidate within this share of the page's height from its top or bottom...
EDGE = 0.12
# ...set apart from the body by white at least this many of its own heights.
EDGE_WHITE = 1.0
# A line set this much larger than the page's body text is a heading; its level is the rank of its
# size among the document's heading sizes (sizes within SAME_SIZE are one), bold ones of the body size
# one level under the smallest.
HEADING = 1.15
# A heading has at most this many words.
HEADING_WORDS = 30
# A bold line is a heading when it stands alone and has at most this many words.
BOLD_WORDS = 12
# Lines further apart than this many line heights (white between them) are different paragraphs.
PARA_GAP = 0.7
# A line starting this many line heights right of the one above starts a paragraph (an indent).
INDENT = 0.8
# A line ending a sentence this share of the block's width short of its right edge ends a paragraph.
SHORT = 0.15
# An edge line set at this share of the body size or less is furniture even on a page alone...
SMALL = 0.9
# ...unless it reads as a footnote (a number or a mark, then text).
_FOOTNOTE = re.compile(r"^(\d{1,3}|[*\u2020\u2021\u00a7])\s*[A-Za-z]")
# An edge line holding a web address, a download or publishing stamp, a copyright, a volume and issue,
# or a running head's marks (an author "et al.", a journal, proceedings, an arXiv id, a preprint or
# manuscript notice) is furniture even on a page alone...
_STAMP = re.compile(r"https?://|\bwww\.|\S@\S+\.\w|\bdoi\b|\u00a9|\bcopyright\b|\bdownload(ed)?\b|"
                    r"\bpublished by\b|\ball rights reserved\b|\bvol(ume)?\.?\s*\d|\bissue\s*\d|"
                    r"\bet al\.|\barxiv:|\bissn\b|\bpreprint\b|\bmanuscript\b|\bproceedings of\b|\bjournal of\b",
                    re.IGNORECASE)
# ...and so is one whose pieces are this many type sizes apart (left, centre and right parts).
SPREAD = 3.0
# Numbers alone in a margin, counting up the page, are line numbers when there are this many.
LINE_NUMBERS = 5
# Font sizes within this ratio are one style.
SAME_SIZE = 1.1

# A bullet glyph, or a dash or star followed by a space (-5% or *Note is text).
_BULLET = re.compile(r"^(?:[\u2022\u25cf\u25e6\u25aa\u25a0\u2023\u2043\u00b7]\s*|[-*\u2013\u2014]\s+)(\S.*)$")
_NUMBERED = re.compile(r"^(\d{1,3})[.)]\s+(.*)$")
_PAGE_NUMBER = re.compile(r"^(page\s+)?[-\u2013\u2014(\[]?\s*(\d{1,4}|[ivxlcdm]{1,7})\s*[-\u2013\u2014)\]]?"
                          r"(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


def page_blocks(page, words: PageWords, number: int) -> list[dict]:
    """The page's blocks in reading order: {"kind": heading|item|para|formula|table, "md": Markdown, "text":
    plain text, "edge": "top"|"bottom"|None}."""
    numbers, text = _line_numbers([w for w in words.words if w.horizontal])
    if numbers:  # read neither as text nor as a table's first column
        gone = {id(w) for w in numbers}
        words = replace(words, words=[w for w in words.words if id(w) not in gone])
    lines = reading_groups(text)
    edges = _edges(lines, page.rect.height)
    body = _body_size([line for i, line in enumerate(lines) if i not in edges])
    found = formulas(lines, body)
    in_formula = {id(w) for _, words_, _ in found for w in words_}
    tables = page_tables(page, words, number, spans=True) if lines else []
    tables = [t for t in tables if not _formula_table(t, lines, in_formula)]
    largest = max((_size(line) for line in lines), default=0.0)
    blocks: list[dict] = []
    placed: set[int] = set()
    run: list[Line] = []  # the lines of the block being built

    def close():
        if run:
            blocks.append(_text_block(run, body))
            run.clear()

    for i, line in enumerate(lines):
        table = _table_of(line, tables)
        if table is not None:
            close()
            if table not in placed:
                placed.add(table)
                md = _html_table(tables[table]) if "head" in tables[table] else _pipe_table(tables[table])
                blocks.append({"kind": "table", "md": md, "text": "", "edge": None})
            continue
        here = [f for f in found if f[0] == i]
        if here or any(id(w) in in_formula for w in line.words):  # a formula's line, numerator or limit
            rest = [w for w in line.words if id(w) not in in_formula]
            if here:  # the line's formulas, after the text left of them (a number), before the rest
                start = min(w.x0 for _, ws, _ in here for w in ws)
                close()
                if left := [w for w in rest if w.x1 <= start]:
                    run.append(Line(left))
                    close()
                blocks += [{"kind": "formula", "md": f"$${tex}$$", "text": tex, "edge": None} for _, _, tex in here]
                rest = [w for w in rest if w.x1 > start]
            if not rest:
                continue
            line = Line(rest)
        if i in edges:
            close()
            block = _text_block([line], body)
            block["edge"] = edges[i]
            # furniture though the page be alone: set smaller than the body text (and not a footnote), or
            # a stamp or a footer's spread pieces (and not the page's title)
            small = bool(body) and _size(line) <= SMALL * body and not _FOOTNOTE.match(block["text"])
            title = _size(line) >= largest / SAME_SIZE and _size(line) >= HEADING * body  # the page's largest type
            stamp = not title and (bool(_STAMP.search(block["text"])) or _spread(line))
            block["alone"] = small or stamp
            blocks.append(block)
            continue
        if run and not _continues(run, line, body):
            close()
        run.append(line)
    close()
    left = min((line.x0 for line in lines), default=0.0)
    right = max((line.x1 for line in lines), default=page.rect.width)
    for box, text in words.skew:  # rotated or vertical lines: in the PDF's order, a paragraph each
        # one running up or down a margin, beside all the horizontal text, is a stamp ("Downloaded
        # from ...", an arXiv id): furniture
        side = "side" if lines and (box[2] <= left or box[0] >= right) else None
        blocks.append({"kind": "para", "md": _escape(text), "text": text, "edge": side})
    if numbers:
        listed = " ".join(w.text for w in numbers)
        blocks.append({"kind": "para", "md": listed, "text": listed, "edge": "side"})
    return blocks


def _line_numbers(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """(the line numbers in a margin, top to bottom; the other words). Line numbers are numbers alone
    in the white left or right of all the other text, at least LINE_NUMBERS of them, counting up the
    page (a draft's, a court filing's, a review copy's)."""
    digits, rest = [], []
    for w in words:
        (digits if w.text.isdigit() and len(w.text) <= 4 else rest).append(w)
    if len(digits) < LINE_NUMBERS or not rest:
        return [], words
    left, right = min(w.x0 for w in rest), max(w.x1 for w in rest)
    for side in ([w for w in digits if w.x1 < left], [w for w in digits if w.x0 > right]):
        side.sort(key=lambda w: w.cy)
        values = [int(w.text) for w in side]
        if len(side) >= LINE_NUMBERS and all(a < b for a, b in zip(values, values[1:])):
            taken = {id(w) for w in side}
            return side, [w for w in words if id(w) not in taken]
    return [], words


def document_markdown(pages: list[dict]) -> None:
    """Decide furniture over the document's pages and set each text-layer page's "markdown" and
    "furniture" from its blocks (the "blocks" field is removed)."""
    seen: dict[str, Counter] = {"top": Counter(), "bottom": Counter(), "side": Counter()}
    for page in pages:
        keys = {(b["edge"], _key(b["text"])) for b in page.get("blocks") or [] if b.get("edge")}
        for edge, key in keys:
            seen[edge][key] += 1
    levels, bold = _heading_levels(pages)
    for page in pages:
        blocks = page.pop("blocks", None)
        if blocks is None:  # a model page: its answer is its Markdown; the prompt leaves furniture out
            if page.get("status") == "ok":
                page.setdefault("furniture", [])
            continue
        furniture, kept = [], []
        for b in blocks:
            if b.get("edge") and (b["edge"] == "side" or b.get("alone") or seen[b["edge"]][_key(b["text"])] >= 2
                                  or _PAGE_NUMBER.match(b["text"])):
                furniture.append(b["text"])
            else:
                if b["kind"] == "heading" and "by" in b:
                    b["md"] = "#" * (levels[b["size"]] if b["by"] == "size" else bold) + " " + _escape(b["text"])
                kept.append(b)
        page["markdown"] = render(kept)
        page["furniture"] = furniture


def render(blocks: list[dict]) -> str:
    """Blocks as Markdown: a blank line between blocks, list items of one list on consecutive lines."""
    out = []
    for before, b in zip([None] + blocks, blocks):
        if out:
            out.append("\n" if before["kind"] == "item" and b["kind"] == "item" else "\n\n")
        out.append(b["md"])
    return "".join(out)


def _key(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.lower().split()))


def _edges(lines: list[Line], height: float) -> dict[int, str]:
    """Indexes of the lines at the page's top or bottom edge: those within EDGE of it, up to the white
    (EDGE_WHITE of their type size or more) furthest from the edge within that band that sets them
    apart from the body (a footer may be several lines, close together). A page number set apart below
    the body's last line, or above its first, is at the edge wherever the body ends (a short page)."""
    edges: dict[int, str] = {}
    by_y = sorted(range(len(lines)), key=lambda i: lines[i].cy)
    if len(by_y) < 2:
        return edges
    top = 0  # lines by_y[:top] are the top's
    for k in range(1, len(by_y)):
        above, below = lines[by_y[k - 1]], lines[by_y[k]]
        if above.y1 > EDGE * height:
            break
        if _white(above, below) >= EDGE_WHITE * _size(above):
            top = k
    bottom = len(by_y)  # lines by_y[bottom:] are the bottom's
    for k in range(len(by_y) - 1, top, -1):
        above, below = lines[by_y[k - 1]], lines[by_y[k]]
        if below.y0 < (1 - EDGE) * height:
            break
        if _white(above, below) >= EDGE_WHITE * _size(below):
            bottom = k
    if bottom - top >= 2:  # the first and last lines of the body: a page number set apart is not body
        first, second, last, before = (lines[by_y[k]] for k in (top, top + 1, bottom - 1, bottom - 2))
        if _PAGE_NUMBER.match(line_text(first)[1]) and _white(first, second) >= EDGE_WHITE * _size(first):
            top += 1
        if _PAGE_NUMBER.match(line_text(last)[1]) and _white(before, last) >= EDGE_WHITE * _size(last):
            bottom -= 1
    for i in by_y[:top]:
        edges[i] = "top"
    for i in by_y[bottom:]:
        edges[i] = "bottom"
    return edges


def _white(above: Line, below: Line) -> float:
    """The white between two lines, from baseline to baseline less the lower one's type size (boxes
    of loosely set fonts overlap, and would hide it)."""
    return below.y1 - above.y1 - _size(below)


def _spread(line: Line) -> bool:
    """Pieces set apart across the line (a footer's left, centre and right parts), not words of text."""
    words = line.words
    return any(b.x0 - a.x1 >= SPREAD * _size(line) for a, b in zip(words, words[1:]))


def _size(line: Line) -> float:
    sizes = [w.size for w in line.words if w.size]
    return median(sizes) if sizes else line.height


def _bold(line: Line) -> bool:
    return all(w.bold for w in line.words)


def _body_size(lines: list[Line]) -> float:
    """The size most of the page's characters are set in."""
    count: Counter = Counter()
    for line in lines:
        for w in line.words:
            count[round(w.type_size, 1)] += len(w.text)
    return count.most_common(1)[0][0] if count else 0.0


def _heading(run: list[Line], body: float) -> str | None:
    """"size" for a heading set larger than the body, "bold" for a short bold one, else None."""
    size = max(_size(line) for line in run)
    ratio = size / body if body else 1.0
    words = sum(len(line.words) for line in run)
    if ratio >= HEADING and words <= HEADING_WORDS:  # more is a paragraph set large (an abstract)
        return "size"
    text = line_text(run[-1])[1]
    if all(_bold(line) for line in run) and words <= BOLD_WORDS and not text.endswith((".", ":", ",", ";")):
        return "bold"
    return None


def _heading_levels(pages: list[dict]) -> tuple[dict[float, int], int]:
    """The level of each heading size of the document (from its pages' blocks), and of its bold
    headings of the body size (one under the smallest sized level)."""
    sizes = sorted({b["size"] for page in pages for b in page.get("blocks") or []
                    if b["kind"] == "heading" and b.get("by") == "size"}, reverse=True)
    levels: dict[float, int] = {}
    level, head = 0, None  # head: the largest size of the current level
    for size in sizes:
        if head is None or head > SAME_SIZE * size:
            level, head = level + 1, size
        levels[size] = min(level, 6)
    return levels, min(level + 1, 6)


def _list_start(line: Line) -> bool:
    text = line_text(line)[1]
    return bool(_BULLET.match(text) or _NUMBERED.match(text)) and not _PAGE_NUMBER.match(text)


def _continues(run: list[Line], line: Line, body: float) -> bool:
    """Whether `line` goes on with the block whose lines are `run`."""
    prev, first = run[-1], run[0]
    if line.y0 < prev.y0:  # back up the page: the next column
        return False
    h = min(prev.height, line.height)
    if line.y0 - prev.y1 > PARA_GAP * h:
        return False
    a, b = _size(prev), _size(line)
    if max(a, b) > SAME_SIZE * min(a, b) or _bold(prev) != _bold(line) and (_heading([prev], body)
                                                                              or _heading([line], body)):
        return False
    if _list_start(line):
        return False
    if _list_start(first):  # a list item's wrapped lines hang under its text, right of the marker
        return line.x0 > first.x0 + 0.1 * h
    if line.x0 - prev.x0 > INDENT * h:  # an indented first line starts a paragraph
        return False
    # a sentence ending short of the block's right edge ends its paragraph (a line break, a last line)
    left, right = min(x.x0 for x in (*run, line)), max(x.x1 for x in (*run, line))
    if line_text(prev)[1].endswith((".", "!", "?", ":")) and prev.x1 < right - SHORT * (right - left):
        return False
    return True


def _text_block(run: list[Line], body: float) -> dict:
    texts = [line_text(line)[1] for line in run]
    # double quotes set as two single ones (TeX's ``quote'') written as the one character they stand for
    text = _join(texts).replace("\u2018\u2018", "\u201c").replace("\u2019\u2019", "\u201d")
    by = _heading(run, body)
    if by and not _list_start(run[0]):  # its level (and Markdown) comes once the document is read
        size = round(max(_size(line) for line in run), 1)
        return {"kind": "heading", "md": "", "text": text, "edge": None, "size": size, "by": by}
    bullet, numbered = _BULLET.match(text), _NUMBERED.match(text)
    if _list_start(run[0]) and (bullet or numbered):
        md = f"- {_escape(bullet.group(1))}" if bullet else f"{numbered.group(1)}. {_escape(numbered.group(2))}"
        return {"kind": "item", "md": md, "text": text, "edge": None}
    return {"kind": "para", "md": _escape(text), "text": text, "edge": None}


def _join(texts: list[str]) -> str:
    """Lines into one paragraph: a word hyphenated at a line's end joined again, else a space."""
    out = texts[0]
    for text in texts[1:]:
        if out.endswith("\u00ad"):
            out = out[:-1] + text
        elif len(out) > 1 and out[-1] in "-\u2010" and out[-2].isalpha() and text[:1].islower():
            out = out[:-1] + text
        else:
            out = out + " " + text
    return out


_MD_START = re.compile(r"^(#{1,6}\s|[-+*]\s|\d{1,9}[.)]\s|>|={3,}\s*$|-{3,}\s*$)")


def _escape(text: str) -> str:
    """Text that Markdown would read as markup at a block's start (a heading, a list, a quote) escaped."""
    return "\\" + text if _MD_START.match(text) else text


def _formula_table(table: dict, lines: list[Line], in_formula: set[int]) -> bool:
    """Whether a table region is display formulas whose pieces stand apart like cells (sums, their
    limits): half its lines or more are mostly a formula's words."""
    inside = [line for line in lines if _table_of(line, [table]) is not None]
    drawn = sum(2 * sum(id(w) in in_formula for w in line.words) >= len(line.words) for line in inside)
    return bool(inside) and 2 * drawn >= len(inside)


def _table_of(line: Line, tables: list[dict]) -> int | None:
    for i, t in enumerate(tables):
        x0, y0, x1, y1 = t["box"]
        if x0 - 1 <= (line.x0 + line.x1) / 2 <= x1 + 1 and y0 - 1 <= line.cy <= y1 + 1:
            return i
    return None


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _pipe_table(table: dict) -> str:
    header = [_cell(c) for c in table["header"]]
    rows = [[_cell(c) for c in row] for row in table["rows"]]
    width = max([len(header)] + [len(r) for r in rows])
    lines = [header + [""] * (width - len(header)), ["---"] * width]
    lines += [row + [""] * (width - len(row)) for row in rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _html_table(table: dict) -> str:
    """A table whose header rows stack (a label spanning the columns it groups) as HTML: a pipe table
    has one header row and no spans."""
    def cell(tag: str, text: str, span: int = 1) -> str:
        attr = f' colspan="{span}"' if span > 1 else ""
        return f"<{tag}{attr}>{html.escape(' '.join(text.split()), quote=False)}</{tag}>"

    head = ["<tr>" + "".join(cell("th", text, span) for text, span in row) + "</tr>" for row in table["head"]]
    body = ["<tr>" + "".join(cell("td", text) for text in row) + "</tr>" for row in table["rows"]]
    return "\n".join(["<table>", "<thead>", *head, "</thead>", "<tbody>", *body, "</tbody>", "</table>"])
