"""Ground truth, read from the formats of the public sets: plain-text transcripts, SROIE key fields
(JSON), ICDAR 2013 table structure (`*-str.xml`), and a born-digital PDF's own text layer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, short_reason
from .metrics import Cell


@dataclass
class TruthTable:
    page: int  # 1-based
    cells: list[Cell]


def read_transcript(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise InputError(f"{path}: cannot read the transcript ({e.strerror or e})") from None


def read_fields(path: Path) -> dict:
    """SROIE key fields: {"company", "date", "address", "total"} (any string-valued keys are scored)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read the key fields ({short_reason(e)})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: key fields must be a JSON object")
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def read_icdar_tables(path: Path) -> list[TruthTable]:
    """ICDAR 2013 structure ground truth: per table, its page and cells (start/end row and column;
    an absent end is the start). Bounding boxes (PDF points, origin bottom-left) are not needed to
    compare adjacency relations and are not read."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise InputError(f"{path}: cannot read ICDAR 2013 table structure ({short_reason(e)})") from None
    tables = []
    for table in root.iter("table"):
        for region in table.iter("region"):
            cells = []
            for cell in region.iter("cell"):
                content = cell.find("content")
                text = "".join(content.itertext()) if content is not None else ""
                try:
                    row, col = int(cell.get("start-row")), int(cell.get("start-col"))
                    end_row = int(cell.get("end-row", row))
                    end_col = int(cell.get("end-col", col))
                except (TypeError, ValueError):
                    raise InputError(f"{path}: a cell without start-row/start-col") from None
                cells.append(Cell(text, row, col, end_row, end_col))
            tables.append(TruthTable(int(region.get("page", "1")), cells))
    return tables


def read_sroie_lines(path: Path) -> str:
    """SROIE's line annotations (`x1,y1,...,x4,y4,text` a line) as a transcript, one text line a line."""
    lines = []
    for row in read_transcript(path).splitlines():
        parts = row.split(",", 8)
        if len(parts) == 9:
            lines.append(parts[8].strip())
    return "\n".join(lines)
