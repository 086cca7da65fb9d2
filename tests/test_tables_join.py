"""Tables continued on the next page: linked in JSON by default, joined into one table (and one CSV
file) with --join-pages; through the CLI on generated PDFs, and the rules on page records."""

import copy
import json
import random
import sys
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from jsonschema import Draft202012Validator

from docvl.tables_join import join_continued, link_continued

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import tablegen  # noqa: E402

SCHEMA = json.loads((resources.files("docvl.schemas") / "docvl-1.schema.json").read_text())
# Ruled as a grid: the text-layer detector finds long tables of that style today (see test_tablegen).
BORDERS = "grid"


@pytest.fixture(scope="module", params=["repeat", "no-repeat"])
def long_table(request, tmp_path_factory):
    """A table over two pages, its header repeated on the second or not; (document, its two parts)."""
    out = tmp_path_factory.mktemp(request.param)
    document = tablegen.make(out, "long", tablegen.Features(borders=BORDERS, continued=request.param),
                             random.Random(5))
    assert [t.page for t in document.tables] == [1, 2]
    return document, document.tables


def expected_rows(parts) -> list[list[str]]:
    """The joined table's rows from the truth: every part's rows, a repeated header dropped."""
    first, second = parts
    return first.grid()[first.header_rows:] + second.grid()[second.header_rows:]


def extract(run_cli, *args) -> dict:
    code, out, err = run_cli("extract-tables", *args, "--text-layer", "only", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(document), key=str)
    assert not errors, errors[0]
    return document


def test_a_continued_table_is_linked_to_the_table_it_continues(run_cli, long_table):
    document, parts = long_table
    pages = extract(run_cli, document.pdf)["pages"]
    [first], [second] = pages[0]["tables"], pages[1]["tables"]
    assert "continues" not in first
    assert second["continues"] == {"page": 1, "index": 1}
    assert tablegen.round_trip_differences(parts, [first, second]) == []  # parts as they are, unjoined


def test_join_pages_gives_one_table_with_each_rows_page(run_cli, long_table):
    document, parts = long_table
    pages = extract(run_cli, document.pdf, "--join-pages")["pages"]
    [table] = pages[0]["tables"]
    assert pages[1]["tables"] == []
    assert table["header"] == parts[0].grid()[0]
    assert table["rows"] == expected_rows(parts)
    first_rows = parts[0].n_rows - parts[0].header_rows
    assert table["row_pages"] == [1] * first_rows + [2] * (len(table["rows"]) - first_rows)
    assert [(p["page"], p["index"]) for p in table["parts"]] == [(1, 1), (2, 1)]
    assert "continues" not in table


def test_a_joined_table_is_one_csv_file(run_cli, long_table, tmp_path):
    document, parts = long_table
    target = tmp_path / "out.csv"
    code, out, err = run_cli("extract-tables", document.pdf, "--text-layer", "only", "--join-pages", "-o", target)
    assert code == 0, err
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert list(frame.columns) == parts[0].grid()[0]
    # The CSV neutralises formula-like cells; the generated numbers are data and come out as they are.
    assert frame.values.tolist() == expected_rows(parts)
    # Without --join-pages, each part is its own file.
    code, _, err = run_cli("extract-tables", document.pdf, "--text-layer", "only", "-o", tmp_path / "parts" / "t.csv")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == ["t-p1-t1.csv", "t-p2-t1.csv"]


# -- the rules, on page records ------------------------------------------------------------------


def table(page, index, header, rows, box=(72, 100, 500, 700)):
    return {"page": page, "index": index, "header": header, "rows": rows, "box": list(box) if box else None,
            "box_px": None}


def page(number, *tables):
    return {"page": number, "status": "ok", "width_pt": 612, "height_pt": 792, "tables": list(tables)}


HEADER = ["Region", "2019", "2020"]
DATA = [["North", "1,204.5", "-12"], ["South", "988.0", "-"], ["West", "450.25", "3.5%"]]


def links(pages):
    return [(t["page"], t["index"], t.get("continues")) for p in link_continued(pages) for t in p["tables"]]


def test_a_repeated_header_or_a_data_row_on_top_continues():
    repeated = [page(1, table(1, 1, HEADER, DATA)), page(2, table(2, 1, HEADER, DATA))]
    assert links(repeated)[1] == (2, 1, {"page": 1, "index": 1})
    missing = [page(1, table(1, 1, HEADER, DATA)), page(2, table(2, 1, DATA[0], DATA[1:]))]
    assert links(missing)[1] == (2, 1, {"page": 1, "index": 1})
    model = [page(1, table(1, 1, HEADER, DATA, box=None)), page(2, table(2, 1, None, DATA, box=None))]
    assert links(model)[1] == (2, 1, {"page": 1, "index": 1})


@pytest.mark.parametrize("second", [
    table(2, 1, ["Region", "2021", "2022"], DATA),  # another table's header
    table(2, 1, HEADER + ["2021"], [r + ["1"] for r in DATA]),  # another column count
    table(2, 1, HEADER, DATA, box=(200, 100, 560, 700)),  # another place on the page
    table(2, 1, HEADER, DATA, box=(72, 500, 500, 700)),  # starts low on its page: something is above it
    table(2, 1, ["Name", "Street", "Town"], [["Ann", "Main St", "Leeds"]]),  # a data row cannot be told
])
def test_other_tables_are_not_continuations(second):
    pages = [page(1, table(1, 1, HEADER, DATA)), page(2, second)]
    assert [c for *_, c in links(pages)] == [None, None]
    assert join_continued(pages) == pages


def test_only_the_last_table_of_a_page_continues_on_the_first_of_the_next():
    pages = [page(1, table(1, 1, HEADER, DATA), table(1, 2, ["A", "B"], [["x", "1"]])),
             page(2, table(2, 1, HEADER, DATA))]
    assert [c for *_, c in links(pages)] == [None, None, None]
    gap = [page(1, table(1, 1, HEADER, DATA)), page(3, table(3, 1, HEADER, DATA))]  # page 2 not read
    assert [c for *_, c in links(gap)] == [None, None]


def test_a_table_over_three_pages_joins_into_its_first_part():
    pages = [page(1, table(1, 1, HEADER, DATA[:1])), page(2, table(2, 1, HEADER, DATA[1:2])),
             page(3, table(3, 1, DATA[2], []), table(3, 2, ["A", "B"], [["x", "1"]]))]
    before = copy.deepcopy(pages)
    assert [c for *_, c in links(pages)][:3] == [None, {"page": 1, "index": 1}, {"page": 2, "index": 1}]
    joined = join_continued(pages)
    assert pages == before  # the input records are left as they were
    [first] = joined[0]["tables"]
    assert first["rows"] == DATA and first["row_pages"] == [1, 2, 3]
    assert [p["page"] for p in first["parts"]] == [1, 2, 3]
    assert joined[1]["tables"] == [] and [t["index"] for t in joined[2]["tables"]] == [2]


def test_odd_records_are_left_alone():
    odd = [{"page": 1, "status": "failed", "error": "x"}, page(2, table(2, 1, None, [])),
           page(3, table(3, 1, [], [[]])), {"page": "4", "tables": [{}]}]
    assert link_continued(odd) == odd and join_continued(odd) == odd
