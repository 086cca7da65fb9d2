"""The scores behind `docvl eval`: edit distances, normalisation, ICDAR 2013 cell adjacency."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from docvl.evaluate.metrics import (Cell, Counts, TextScore, adjacency_relations, edit_distance, grid_cells,
                                    match_tables, normalize_text)


def naive_distance(a, b) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcé ", max_size=70), st.text(alphabet="abcé ", max_size=70))
def test_bit_parallel_edit_distance_equals_the_textbook_one(a, b):
    assert edit_distance(a, b) == naive_distance(a, b)
    assert edit_distance(a.split(), b.split()) == naive_distance(a.split(), b.split())


def test_long_sequences_cross_machine_word_boundaries():
    a = "the quick brown fox " * 40
    b = a.replace("quick", "quack").replace("fox", "dog")
    assert edit_distance(a, b) == naive_distance(a, b) == 40 * (1 + 2)  # quick-quack, fox-dog


def test_normalisation_folds_what_transcripts_write_either_way():
    assert normalize_text("“Quoted” — ﬁne\n\n  text\u00ad") == '"Quoted" - fine text'
    score = TextScore.of("Hello world", "Hello  wurld\n")
    assert (score.char_errors, score.chars, score.word_errors, score.words) == (1, 11, 1, 2)
    assert score.cer == 1 / 11 and score.wer == 0.5
    assert TextScore.of("", "anything").cer is None


def test_adjacency_skips_empty_cells_and_follows_spans():
    # | A    | B | C |
    # | D (2 cols) |   |
    # | E |   | F |
    cells = [Cell("A", 0, 0, 0, 0), Cell("B", 0, 1, 0, 1), Cell("C", 0, 2, 0, 2),
             Cell("D", 1, 0, 1, 1), Cell("", 1, 2, 1, 2),
             Cell("E", 2, 0, 2, 0), Cell("F", 2, 2, 2, 2)]
    assert adjacency_relations(cells) == Counter({
        ("A", "B", "right"): 1, ("B", "C", "right"): 1, ("E", "F", "right"): 1,
        ("A", "D", "down"): 1, ("B", "D", "down"): 1, ("D", "E", "down"): 1, ("C", "F", "down"): 1})


def test_cell_text_is_compared_without_spaces_and_accents():
    a = adjacency_relations(grid_cells([["Café  total", "1 000"]]))
    b = adjacency_relations(grid_cells([["Cafetotal", "1000"]]))
    assert a == b


def test_tables_are_paired_one_to_one():
    truth = [adjacency_relations(grid_cells([["a", "b"], ["c", "d"]])),
             adjacency_relations(grid_cells([["x", "y"]]))]
    perfect = match_tables(truth, list(truth))
    assert perfect == Counts(5, 0, 0) and perfect.f1 == 1.0
    half = match_tables(truth, [adjacency_relations(grid_cells([["a", "b"], ["c", "e"]]))])
    # a-b and a-c found; b-d, c-d and the whole second table missed; b-e and c-e are false.
    assert half == Counts(tp=2, fp=2, fn=3)
    assert match_tables([], [truth[0]]) == Counts(fp=4)
