"""Boxes from model text, in the coordinates the model wrote (the model family says what they mean).

Formats, tried in this order:
- Qwen2-VL's tokens: `<|object_ref_start|>label<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`;
  a box without its own label takes the label before it.
- JSON (Qwen2.5-VL, Qwen3-VL): objects with `bbox_2d` (or `bbox`) and `label` or `text_content`, in
  a list, a code fence or prose; cut-off JSON keeps its complete objects, and a `bbox_2d` left in JSON
  too broken to decode is still read.
- Bare `(x1,y1),(x2,y2)` pairs: Qwen2-VL's format after a server dropped its special tokens
  (`skip_special_tokens`, vLLM's default); the text before a pair is its label.
- Plain `[x1, y1, x2, y2]` in prose, as a last resort.

Each box comes out as {"label": str or None, "box": [x1, y1, x2, y2]} (floats, as written).
"""

from __future__ import annotations

import json
import math
import re

from .jsonish import json_values, walk
from .text import clean_answer

_NUM = r"-?\d+(?:\.\d+)?"
_BOX_TOKEN = re.compile(r"<\|box_start\|>([^<]{0,120})(<\|box_end\|>)?")
_REF = re.compile(r"<\|object_ref_start\|>(.*?)(?:<\|object_ref_end\|>|$)", re.S)
_BBOX_KEY = re.compile(r'"(?:bbox_2d|bbox)"\s*:\s*\[([^\[\]]{0,120})\]')
_LABEL_KEY = re.compile(r'"(?:label|text_content|text)"\s*:\s*"((?:[^"\\]|\\.){0,2000})"')
_PAIRS = re.compile(rf"\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*,?\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)")
_PLAIN = re.compile(rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]")
_LABEL_KEYS = ("label", "text_content", "text", "name")
_SPECIAL = re.compile(r"<\|[a-z_]+\|>")


def parse_boxes(text: str, plain: bool = True) -> tuple[list[dict], list[str]]:
    """`plain=False` skips the last resort (for answers that are mostly text, such as OCR lines)."""
    text, warnings = clean_answer(text)
    readers = (_token_boxes, _json_boxes, _pair_boxes) + ((_plain_boxes,) if plain else ())
    for reader in readers:
        items = reader(text, warnings)
        if items:
            return items, warnings
    return [], warnings


def _box(numbers: list, warnings: list[str]) -> list[float] | None:
    """Four finite numbers, or None with a warning."""
    try:
        box = [float(n) for n in numbers if not isinstance(n, bool)]
    except (TypeError, ValueError, OverflowError):
        box = []
    if len(box) == 4 and all(math.isfinite(v) for v in box):
        return box
    warnings.append(f"a box with {len(numbers)} values instead of four finite numbers was skipped")
    return None


def _clean_label(label) -> str | None:
    if isinstance(label, bool) or not isinstance(label, (str, int, float)):
        return None
    text = _SPECIAL.sub("", str(label)).strip()
    return text or None


def _token_boxes(text: str, warnings: list[str]) -> list[dict]:
    items = []
    label = None
    previous_end = 0
    for m in _BOX_TOKEN.finditer(text):
        refs = _REF.findall(text, previous_end, m.start())
        if refs:
            label = _clean_label(refs[-1])
        previous_end = m.end()
        box = _box(re.findall(_NUM, m.group(1)), warnings)
        if box is not None:
            items.append({"label": label, "box": box})
            if m.group(2) is None:
                warnings.append("a box was not closed with <|box_end|>; its four numbers were kept")
    return items


def _json_boxes(text: str, warnings: list[str]) -> list[dict]:
    values, json_warnings = json_values(text)
    items = []
    for value in values:
        for obj in walk(value):
            key = next((k for k in ("bbox_2d", "bbox") if k in obj), None)
            if key is None:
                continue
            numbers = obj[key] if isinstance(obj[key], list) else []
            if len(numbers) == 2 and all(isinstance(p, list) for p in numbers):  # [[x1, y1], [x2, y2]]
                numbers = [*numbers[0], *numbers[1]]
            box = _box(numbers, warnings)
            if box is not None:
                label = next((obj[k] for k in _LABEL_KEYS if k in obj), None)
                items.append({"label": _clean_label(label), "box": box})
    # JSON too broken to decode in places: read each "bbox_2d": [...] and the label in its object,
    # and keep that reading when it finds more boxes.
    scanned = _scan_bbox_fields(text, [])
    if len(scanned) > len(items):
        warnings.append("the JSON answer was malformed; boxes were read from its bbox_2d fields")
        return scanned
    warnings.extend(json_warnings)
    return items


def _scan_bbox_fields(text: str, warnings: list[str]) -> list[dict]:
    items = []
    for m in _BBOX_KEY.finditer(text):
        box = _box(re.findall(_NUM, m.group(1)), warnings)
        if box is None:
            continue
        start = max(text.rfind("{", 0, m.start()), m.start() - 2000)
        end = text.find("}", m.end())
        window = text[start:end if end >= 0 else min(len(text), m.end() + 2000)]
        label = _LABEL_KEY.search(window)
        items.append({"label": _unescape(label.group(1)) if label else None, "box": box})
    return items


def _unescape(s: str) -> str | None:
    try:
        return _clean_label(json.loads(f'"{s}"'))
    except ValueError:
        return _clean_label(s)


def _pair_boxes(text: str, warnings: list[str]) -> list[dict]:
    items = []
    previous_end = 0
    for m in _PAIRS.finditer(text):
        label = _clean_label(text[previous_end:m.start()][-2000:].strip(" \t\r\n,;:-"))
        previous_end = m.end()
        box = _box(list(m.groups()), warnings)
        if box is not None:
            items.append({"label": label, "box": box})
    if items:
        warnings.append("boxes were written without Qwen2-VL's box tokens (a server may have dropped "
                        "special tokens); read their (x1,y1),(x2,y2) pairs")
    return items


def _plain_boxes(text: str, warnings: list[str]) -> list[dict]:
    items = []
    for m in _PLAIN.finditer(text):
        box = _box(list(m.groups()), warnings)
        if box is not None:
            items.append({"label": None, "box": box})
    if items:
        warnings.append("no box in the expected format; read [x1, y1, x2, y2] lists from the text")
    return items
