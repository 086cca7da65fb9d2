"""The generated test tables (benchmarks/tablegen.py): deterministic, their truth exactly what the page
shows, and docvl's text-layer tables of them compared with that truth through the CLI."""

import json
import random
import sys
from pathlib import Path

import pymupdf
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import tablegen  # noqa: E402
from tablegen import Features  # noqa: E402

from docvl.evaluate.metrics import adjacency_relations, grid_cells, match_tables  # noqa: E402
from docvl.evaluate.truth import read_icdar_tables  # noqa: E402

SET = 16  # documents: every border style with every feature


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    return out, tablegen.generate(out, SET, seed=7)


def test_the_same_seed_gives_the_same_files(generated, tmp_path):
    out, _ = generated
    tablegen.generate(tmp_path / "again", SET, seed=7)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    assert all((out / n).read_bytes() == (tmp_path / "again" / n).read_bytes() for n in names)
    tablegen.generate(tmp_path / "other", 2, seed=8)
    assert (tmp_path / "other" / "gen-8-000.pdf").read_bytes() != (out / "gen-7-000.pdf").read_bytes()


def test_the_set_covers_every_style_and_feature(generated):
    out, documents = generated
    lines = (out / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    assert header[:3] == ["file", "kind", "n_tables"] and len(lines) == SET + 1
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    assert {r["kind"] for r in rows} == {"ruled", "partly ruled", "unruled"}
    assert {r["borders"] for r in rows} == set(tablegen.BORDERS)
    tags = {t.split("=")[0] for r in rows for t in r["features"].split(",")}
    assert {"wrap", "tables", "landscape", "rotated", "continued-repeat", "continued-no-repeat"} <= tags
    assert {d.features.header_rows for d in documents} == {1, 2, 3}
    rotated = next(d for d in documents if d.features.orientation == "rotated")
    with pymupdf.open(rotated.pdf) as doc:
        assert doc[0].rotation == 90


def test_every_truth_cell_is_on_the_page(generated):
    out, documents = generated
    for document in documents:
        assert tablegen.text_mismatches(document) == []
        # The XML docvl eval reads holds the same cells as the generator's own truth.
        xml = read_icdar_tables(out / f"{document.name}-str.xml")
        assert [(t.page, len(t.cells)) for t in xml] == [(t.page, len(t.cells)) for t in document.tables]
        assert [c.text for t in xml for c in t.cells] == [c.text for t in document.tables for c in t.cells]
        # And the page's plain text has each cell's words (a check independent of the boxes).
        with pymupdf.open(document.pdf) as doc:
            words = {n: set(doc[n - 1].get_text().split()) for n in range(1, doc.page_count + 1)}
        assert all(set(c.text.split()) <= words[t.page] for t in document.tables for c in t.cells)


def test_a_continued_table_is_one_table_over_two_regions(tmp_path):
    for repeat in ("repeat", "no-repeat"):
        document = tablegen.make(tmp_path, repeat, Features(continued=repeat), random.Random(3))
        first, second, *_ = document.tables
        assert (first.page, second.page) == (1, 2) and second.continues == {"page": 1, "index": 1}
        assert second.header_rows == (1 if repeat == "repeat" else 0)
        truth = json.loads((tmp_path / f"{repeat}.tables.json").read_text())
        assert truth["tables"][1]["continues"] == {"page": 1, "index": 1}
        assert len(read_icdar_tables(tmp_path / f"{repeat}-str.xml")) == len(document.tables)


# -- docvl's text-layer tables of generated pages ---------------------------------------------------

FEATURES = {
    "plain": {},
    "two header rows": {"header_rows": 2},
    "three header rows": {"header_rows": 3},
    "wrapped cells": {"wrap": True},
    "three tables": {"tables": 3},
    "landscape": {"orientation": "landscape"},
    "rotated": {"orientation": "rotated"},
    "continued with its header": {"continued": "repeat"},
    "continued without header": {"continued": "no-repeat"},
}
CASES = [(b, f) for b in tablegen.BORDERS for f in FEATURES]


def adjacency_f1(truth_xml: Path, grids: list[list[list[str]]]) -> float:
    """docvl eval's table score of grids (header row first) against ICDAR 2013 truth."""
    truth = [adjacency_relations(t.cells) for t in read_icdar_tables(truth_xml)]
    return match_tables(truth, [adjacency_relations(grid_cells(g)) for g in grids]).f1


def extract_tables(run_cli, pdf: Path) -> list[dict]:
    code, out, err = run_cli("extract-tables", pdf, "--text-layer", "only", "--format", "json")
    assert code == 0, err
    return [t for page in json.loads(out)["pages"] for t in page["tables"]]


@pytest.mark.parametrize("borders, feature", CASES)
def test_text_layer_tables_round_trip(run_cli, tmp_path, borders, feature):
    document = tablegen.make(tmp_path, "doc", Features(borders=borders, **FEATURES[feature]), random.Random(0))
    tables = extract_tables(run_cli, document.pdf)
    assert tablegen.round_trip_differences(document.tables, tables) == []
    # A flat grid cannot say that a header spans columns, and stacked header rows become one name per
    # column: the expected records' grids are the best score.
    expected = [tablegen.expected_record(t) for t in document.tables]
    best = adjacency_f1(tmp_path / "doc-str.xml", [[e["header"], *e["rows"]] for e in expected])
    got = adjacency_f1(tmp_path / "doc-str.xml", [[t["header"], *t["rows"]] for t in tables])
    assert got == pytest.approx(best)
