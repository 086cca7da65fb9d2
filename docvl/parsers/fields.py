"""Key fields from model text: exactly the fields asked for, null when absent, typed as declared.

The answer should be one JSON object. Keys are matched to the requested names ignoring case, spaces,
hyphens and underscores; other keys are dropped, so no field is ever invented. A value that cannot be
read as its declared type becomes null with a warning that quotes it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass

from .jsonish import json_values, loads
from .text import clean_answer

TYPES = ("string", "number", "integer", "boolean", "date", "array", "object")
# What models write for "not on the page"; read as null for every type.
ABSENT = {"", "n/a", "na", "none", "null", "nil", "not found", "not available", "not present", "unknown",
          "-", "--", "—"}
_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
     ("nov", "november"), ("dec", "december")], start=1) for m in names}
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})")  # day first, as where dots are used
_SLASHED = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]+([A-Za-z]{3,9})\.?,?[\s\-/.]+(\d{2}|\d{4})")
_MONTH_DAY = re.compile(r"([A-Za-z]{3,9})\.?[\s\-/.]+(\d{1,2})(?:st|nd|rd|th)?,?[\s\-/.]+(\d{4})")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_NOT_NUMERIC = re.compile(r"[^\d,.\s+-]")
_SPACED_DIGITS = re.compile(r"\d\s+\d")
_THOUSANDS_SPACE = re.compile(r"[-+]?\s*\d{1,3}(\s\d{3})+([.,]\d+)?")
_DIGITS_AND_SEPARATORS = re.compile(r"\d[\d,.]*|[.,]\d+")
_THOUSANDS_COMMA = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_THOUSANDS_DOT = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "string"
    description: str | None = None


def parse_fields(text: str, specs: list[FieldSpec]) -> tuple[dict, list[str]]:
    text, warnings = clean_answer(text)
    found = _answer_object(text, specs, warnings)
    values = {}
    for spec in specs:
        raw = found.get(spec.name)
        values[spec.name] = None if raw is None else _typed(raw, spec, warnings)
    return values, warnings


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.lower())


def _answer_object(text: str, specs: list[FieldSpec], warnings: list[str]) -> dict:
    """The answer's values by requested field name (absent fields missing)."""
    wanted = {_key(s.name): s.name for s in specs}
    values, json_warnings = json_values(text)
    candidates = [v for v in values if isinstance(v, dict)]
    candidates += [item for v in values if isinstance(v, list) for item in v[:1] if isinstance(item, dict)]
    for obj in candidates:
        # Some answers wrap the fields in one more object: {"invoice": {...}}.
        for scope in [obj, *(v for v in obj.values() if isinstance(v, dict))]:
            matched = {wanted[_key(k)]: v for k, v in scope.items() if _key(k) in wanted}
            if matched:
                warnings.extend(json_warnings)
                return matched
    if not text.strip():
        return {}
    matched = {}
    for key, name in wanted.items():
        value = _loose_value(text, name)
        if value is not None:
            matched[name] = value
    warnings.append("the answer was not a JSON object with the requested fields"
                    + ("; read them by name from the text" if matched else ""))
    return matched


def _loose_value(text: str, name: str):
    """`"name": value` in text that is not valid JSON."""
    pattern = re.compile(r'"' + re.escape(name) + r'"\s*:\s*("(?:[^"\\]|\\.){0,2000}"|[-\w.+]{1,100})', re.I)
    m = pattern.search(text)
    if not m:
        return None
    try:
        return loads(m.group(1))
    except ValueError:
        return m.group(1)


def _typed(raw, spec: FieldSpec, warnings: list[str]):
    if isinstance(raw, str) and raw.strip().lower() in ABSENT:
        return None
    value = _COERCE[spec.type](raw)
    if value is _INVALID:
        shown = json.dumps(raw, ensure_ascii=False)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        warnings.append(f"field {spec.name!r}: {shown} is not a valid {spec.type}; set to null")
        return None
    if spec.type == "date" and isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        warnings.append(f"field {spec.name!r}: {value!r} is not an unambiguous date; kept as printed")
    return value


_INVALID = object()
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _string(raw):
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return json.dumps(raw)
    return _INVALID


def _number(raw):
    if isinstance(raw, bool):
        return _INVALID
    if isinstance(raw, (int, float)):
        return raw if math.isfinite(raw) else _INVALID
    if not isinstance(raw, str):
        return _INVALID
    value = parse_number(raw)
    return _INVALID if value is None else value


def _integer(raw):
    value = _number(raw)
    if value is _INVALID or value != int(value):
        return _INVALID
    return int(value)


def _boolean(raw):
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower() if isinstance(raw, (str, int)) else None
    if word in ("true", "yes", "y", "1", "x", "✓"):
        return True
    if word in ("false", "no", "n", "0"):
        return False
    return _INVALID


def _date(raw):
    if not isinstance(raw, str):
        return _INVALID
    return parse_date(raw) or raw.strip()


_COERCE = {
    "string": _string, "number": _number, "integer": _integer, "boolean": _boolean, "date": _date,
    "array": lambda raw: raw if isinstance(raw, list) else _INVALID,
    "object": lambda raw: raw if isinstance(raw, dict) else _INVALID,
}


def parse_number(text: str) -> int | float | None:
    """A printed amount as a number: currency, words and thousands separators dropped; `(12.00)` is
    negative; when both `,` and `.` appear, the last one is the decimal separator."""
    t = text.strip().replace("\u2212", "-").replace("\u00a0", " ")
    try:
        if _PLAIN_NUMBER.fullmatch(t):
            value = float(t) if any(c in t for c in ".eE") else int(t)
            return value if math.isfinite(value) else None
        negative = t.startswith("(") and t.endswith(")")
        core = _NOT_NUMERIC.sub("", t).strip()
        # Digits apart are one number only as thousands groups ("1 234,50"); "3 of 4" is not a number.
        if _SPACED_DIGITS.search(core) and not _THOUSANDS_SPACE.fullmatch(core):
            return None
        core = "".join(core.split())
        sign = core[:1] if core[:1] in ("+", "-") else ""
        core = core[len(sign):]
        if not _DIGITS_AND_SEPARATORS.fullmatch(core):
            return None
        if "," in core and "." in core:
            decimal = "," if core.rfind(",") > core.rfind(".") else "."
            core = core.replace("." if decimal == "," else ",", "").replace(",", ".")
        elif "," in core:
            core = core.replace(",", "") if _THOUSANDS_COMMA.fullmatch(core) else core.replace(",", ".")
        elif core.count(".") > 1:
            if not _THOUSANDS_DOT.fullmatch(core):
                return None
            core = core.replace(".", "")
        value = float(core) if "." in core else int(core)
    except ValueError:  # several decimal marks, or more digits than int() converts
        return None
    if not math.isfinite(value):
        return None
    return -value if negative or sign == "-" else value


def parse_date(text: str) -> str | None:
    """ISO YYYY-MM-DD for dates whose reading is unambiguous, else None."""
    t = text.strip()
    for pattern, order in ((_ISO, "ymd"), (_DOTTED, "dmy")):
        m = pattern.fullmatch(t)
        if m:
            parts = dict(zip(order, m.groups()))
            return _iso(parts["y"], parts["m"], parts["d"])
    m = _SLASHED.fullmatch(t)
    if m:
        a, b, year = m.groups()
        if int(a) > 12 >= int(b):
            return _iso(year, b, a)
        if int(b) > 12 >= int(a):
            return _iso(year, a, b)
        return _iso(year, a, b) if a == b else None  # 03/04/2024: March or April depends on the country
    m = _DAY_MONTH.fullmatch(t)
    if m and m.group(2).lower() in _MONTHS:
        return _iso(m.group(3), _MONTHS[m.group(2).lower()], m.group(1))
    m = _MONTH_DAY.fullmatch(t)
    if m and m.group(1).lower() in _MONTHS:
        return _iso(m.group(3), _MONTHS[m.group(1).lower()], m.group(2))
    return None


def _iso(year, month, day) -> str | None:
    y = int(year)
    if y < 100:
        y += 2000 if y < 70 else 1900
    try:
        return dt.date(y, int(month), int(day)).isoformat()
    except ValueError:
        return None
