"""Grounding: where on the page a described thing is, as boxes in page coordinates.

Template fields: {query} (the user's description) and {target} ("the region" or "every region").
"""

from __future__ import annotations

from .. import prompts
from ..coords import anchor_all
from ..parsers.boxes import parse_boxes
from ..raster import PageImage
from . import Task


def ground_task(query: str, all_matches: bool = False, prompt_file: str | None = None) -> Task:
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

    return Task("ground", prompt, parse, {"query": query, "all": all_matches, "prompt_file": prompt_file})
