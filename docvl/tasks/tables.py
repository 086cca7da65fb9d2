"""Tables: every table on the page, as HTML (markdown is read too), with the table's box in page
coordinates where the model gives one (`data-bbox` on <table>). Template fields: none.

Once a document's pages are done, tables continued on the next page are linked (`continues`), or
with `join_pages` joined into one table (docvl/tables_join.py), whichever answered the pages."""

from __future__ import annotations

from .. import prompts
from ..coords import anchor
from ..parsers.tables import parse_tables
from ..raster import PageImage
from ..tables_join import join_continued, link_continued
from . import Task


def tables_task(prompt_file: str | None = None, join_pages: bool = False) -> Task:
    def prompt(page: PageImage, family: str) -> str:
        return prompts.render(prompts.load_template("tables", family, prompt_file))

    def summarize(pages: list[dict]) -> dict:
        return {"pages": (join_continued if join_pages else link_continued)(pages)}

    options = {"prompt_file": prompt_file, "join_pages": join_pages}
    return Task("tables", prompt, parse_tables_page, options, summarize=summarize)


def parse_tables_page(text: str, page: PageImage, family: str) -> dict:
    tables, warnings = parse_tables(text)
    records = []
    for index, table in enumerate(tables, start=1):
        placed = None
        if table["bbox"] is not None:
            placed, warning = anchor(table["bbox"], page, family)
            if warning:
                warnings.append(f"table {index}: {warning}")
        records.append({
            "page": page.page, "index": index, "header": table["header"], "rows": table["rows"],
            "box": placed["box"] if placed else None, "box_px": placed["box_px"] if placed else None,
        })
    return {"tables": records, "warnings": warnings}
