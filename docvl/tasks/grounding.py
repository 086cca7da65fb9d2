"""Grounding: where on the page a described thing is, as boxes in page coordinates.

Template fields: {query} (the user's description) and {target} ("the region" or "every region").

When a document is finished, boxes on its born-digital pages snap to the text layer's words of a
literal query (text_layer "auto"), and overlay images are drawn if asked for.
"""

from __future__ import annotations

from .. import prompts
from ..coords import anchor_all
from ..errors import UsageError
from ..overlay import Overlays
from ..parsers.boxes import parse_boxes
from ..raster import PageImage
from ..textlayer.snap import snap_record
from . import Task


def ground_task(query: str, all_matches: bool = False, prompt_file: str | None = None,
                text_layer: str = "auto", overlays: Overlays | None = None) -> Task:
    query = query.strip()
    if not query:
        raise UsageError("ground: the query is empty; describe what to find, e.g. \"the total amount\"")
    if text_layer not in ("auto", "off"):
        raise UsageError(f"--text-layer {text_layer}: ground takes auto or off (it needs the model)")
    target = "every region" if all_matches else "the one region"

    def prompt(page: PageImage, family: str) -> str:
        template = prompts.load_template("ground", family, prompt_file)
        return prompts.render(template, query=query, target=target)

    def parse(text: str, page: PageImage, family: str) -> dict:
        items, warnings = parse_boxes(text)
        boxes = anchor_all(items, page, family, warnings)
        for box in boxes:
            box["label"] = box["label"] or query
        if not all_matches and len(boxes) > 1:
            warnings.append(f"{len(boxes)} boxes found; kept the first (--all keeps every one)")
            boxes = boxes[:1]
        return {"boxes": boxes, "warnings": warnings}

    def finish(record: dict, location: str, password: str | None) -> None:
        if text_layer == "auto":
            snap_record(record, query, location, password)
        if overlays is not None:
            overlays.write(record, location, password)

    options = {"query": query, "all": all_matches, "prompt_file": prompt_file, "text_layer": text_layer}
    return Task("ground", prompt, parse, options, finish=finish)
