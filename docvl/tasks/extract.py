"""Key fields: the values of named fields, typed as declared, null when the page does not show them.

Template fields: {fields} (one line per field: name, type, description) and {keys} (the names, quoted).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .. import prompts
from ..errors import UsageError
from ..parsers.fields import TYPES, FieldSpec, parse_fields
from ..raster import PageImage
from . import Task

_HINTS = {"string": "text", "number": "number", "integer": "whole number", "boolean": "true or false",
          "date": "date, YYYY-MM-DD", "array": "list", "object": "object"}


def extract_task(specs: list[FieldSpec], prompt_file: str | None = None) -> Task:
    lines = "\n".join(f"- {s.name} ({_HINTS[s.type]})" + (f": {s.description}" if s.description else "")
                      for s in specs)
    keys = ", ".join(json.dumps(s.name, ensure_ascii=False) for s in specs)

    def prompt(page: PageImage, family: str) -> str:
        return prompts.render(prompts.load_template("extract", family, prompt_file), fields=lines, keys=keys)

    def parse(text: str, page: PageImage, family: str) -> dict:
        values, warnings = parse_fields(text, specs)
        return {"fields": values, "warnings": warnings}

    def summarize(pages: list[dict]) -> dict:
        return {"fields": merge_fields(pages, [s.name for s in specs])}

    options = {"fields": {s.name: s.type for s in specs}, "prompt_file": prompt_file}
    return Task("extract", prompt, parse, options, summarize=summarize)


def specs_from_names(names: str) -> list[FieldSpec]:
    """`--fields invoice_number,date,total`: text fields."""
    specs = [FieldSpec(n.strip()) for n in names.split(",") if n.strip()]
    if not specs:
        raise UsageError("--fields: name at least one field, e.g. --fields invoice_number,date,total")
    return _unique(specs, "--fields")


def specs_from_schema(path: str) -> list[FieldSpec]:
    """`--schema FILE`: a JSON Schema object ({"properties": {name: {"type", "format", "description"}}})
    or a plain mapping {name: type or {"type", "description"}}."""
    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"--schema {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise UsageError(f"--schema {path}: not valid JSON ({e})") from None
    return specs_from_mapping(schema, f"--schema {path}")


def specs_from_mapping(schema, where: str) -> list[FieldSpec]:
    """A JSON Schema object or a mapping of names to types (see specs_from_schema); `where` names it
    in errors."""
    if not isinstance(schema, dict):
        raise UsageError(f"{where}: expected a JSON object of fields")
    fields = schema.get("properties", schema)
    if not isinstance(fields, dict) or not fields:
        raise UsageError(f"{where}: no fields; give \"properties\" or a mapping of names to types")
    specs = [_spec(name, declared, where) for name, declared in fields.items()]
    return _unique(specs, where)


def _spec(name: str, declared, where: str) -> FieldSpec:
    if not name.strip():
        raise UsageError(f"{where}: a field has an empty name")
    if isinstance(declared, str):
        declared = {"type": declared}
    if not isinstance(declared, dict):
        raise UsageError(f"{where}: field {name!r} must be a type name or an object with \"type\"")
    kind = declared.get("type", "string")
    if isinstance(kind, list):  # ["number", "null"]: null is always allowed
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "string" and declared.get("format") in ("date", "date-time"):
        kind = "date"
    if kind not in TYPES:
        raise UsageError(f"{where}: field {name!r} has type {kind!r}; use one of {', '.join(TYPES)}")
    description = declared.get("description")
    description = re.sub(r"\s+", " ", description).strip() if isinstance(description, str) else None
    return FieldSpec(name, kind, description or None)


def _unique(specs: list[FieldSpec], where: str) -> list[FieldSpec]:
    names = [s.name for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"{where}: field {repeated[0]!r} is named twice")
    return specs


def merge_fields(pages: list[dict], names: list[str]) -> dict:
    """A document's fields: each field's first non-null value over its pages, in page order."""
    merged = dict.fromkeys(names)
    for page in pages:
        for name in names:
            if merged[name] is None:
                merged[name] = (page.get("fields") or {}).get(name)
    return merged
