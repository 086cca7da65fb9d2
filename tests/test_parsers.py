"""Parsers on answers in each model family's real formats, well-formed and broken."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from docvl.parsers.boxes import parse_boxes
from docvl.parsers.fields import FieldSpec, parse_date, parse_fields, parse_number
from docvl.parsers.jsonish import json_values
from docvl.parsers.tables import parse_tables
from docvl.parsers.text import cut_repetition
from docvl.raster import PageImage
from docvl.tasks.extract import extract_task
from docvl.tasks.grounding import ground_task
from docvl.tasks.ocr import ocr_task
from docvl.tasks.tables import tables_task

# -- tables ------------------------------------------------------------------------------------

# Qwen2-VL answering "write the table as HTML": plain HTML, header cells as <th>.
QWEN2_TABLE = """<table border="1">
<tr><th>Item</th><th>Qty</th><th>Unit price</th><th>Amount</th></tr>
<tr><td>A4 paper, 500 sheets</td><td>4</td><td>5.20</td><td>20.80</td></tr>
<tr><td>Toner &amp; drum kit</td><td>1</td><td>89.00</td><td>89.00</td></tr>
</table>"""

# Qwen2.5-VL's document HTML ("QwenVL HTML"): data-bbox in pixels, a two-row <thead> with spans.
QWEN25_TABLE = """```html
<html><body>
<h2 data-bbox="60 40 500 70">Quarterly revenue</h2>
<table data-bbox="58 90 1030 402">
<thead>
<tr><td rowspan="2">Region</td><td colspan="2">2023</td><td colspan="2">2024</td></tr>
<tr><td>H1</td><td>H2</td><td>H1</td><td>H2</td></tr>
</thead>
<tbody>
<tr><td rowspan="2">North</td><td>1,200</td><td>1,310</td><td>1,405</td><td>1,520</td></tr>
<tr><td>980</td><td>1,010</td><td>1,100</td><td>1,150</td></tr>
<tr><td>South</td><td colspan="4">n/a</td></tr>
</tbody>
</table>
</body></html>
```"""


def test_plain_html_table_with_th_header():
    [table], warnings = parse_tables(QWEN2_TABLE)
    assert warnings == []
    assert table["header"] == ["Item", "Qty", "Unit price", "Amount"]
    assert table["rows"] == [["A4 paper, 500 sheets", "4", "5.20", "20.80"],
                             ["Toner & drum kit", "1", "89.00", "89.00"]]
    assert table["bbox"] is None


def test_spanning_cells_expand_and_two_header_rows_flatten():
    [table], warnings = parse_tables(QWEN25_TABLE)
    assert warnings == []
    assert table["bbox"] == [58, 90, 1030, 402]
    assert table["header"] == ["Region", "2023 / H1", "2023 / H2", "2024 / H1", "2024 / H2"]
    assert table["rows"] == [
        ["North", "1,200", "1,310", "1,405", "1,520"],
        ["North", "980", "1,010", "1,100", "1,150"],
        ["South", "n/a", "n/a", "n/a", "n/a"],
    ]


def test_markdown_table_the_model_drifted_into():
    text = """Here is the table from the page:

| Date       | Description        | Amount |
|:-----------|:-------------------|-------:|
| 2024-03-01 | Opening balance    | 100.00 |
| 2024-03-04 | Card \\| groceries | -23.45 |
| 2024-03-09 | Salary             |

The balance is positive."""
    [table], warnings = parse_tables(text)
    assert table["header"] == ["Date", "Description", "Amount"]
    assert table["rows"] == [["2024-03-01", "Opening balance", "100.00"],
                             ["2024-03-04", "Card | groceries", "-23.45"],
                             ["2024-03-09", "Salary", ""]]


def test_html_and_markdown_tables_in_one_answer_keep_their_order():
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n" + QWEN2_TABLE + "\n\n| x | y |\n| --- | --- |\n| 3 | 4 |"
    tables, _ = parse_tables(text)
    assert [t["header"][0] for t in tables] == ["a", "Item", "x"]


def test_cut_off_table_keeps_its_rows_and_says_so():
    text = QWEN2_TABLE[: QWEN2_TABLE.index("<td>89.00</td><td>89")] + "<td>89.00</td><td>8"
    [table], warnings = parse_tables(text)
    assert table["rows"][-1] == ["Toner & drum kit", "1", "89.00", "8"]
    assert warnings == ["table 1 was cut off before </table>; kept the rows read so far"]


def test_unclosed_cells_rows_and_missing_table_tag():
    text = "<tr><td>Name<td>Total\n<tr><td>Pen<td>1.50\n<tr><td>Ink<td>4.00"
    [table], warnings = parse_tables(text)
    assert table["header"] == ["Name", "Total"]  # unmarked, but labels above numbers
    assert table["rows"] == [["Pen", "1.50"], ["Ink", "4.00"]]
    assert "cut off" in warnings[0]


def test_looping_answer_keeps_one_copy_of_the_loop():
    row = "<tr><td>0.00</td><td>0.00</td></tr>\n"
    text = "<table><tr><th>Debit</th><th>Credit</th></tr>\n" + row * 120 + "<tr><td>0.0"
    [table], warnings = parse_tables(text)
    assert len(table["rows"]) <= 2
    assert any("repeats" in w for w in warnings)


def test_plain_ocr_is_cleaned_like_every_task():
    from docvl.tasks.ocr import parse_ocr

    page = PageImage("x.pdf", 1, Image.new("RGB", (280, 280)), 612, 792, 0, 72.0, None)
    looped = parse_ocr("Total 12.50\n" + "Thank you!\n" * 40, page, "qwen2-vl")
    assert looped["text"] == "Total 12.50\nThank you!" and "repeats" in looped["warnings"][0]
    thought = parse_ocr("<think>the page shows a receipt</think>\nTotal 12.50", page, "qwen3-vl")
    assert thought == {"text": "Total 12.50", "warnings": []}


def test_repeated_rows_in_a_finished_table_are_data():
    row = "<tr><td>0.00</td><td>0.00</td></tr>\n"
    text = "<table><tr><th>Debit</th><th>Credit</th></tr>\n" + row * 20 + "</table>"
    [table], warnings = parse_tables(text)
    assert len(table["rows"]) == 20 and warnings == []


def test_hostile_spans_are_clamped():
    [table], warnings = parse_tables('<table><tr><td colspan="999999">x</td></tr><tr><td rowspan=0>y</td></tr></table>')
    assert len(table["rows"][0]) == 100 and table["rows"][1][0] == "y"
    assert "spanned more than 100" in warnings[0]
    [table], warnings = parse_tables("".join(f"<tr><td rowspan=100 colspan=100>{i}" for i in range(1000)))
    assert sum(map(len, table["rows"])) <= 250_000 and "spans were cut" in warnings[0]


def test_th_in_every_row_makes_only_the_first_row_a_header():
    [table], _ = parse_tables("<table><tr><th>k</th><th>v</th></tr><tr><th>a</th><th>1</th></tr></table>")
    assert table["header"] == ["k", "v"] and table["rows"] == [["a", "1"]]


def test_unmarked_text_only_table_gets_no_header_and_loses_no_row():
    [table], _ = parse_tables("<table><tr><td>Alice</td><td>Paris</td></tr><tr><td>Bob</td><td>Rome</td></tr></table>")
    assert table["header"] is None and table["rows"][0] == ["Alice", "Paris"]


def test_header_names_are_unique_and_never_empty():
    [table], _ = parse_tables("<table><thead><tr><th>a</th><th></th><th>a</th></tr></thead><tr><td>1</td><td>2</td><td>3</td></tr></table>")
    assert table["header"] == ["a", "col2", "a_2"]


def test_cells_keep_line_breaks_and_drop_inline_markup():
    [table], _ = parse_tables("<table><tr><td><b>ACME</b> Ltd.<br/>Main   St. 1</td></tr></table>")
    assert table["rows"] == [["ACME Ltd.\nMain St. 1"]]


def test_a_bbox_of_other_than_four_finite_numbers_is_no_bbox():
    for attrs in ('data-bbox="1 2 3"', 'data-bbox="' + "9" * 400 + ' 0 1 1"', "data-bbox=''"):
        [table], _ = parse_tables(f"<table {attrs}><tr><td>a</td></tr></table>")
        assert table["bbox"] is None and table["rows"] == [["a"]]


def test_no_table_no_warning():
    assert parse_tables("The page has no table.") == ([], [])


# -- boxes -------------------------------------------------------------------------------------


def test_qwen2_vl_reference_and_box_tokens():
    text = ("<|object_ref_start|>the total amount<|object_ref_end|><|box_start|>(652,812),(910,845)<|box_end|>")
    assert parse_boxes(text) == ([{"label": "the total amount", "box": [652, 812, 910, 845]}], [])


def test_qwen2_vl_several_boxes_share_the_label_before_them():
    text = ("<|object_ref_start|>signature<|object_ref_end|><|box_start|>(100,800),(400,900)<|box_end|>"
            "<|box_start|>(600,800),(900,900)<|box_end|> and <|object_ref_start|>date<|object_ref_end|>"
            "<|box_start|>(100,50),(300,80)<|box_end|>")
    items, _ = parse_boxes(text)
    assert [(i["label"], i["box"][0]) for i in items] == [("signature", 100), ("signature", 600), ("date", 100)]


def test_qwen2_vl_cut_off_box():
    items, warnings = parse_boxes("<|object_ref_start|>logo<|object_ref_end|><|box_start|>(10,20),(30,40)")
    assert items == [{"label": "logo", "box": [10, 20, 30, 40]}] and "not closed" in warnings[0]
    items, warnings = parse_boxes("<|object_ref_start|>logo<|object_ref_end|><|box_start|>(10,20),(3")
    assert items == [] and "instead of four" in warnings[0]


# Qwen2.5-VL: JSON in a code fence, pixels of the input image.
QWEN25_BOXES = """```json
[
\t{"bbox_2d": [135, 1114, 1016, 1172], "label": "signature block"},
\t{"bbox_2d": [140, 1190, 610, 1230], "label": "date line"}
]
```"""


def test_qwen25_vl_json_in_a_code_fence():
    items, warnings = parse_boxes(QWEN25_BOXES)
    assert warnings == []
    assert items == [{"label": "signature block", "box": [135, 1114, 1016, 1172]},
                     {"label": "date line", "box": [140, 1190, 610, 1230]}]


def test_qwen3_vl_json_with_prose_and_text_content():
    text = 'The lines are:\n[{"bbox_2d": [41, 52, 380, 77], "text_content": "ACME Office Supplies"}]\nDone.'
    assert parse_boxes(text)[0] == [{"label": "ACME Office Supplies", "box": [41, 52, 380, 77]}]


def test_cut_off_json_keeps_the_complete_boxes():
    text = QWEN25_BOXES[: QWEN25_BOXES.index("610")]
    items, warnings = parse_boxes(text)
    assert items == [{"label": "signature block", "box": [135, 1114, 1016, 1172]}]
    assert warnings == ["the JSON answer was cut off; kept its complete part"]


def test_broken_json_still_yields_its_bbox_fields():
    text = '[{"bbox_2d": [1, 2, 3, 4], "label": "a"} {"bbox_2d": [5, 6, 7, 8], label: b}]'
    items, warnings = parse_boxes(text)
    assert [i["box"] for i in items] == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert items[0]["label"] == "a" and "malformed" in warnings[-1]


def test_python_literal_answer_and_point_pairs():
    items, warnings = parse_boxes("[{'bbox_2d': [[10, 20], [30, 40]], 'label': 'stamp'}]")
    assert items == [{"label": "stamp", "box": [10, 20, 30, 40]}] and "Python" in warnings[0]


def test_looping_box_answer():
    one = '{"bbox_2d": [10, 20, 30, 40], "label": "x"}, '
    items, warnings = parse_boxes("```json\n[" + one * 200 + '{"bbox_2d": [10, 2')
    assert items == [{"label": "x", "box": [10, 20, 30, 40]}]
    assert "repeats" in warnings[0]


def test_plain_list_only_as_a_last_resort():
    items, warnings = parse_boxes("The total is at [100, 200, 300, 250].")
    assert items == [{"label": None, "box": [100, 200, 300, 250]}] and "expected format" in warnings[0]
    assert parse_boxes("The total is at [100, 200, 300, 250].", plain=False) == ([], [])


def test_wrong_length_and_non_numbers_are_skipped_with_a_warning():
    items, warnings = parse_boxes('[{"bbox_2d": [1, 2, 3]}, {"bbox_2d": ["a", 2, 3, 4]}, {"bbox_2d": [true, 1, 2, 3]}]')
    assert items == [] and len(warnings) == 3


# -- fields ------------------------------------------------------------------------------------

SPECS = [FieldSpec("invoice_number"), FieldSpec("date", "date"), FieldSpec("total", "number"),
         FieldSpec("paid", "boolean"), FieldSpec("items", "integer")]


def test_fields_from_a_fenced_json_answer_typed_and_nothing_invented():
    text = """```json
{"Invoice Number": "INV-2024-0117", "date": "5 March 2024", "total": "$1,234.50",
 "vendor": "ACME Office Supplies", "paid": "yes", "items": "3"}
```"""
    values, warnings = parse_fields(text, SPECS)
    assert values == {"invoice_number": "INV-2024-0117", "date": "2024-03-05", "total": 1234.5,
                      "paid": True, "items": 3}
    assert warnings == []


def test_absent_and_untypable_values_are_null_with_warnings():
    text = '{"invoice_number": "N/A", "date": "03/04/2024", "total": "about twelve", "items": 2.5}'
    values, warnings = parse_fields(text, SPECS)
    assert values == {"invoice_number": None, "date": "03/04/2024", "total": None, "paid": None, "items": None}
    assert len(warnings) == 3 and "unambiguous date" in warnings[0] and "about twelve" in warnings[1]


def test_fields_from_cut_off_and_from_non_json_answers():
    values, warnings = parse_fields('{"invoice_number": "A-1", "total": 12.5, "date": "2024-0', SPECS)
    assert values["invoice_number"] == "A-1" and values["total"] == 12.5 and values["date"] is None
    assert "cut off" in warnings[0]
    values, warnings = parse_fields('invoice_number = A-1, "total": "9,99 €"', SPECS)
    assert values["total"] == 9.99 and values["invoice_number"] is None and "by name" in warnings[0]


def test_fields_nested_one_level_down():
    values, _ = parse_fields('{"invoice": {"invoice_number": "7", "total": 3}}', SPECS)
    assert values["invoice_number"] == "7" and values["total"] == 3


@pytest.mark.parametrize("text, expected", [
    ("12", 12), ("-3.5", -3.5), ("USD 1,234.50", 1234.5), ("$ -12.00", -12.0), ("12,50 €", 12.5),
    ("1.234,56", 1234.56), ("1 234,50", 1234.5), ("(12.00)", -12.0), ("\u22127", -7), ("1,234", 1234),
    ("Page 3 of 4", None), ("1.2.3", None), ("--5", None), ("abc", None), ("9" * 5000, None),
])
def test_printed_numbers(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2024-03-05", "2024-03-05"), ("05.03.2024", "2024-03-05"), ("13/04/2024", "2024-04-13"),
    ("04/13/24", "2024-04-13"), ("5 March 2024", "2024-03-05"), ("March 5, 2024", "2024-03-05"),
    ("12-Mar-2024", "2024-03-12"), ("03/04/2024", None), ("31/02/2024", None), ("soon", None),
])
def test_dates_only_when_unambiguous(text, expected):
    assert parse_date(text) == expected


# -- shared pieces -----------------------------------------------------------------------------


def test_json_values_finds_every_value_and_repairs_the_last():
    values, warnings = json_values('a {"x": 1} b [1, 2,] c {"y": [1, {"z": 2}, {"w"')
    assert values == [{"x": 1}, [1, 2], {"y": [1, {"z": 2}]}]
    assert len(warnings) == 2


def test_cut_repetition_only_touches_a_looping_tail():
    assert cut_repetition("abc" * 3) == ("abc" * 3, None)
    text, warning = cut_repetition("head " + "the same line\n" * 50)
    assert text == "head the same line\n"
    assert "14 characters 50 times" in warning
    assert cut_repetition("dots ........ 12\n")[1] is None


def test_hostile_input_is_fast():
    import time

    hostile = ["[" * 20000, "{" * 5000 + "}" * 4000, '["' + "[" * 20000, "<td colspan=99>" * 3000,
               "<|box_start|>" * 5000, "| a " * 5000 + "\n" + "|---" * 5000, "1, " * 20000]
    for text in hostile:
        start = time.perf_counter()
        parse_tables(text)
        parse_boxes(text)
        parse_fields(text, SPECS)
        assert time.perf_counter() - start < 2.0, text[:20]


# -- more of each family's real formats ----------------------------------------------------------


def test_qwen2_vl_boxes_after_a_server_dropped_the_special_tokens():
    # vLLM decodes with skip_special_tokens: <|object_ref_start|>total<|object_ref_end|><|box_start|>...
    items, warnings = parse_boxes("the total amount(652,812),(910,845)")
    assert items == [{"label": "the total amount", "box": [652, 812, 910, 845]}]
    assert "special tokens" in warnings[0]
    lines, _ = parse_boxes("ACME Office Supplies(41,52),(380,77)\nInvoice 117 (41,90),(300,110)", plain=False)
    assert [(line["label"], line["box"][1]) for line in lines] == [("ACME Office Supplies", 52), ("Invoice 117", 90)]


# Qwen3-VL Thinking: the chat template opens <think> in the prompt; the answer follows </think>.
QWEN3_THINKING = """The user wants the signature block. I see a line near the bottom, maybe [100, 800, 400, 900].
</think>

```json
[{"bbox_2d": [112, 861, 455, 912], "label": "signature block"}]
```"""


def test_qwen3_vl_thinking_answer_ignores_the_reasoning_draft():
    assert parse_boxes(QWEN3_THINKING) == ([{"label": "signature block", "box": [112, 861, 455, 912]}], [])


def test_answer_cut_off_while_still_reasoning_yields_nothing_and_says_so():
    for parse in (parse_boxes, parse_tables, lambda t: parse_fields(t, SPECS)):
        found, warnings = parse("<think>\nThe table has rows | a | b |\n[1, 2, 3, 4] {\"total\": 5")
        assert not any(found.values()) if isinstance(found, dict) else found == []
        assert "still reasoning" in warnings[0]


# Qwen3-VL's document HTML: data-bbox in thousandths, header cells as <th> without <thead>.
QWEN3_TABLE = """<table data-bbox="57 112 941 388">
<tr><th>Description</th><th>Hours</th><th>Rate</th></tr>
<tr><td>Consulting</td><td>12</td><td>€ 95,00</td></tr>
<tr><td>Travel</td><td colspan="2">flat fee</td></tr>
</table>"""


def test_qwen3_vl_table_with_thousandths_bbox():
    [table], warnings = parse_tables(QWEN3_TABLE)
    assert warnings == [] and table["bbox"] == [57, 112, 941, 388]
    assert table["header"] == ["Description", "Hours", "Rate"]
    assert table["rows"] == [["Consulting", "12", "€ 95,00"], ["Travel", "flat fee", "flat fee"]]


def test_qwen25_vl_cut_off_document_html_keeps_its_bbox_and_rows():
    text = QWEN25_TABLE[: QWEN25_TABLE.index("<tr><td>South")]
    [table], warnings = parse_tables(text)
    assert table["bbox"] == [58, 90, 1030, 402] and len(table["rows"]) == 2
    assert "cut off" in warnings[0]


def test_fields_in_qwen25_vl_style_python_dict_and_markdown_fence():
    values, warnings = parse_fields("```python\n{'invoice_number': 'INV-9', 'total': 12.0, 'paid': False}\n```", SPECS)
    assert values["invoice_number"] == "INV-9" and values["total"] == 12.0 and values["paid"] is False
    assert "Python literal" in warnings[0]


# -- no parser raises, whatever the text ---------------------------------------------------------

# Fragments of every format the parsers read, so that random text reaches their repair paths.
FRAGMENTS = ["<table", ">", "</table>", "<tr>", "</tr>", "<td", "<th", "</td>", "</th>", "<thead>", "</thead>",
             ' rowspan="', ' colspan=', "99", '"', " data-bbox=\"", "<br/>", "<caption>", "&amp;", "&#",
             "|", "|---|", "\n", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
             "<|box_end|>", "(", ")", ",", "[", "]", "{", "}", '"bbox_2d": ', '"label": ', '"total": ',
             "'", "True", "None", "-1e309", "1e400", "NaN", "12.5", "0", "1000", "```json\n", "```", "Infinity", "\"items\": [", "{\"meta\": ",
             "</think>", "<think>", "\\", "\x00", "\u2212", "é", "𝔘"]
model_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=60).map("".join)
ALL_SPECS = [FieldSpec(name, kind) for name, kind in
             [("total", "number"), ("count", "integer"), ("paid", "boolean"), ("date", "date"), ("label", "string"),
              ("items", "array"), ("meta", "object")]]


def _page(family_image=(280, 364)) -> PageImage:
    return PageImage("t.pdf", 1, Image.new("RGB", family_image), 612.0, 792.0, 90, 32.5, None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(model_text, st.text()))
def test_no_parser_raises(text):
    page = _page()
    parse_tables(text)
    parse_boxes(text)
    parse_boxes(text, plain=False)
    values, warnings = parse_fields(text, ALL_SPECS)
    assert set(values) == {s.name for s in ALL_SPECS} and all(isinstance(w, str) for w in warnings)
    json_values(text)
    parse_number(text)
    parse_date(text)
    for family in ("qwen2-vl", "qwen2.5-vl", "qwen3-vl"):
        for task in (tables_task(), ground_task("x", all_matches=True), extract_task(ALL_SPECS),
                     ocr_task(boxes=True), ocr_task()):
            record = task.parse(text, page, family)
            json.dumps(record, allow_nan=False)  # what the JSON writer needs


def test_non_finite_numbers_become_null_so_the_output_stays_valid_json():
    specs = [FieldSpec("items", "array"), FieldSpec("meta", "object"), FieldSpec("total", "number")]
    values, _ = parse_fields('{"items": [NaN, 1e400, 2], "meta": {"a": -Infinity}, "total": NaN}', specs)
    assert values == {"items": [None, None, 2], "meta": {"a": None}, "total": None}
    items, warnings = parse_boxes('[{"bbox_2d": [1, 2, 3, 1e400], "label": NaN}, {"bbox_2d": [1, 2, 3, 4], "label": NaN}]')
    assert items == [{"label": None, "box": [1, 2, 3, 4]}] and "finite" in warnings[0]
    assert json_values("[1e999, 2] ['a', 1e999]")[0] == [[None, 2]]  # a Python literal cannot be repaired so
