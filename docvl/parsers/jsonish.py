"""JSON as models write it: in code fences, with prose around it, cut off, or in Python's syntax."""

from __future__ import annotations

import ast
import json
import math
import re

MAX_DEPTH = 64  # deeper nesting is never a real answer; not worth repairing
MAX_VALUES = 1000
REPAIR_TRIES = 40
_CLOSE = {"[": "]", "{": "}"}
_TRAILING_COMMA = re.compile(r",\s*([\]}])")
_OPEN = re.compile(r"[\[{]")


def _finite(literal: str) -> float | None:
    value = float(literal)
    return value if math.isfinite(value) else None


# NaN, Infinity and numbers too large for a float (1e400) become null: JSON output cannot hold them.
_decoder = json.JSONDecoder(parse_constant=lambda name: None, parse_float=_finite)


def loads(text: str):
    """json.loads, with non-finite numbers read as null."""
    return _decoder.decode(text)


def json_values(text: str) -> tuple[list, list[str]]:
    """Every JSON array or object in `text`, in order, and warnings about the ones that needed repair.

    A value cut off by the end of the text keeps its complete elements: `[{"a": 1}, {"a": 2` gives
    `[{"a": 1}]`.
    """
    values: list = []
    warnings: list[str] = []
    pos = 0
    while len(values) < MAX_VALUES:
        m = _OPEN.search(text, pos)
        if not m:
            break
        start = m.start()
        try:
            value, pos = _decoder.raw_decode(text, start)
            values.append(value)
            continue
        except (ValueError, RecursionError):
            pass
        value, end, warning = _repair(text, start)
        if warning:
            values.append(value)
            warnings.append(warning)
            pos = end
        else:
            pos = start + 1
    return values, warnings


def _repair(text: str, start: int) -> tuple[object, int, str | None]:
    """Scan one bracketed value from `start`: fix a balanced but malformed one, or close a cut-off one.

    Returns (value, end of what was consumed, warning); the warning is None when nothing was usable.
    """
    stack: list[str] = []
    # (position, closers) where everything before is complete; "clean" cuts close only objects and
    # lists of containers, never a list of numbers halfway (a box with two of its four numbers).
    clean: list[tuple[int, str]] = []
    partial: list[tuple[int, str]] = []
    in_string = escaped = False
    previous = ""  # the last character outside strings that is not white space
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
                previous = c
            continue
        if c.isspace():
            continue
        if c == '"':
            in_string = True
        elif c in "[{":
            if len(stack) >= MAX_DEPTH:
                return None, start + 1, None
            stack.append(c)
        elif c in "]}":
            if not stack or _CLOSE[stack[-1]] != c:
                return None, start + 1, None
            stack.pop()
            if not stack:
                return _fix_balanced(text[start:i + 1], i + 1)
            clean.append((i + 1, _closers(stack)))
        elif c == ",":
            (clean if stack[-1] == "{" or previous in ("}", "]") else partial).append((i, _closers(stack)))
        previous = c
    # The text ended inside the value: close it after its last complete element.
    for pos, closers in [*reversed(clean[-REPAIR_TRIES:]), *reversed(partial[-REPAIR_TRIES:])]:
        candidate = _TRAILING_COMMA.sub(r"\1", text[start:pos] + closers)
        try:
            return loads(candidate), len(text), "the JSON answer was cut off; kept its complete part"
        except (ValueError, RecursionError):
            continue
    return None, start + 1, None


def _closers(stack: list[str]) -> str:
    return "".join(_CLOSE[c] for c in reversed(stack))


def _fix_balanced(segment: str, end: int) -> tuple[object, int, str | None]:
    """Trailing commas, or Python literals (single quotes, True/None) instead of JSON."""
    try:
        return loads(_TRAILING_COMMA.sub(r"\1", segment)), end, "the JSON answer had trailing commas"
    except (ValueError, RecursionError):
        pass
    try:
        value = ast.literal_eval(segment)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None, end, None
    if _is_json(value):
        return _as_json(value), end, "the answer was written as a Python literal, not JSON"
    return None, end, None


def _is_json(value, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, (list, tuple)):
        return all(_is_json(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v, depth + 1) for k, v in value.items())
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))


def _as_json(value):
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


def walk(value, max_depth: int = 32):
    """Every dict inside a decoded JSON value, depth first, without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            yield item
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth < max_depth:
            stack.extend((child, depth + 1) for child in reversed(list(children)))
