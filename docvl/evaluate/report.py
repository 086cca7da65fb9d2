"""The eval report on stdout: a Rich table, one row per run (side by side), or JSON."""

from __future__ import annotations

import sys
from pathlib import Path

from ..output import atomic_write, dumps

COLUMNS = ("run", "model", "max px", "pages L/M/F", "CER", "WER", "BD CER", "fields", "tables P/R/F1",
           "CER low-conf/rest")
CAPTION = ("pages L/M/F: from the text layer / the model / failed; CER, WER: vs transcripts (lower is better); "
           "BD CER: model pages vs their born-digital text layer; fields: key fields right; tables: ICDAR 2013 "
           "cell-adjacency precision/recall/F1 (%); CER low-conf/rest: of the least confident tenth of the scored "
           "documents and pages against the rest (docs/trust.md)")


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _row(run: dict) -> list[str]:
    engine, options = run.get("engine") or {}, run.get("options") or {}
    model = Path(engine["model"]).name if engine.get("model") else "text layer"
    n = run["pages_by_source"]
    ocr, born, fields, tables = run["ocr"] or {}, run["born_digital"] or {}, run["fields"] or {}, run["tables"]
    prf = "-" if tables is None else "/".join(f"{100 * tables[k]:.0f}" for k in ("precision", "recall", "f1"))
    conf = run.get("confidence")
    ranked = "-" if conf is None else f"{_pct(conf['lowest_tenth']['cer'])}/{_pct(conf['rest']['cer'])}"
    return [Path(run["run"]).name, model, str(options.get("max_pixels", "-")),
            f"{n.get('text-layer', 0)}/{n.get('model', 0)}/{n.get('failed', 0)}", _pct(ocr.get("cer")),
            _pct(ocr.get("wer")), _pct(born.get("cer")), _pct(fields.get("accuracy")), prf, ranked]


def write_report(report: dict, as_json: bool, output: str | None) -> None:
    if as_json or output not in (None, "-"):
        text = dumps(report, indent=2) + "\n"
        if output in (None, "-"):
            sys.stdout.write(text)
        else:
            atomic_write(output, text)
        if as_json:
            return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="docvl eval", caption=CAPTION)
    for i, col in enumerate(COLUMNS):
        table.add_column(col, justify="left" if i < 2 else "right", overflow="fold")
    for run in report["runs"]:
        table.add_row(*_row(run))
    # Piped, Rich would wrap at 80 columns; a report row is easier to read on one line.
    Console(width=None if sys.stdout.isatty() else 160).print(table)
