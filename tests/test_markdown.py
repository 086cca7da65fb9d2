"""ocr --markdown and --format markdown (docs/markdown.md): a born-digital document's Markdown from its
text layer, exactly (two columns, headings, a list, a table, a hyphenated word; running header and page
numbers left out and kept as furniture); a model page's Markdown cleaned; several documents through
--out-dir and the Python API."""

import json

import pymupdf

import docvl
from servers import completion
from test_trust import BUDGET, page, server, valid  # noqa: F401  (server: the scripted model fixture)

LEFT = ["Born-digital documents carry their own text, and a",
        "reader that uses it needs no model at all for the",
        "pages it can trust. The words come with their docu-",
        "ments' fonts and boxes, which tell headings from text."]
RIGHT = ["Columns are read one after the other, the left one",
         "first and then the right one, as a person reads a",
         "journal page set in two columns of equal width and",
         "without any table between them on the whole page."]
ROWS = [["Region", "2025", "2026"], ["North", "10.5", "12.0"], ["South", "9.0", "9.5"], ["West", "4.0", "5.5"]]

PAGE_1 = """# Reading documents

## Two columns

Born-digital documents carry their own text, and a reader that uses it needs no model at all for the \
pages it can trust. The words come with their documents' fonts and boxes, which tell headings from text.

Columns are read one after the other, the left one first and then the right one, as a person reads a \
journal page set in two columns of equal width and without any table between them on the whole page.

What a page holds:

- headings and paragraphs
- lists like this one
- tables of numbers"""

PAGE_2 = """## Figures

| Region | 2025 | 2026 |
| --- | --- | --- |
| North | 10.5 | 12.0 |
| South | 9.0 | 9.5 |
| West | 4.0 | 5.5 |

The table ends here and a paragraph follows it.

$$E = mc^{2}$$

$$\\int_{0}^{1} x = \\frac{a}{b}$$

$$\\sum_{i=1}^{n} x_{i} = S$$"""


def formulas_drawn(page):
    """Display formulas drawn glyph by glyph: a superscript; an integral's limits and a fraction; a sum
    with limits under and over it and a subscript."""
    page.insert_font(fontname="math", fontbuffer=pymupdf.Font("symbol").buffer)  # for the integral sign

    def put(x, y, text, size=12, font="tiit"):
        page.insert_text((x, y), text, fontsize=size, fontname=font)
    put(250, 300, "E")
    put(262, 300, "=")
    put(274, 300, "mc")
    put(288, 295, "2", 8)  # raised and smaller
    put(250, 340, "\u222b", 12, "math")
    put(256, 345, "0", 8)  # the integral's limits, lower and upper
    put(256, 331, "1", 8)
    put(266, 340, "x")
    put(276, 340, "=")
    put(290, 332, "a")  # over the fraction's bar...
    page.draw_line((288, 336), (298, 336))
    put(290, 350, "b")  # ...and under it
    put(250, 390, "\u2211", 14, "math")
    put(248, 400, "i=1", 8)  # the sum's limits, under and over it (wider than it)
    put(253, 378, "n", 8)
    put(266, 390, "x")
    put(272, 393, "i", 8)  # lowered and smaller
    put(282, 390, "=")
    put(294, 390, "S")


def report_pdf(path, header: str = "Annual report 2026"):
    """Two pages under a running header, each numbered at its foot: a title, a heading, two columns of
    prose (their lines drawn across both columns, as many producers do) and a list; then a ruled table."""
    doc = pymupdf.open()
    for n in (1, 2):
        page = doc.new_page()
        page.insert_text((72, 40), header, fontsize=9)
        page.insert_text((300, 770), str(n), fontsize=9)
        if n == 1:
            page.insert_text((72, 100), "Reading documents", fontsize=20, fontname="hebo")
            page.insert_text((72, 130), "Two columns", fontsize=14, fontname="hebo")
            for i, (left, right) in enumerate(zip(LEFT, RIGHT)):
                page.insert_text((72, 160 + 12 * i), left, fontsize=9)
                page.insert_text((320, 160 + 12 * i), right, fontsize=9)
            page.insert_text((72, 240), "What a page holds:", fontsize=9)
            for i, item in enumerate(["headings and paragraphs", "lists like this one", "tables of numbers"]):
                page.insert_text((72, 256 + 12 * i), "\u2022 " + item, fontsize=9)
        else:
            page.insert_text((72, 100), "Figures", fontsize=14, fontname="hebo")
            xs, top, height = [72, 200, 300, 400], 130, 20
            for r, row in enumerate(ROWS):
                for c, cell in enumerate(row):
                    page.insert_text((xs[c] + 4, top + height * r + 15), cell, fontsize=10)
            for r in (0, 1, len(ROWS)):
                page.draw_line((xs[0], top + height * r), (xs[-1], top + height * r))
            page.insert_text((72, 250), "The table ends here and a paragraph follows it.", fontsize=10)
            formulas_drawn(page)
    doc.save(path)
    return path


def test_a_born_digital_document_comes_back_as_markdown_exactly(run_cli, tmp_path):
    code, out, err = run_cli("ocr", report_pdf(tmp_path / "r.pdf"), "--format", "markdown", "--text-layer", "only")
    assert code == 0, err
    assert out == PAGE_1 + "\n\n\f\n\n" + PAGE_2 + "\n"  # the form feed apart: a table cannot run on


def test_furniture_is_kept_in_json_and_the_text_is_unchanged(run_cli, tmp_path):
    pdf = report_pdf(tmp_path / "r.pdf")
    code, out, err = run_cli("ocr", pdf, "--markdown", "--text-layer", "only")
    assert code == 0, err
    record = valid(json.loads(out))
    one, two = record["pages"]
    assert (one["markdown"], two["markdown"]) == (PAGE_1, PAGE_2)
    assert one["furniture"] == ["Annual report 2026", "1"] and two["furniture"] == ["Annual report 2026", "2"]
    assert "blocks" not in one
    code, plain, err = run_cli("ocr", pdf, "--text-layer", "only")
    assert json.loads(plain)["pages"][0]["text"] == one["text"]
    assert "markdown" not in json.loads(plain)["pages"][0]


def one_page(path, texts: list[tuple[float, float, str, float]]):
    """A one-page PDF with each (x, y, text, size) written in Helvetica."""
    doc = pymupdf.open()
    page_ = doc.new_page()
    for x, y, text, size in texts:
        page_.insert_text((x, y), text, fontsize=size)
    doc.save(path)
    return path


def body_at(x: float, y: float, lines: list[str], size: float = 10) -> list[tuple[float, float, str, float]]:
    return [(x, y + 12 * i, line, size) for i, line in enumerate(lines)]


BODY = ["The body of the page is a paragraph of a few lines, set at the size most of the",
        "page's characters are set in, against which an edge line is small or is not."]


def test_on_a_page_alone_page_numbers_small_edge_lines_and_margin_stamps_are_furniture(run_cli, tmp_path):
    doc = pymupdf.open()
    page_ = doc.new_page()
    page_.insert_text((72, 40), "A line at the top edge", fontsize=10)
    for i, line in enumerate(BODY):
        page_.insert_text((72, 100 + 12 * i), line, fontsize=10)
    page_.insert_text((72, 650), "1 A footnote, set small.", fontsize=7)
    page_.insert_text((72, 790), "Downloaded from example.org on 2 December 2026", fontsize=7)
    page_.insert_text((300, 815), "- 7 -", fontsize=10)
    page_.insert_text((580, 500), "arXiv:2612.00001v1 [cs.CL] 2 Dec 2026", fontsize=8, rotate=90)
    doc.save(tmp_path / "one.pdf")
    code, out, err = run_cli("ocr", tmp_path / "one.pdf", "--markdown", "--text-layer", "only")
    [p] = valid(json.loads(out))["pages"]
    assert p["furniture"] == ["Downloaded from example.org on 2 December 2026", "- 7 -",
                              "arXiv:2612.00001v1 [cs.CL] 2 Dec 2026"]
    assert p["markdown"] == f"A line at the top edge\n\n{' '.join(BODY)}\n\n1 A footnote, set small."


def test_on_a_page_alone_stamps_spread_footers_and_a_page_number_after_short_text_are_furniture(run_cli, tmp_path):
    one_page(tmp_path / "one.pdf", [
        (72, 28, "Smith et al.: Reading documents", 10), (72, 40, "Examples Quarterly | www.example.org", 10),
        (72, 100, "A title set largest", 20), *body_at(72, 140, BODY),
        (300, 300, "62", 10),  # the text ends high on the page
        (72, 760, "Revision: 2.4", 10), (270, 760, "P/N 119-036", 10), (470, 760, "10 June 2026", 10)])
    code, out, err = run_cli("ocr", tmp_path / "one.pdf", "--markdown", "--text-layer", "only")
    [p] = valid(json.loads(out))["pages"]
    assert p["furniture"] == ["Smith et al.: Reading documents", "Examples Quarterly | www.example.org", "62",
                              "Revision: 2.4 P/N 119-036 10 June 2026"]
    assert p["markdown"] == f"# A title set largest\n\n{' '.join(BODY)}"


def test_double_quotes_set_as_two_single_ones_are_written_as_one(run_cli, tmp_path):
    doc = pymupdf.open()
    page_ = doc.new_page()
    page_.insert_font(fontname="text", fontbuffer=pymupdf.Font("helv").buffer)  # embedded: curly quotes too
    page_.insert_text((72, 100), "The term \u2018\u2018responsibility\u2019\u2019 is vague.", fontsize=10,
                      fontname="text")
    doc.save(tmp_path / "q.pdf")
    code, out, err = run_cli("ocr", tmp_path / "q.pdf", "--format", "markdown", "--text-layer", "only")
    assert code == 0, err
    assert out == "The term \u201cresponsibility\u201d is vague.\n"


def test_line_numbers_in_the_margin_are_furniture(run_cli, tmp_path):
    lines = BODY * 3  # a draft's lines, numbered in the left margin
    numbers = [str(i + 1) for i in range(len(lines))]
    one_page(tmp_path / "n.pdf", [*body_at(40, 100, numbers, 8), *body_at(72, 100, lines)])
    code, out, err = run_cli("ocr", tmp_path / "n.pdf", "--markdown", "--text-layer", "only")
    [p] = valid(json.loads(out))["pages"]
    assert p["markdown"] == " ".join(lines)
    assert p["furniture"] == ["1 2 3 4 5 6"]


def test_formulas_whose_pieces_stand_apart_like_cells_are_no_table(run_cli, tmp_path):
    """Three sums side by side, each with its limits over and under it: the table detector sees aligned
    columns; the Markdown has formulas."""
    doc = pymupdf.open()
    page_ = doc.new_page()
    page_.insert_font(fontname="math", fontbuffer=pymupdf.Font("symbol").buffer)
    page_.insert_text((72, 280), "The values of the graph are sums over its generating set, and they read:",
                      fontsize=10)
    for x in (150, 260, 370):
        page_.insert_text((x + 2, 308), "n", fontsize=8, fontname="tiit")
        page_.insert_text((x, 322), "\u2211", fontsize=16, fontname="math")
        page_.insert_text((x - 2, 334), "i=1", fontsize=8, fontname="tiit")
        page_.insert_text((x + 14, 322), "a", fontsize=12, fontname="tiit")
        page_.insert_text((x + 24, 322), "=", fontsize=12)
    doc.save(tmp_path / "f.pdf")
    code, out, err = run_cli("ocr", tmp_path / "f.pdf", "--format", "markdown", "--text-layer", "only")
    assert code == 0, err
    assert out == ("The values of the graph are sums over its generating set, and they read:\n\n"
                   + "\n\n".join(["$$\\sum_{i=1}^{n} a =$$"] * 3) + "\n")


def test_heading_levels_are_the_ranks_of_their_sizes_in_the_whole_document(run_cli, tmp_path):
    doc = pymupdf.open()
    for sizes in ((20, 16), (12,)):
        page_ = doc.new_page()
        for i, size in enumerate(sizes):
            page_.insert_text((72, 100 + 80 * i), f"A heading set at {size} points", fontsize=size)
            for j, line in enumerate(BODY):
                page_.insert_text((72, 130 + 80 * i + 12 * j), line, fontsize=10)
    doc.save(tmp_path / "h.pdf")
    code, out, err = run_cli("ocr", tmp_path / "h.pdf", "--format", "markdown", "--text-layer", "only")
    assert code == 0, err
    assert [line for line in out.splitlines() if line.startswith("#")] == [
        "# A heading set at 20 points", "## A heading set at 16 points", "### A heading set at 12 points"]


def test_a_model_page_gets_the_markdown_prompt_and_its_answer_cleaned(run_cli, server, tmp_path):
    fenced = "<think>a heading, then a table</think>```markdown\n# Invoice 42\n\n| Item | Total |\n| --- | --- |\n| Tea | 4 |\n```"
    srv = server(lambda n: completion(fenced))
    code, out, err = run_cli("ocr", page(tmp_path / "p.png"), "--markdown", "--base-url", srv.url, *BUDGET)
    assert code == 0, err
    [p] = valid(json.loads(out))["pages"]
    assert p["source"] != "text-layer"
    assert p["markdown"] == "# Invoice 42\n\n| Item | Total |\n| --- | --- |\n| Tea | 4 |"
    assert p["text"] == p["markdown"] and p["furniture"] == []
    code, out, err = run_cli("ocr", page(tmp_path / "p.png"), "--format", "markdown", "--base-url", srv.url, *BUDGET)
    assert out == "# Invoice 42\n\n| Item | Total |\n| --- | --- |\n| Tea | 4 |\n"


def test_boxes_and_markdown_together_are_refused(run_cli, tmp_path):
    code, out, err = run_cli("ocr", report_pdf(tmp_path / "r.pdf"), "--markdown", "--boxes")
    assert code != 0 and "--markdown" in err


def test_several_documents_through_out_dir_and_the_api(run_cli, tmp_path):
    (tmp_path / "in").mkdir()
    pdfs = [report_pdf(tmp_path / "in" / name) for name in ("a.pdf", "b.pdf")]
    code, out, err = run_cli("ocr", tmp_path / "in", "--format", "markdown", "--out-dir", tmp_path / "out",
                             "--text-layer", "only")
    assert code == 0, err
    written = sorted(p.name for p in (tmp_path / "out").rglob("*.md"))
    assert written == ["a.pdf.md", "b.pdf.md"]  # named by the input, as --out-dir's other formats
    for path in (tmp_path / "out").rglob("*.md"):
        assert path.read_text() == PAGE_1 + "\n\n\f\n\n" + PAGE_2 + "\n"

    doc = docvl.ocr(pdfs[0], markdown=True, text_layer="only")
    assert doc.markdown == PAGE_1 + "\n\n\f\n\n" + PAGE_2
    assert doc.pages[0]["furniture"] == ["Annual report 2026", "1"]
    docs = list(docvl.run("ocr", [tmp_path / "in"], format="markdown", out_dir=tmp_path / "api", text_layer="only"))
    assert [d.markdown for d in docs] == [PAGE_1 + "\n\n\f\n\n" + PAGE_2] * 2
    assert sorted(p.name for p in (tmp_path / "api").rglob("*.md")) == ["a.pdf.md", "b.pdf.md"]


def test_a_short_line_ending_a_sentence_ends_its_paragraph(run_cli, tmp_path):
    lines = ["The first paragraph runs across the whole width of the", "column and ends here.",
             "The second one starts on the next line, with no white", "between them at all, and ends too."]
    one_page(tmp_path / "p.pdf", body_at(72, 100, lines))
    code, out, err = run_cli("ocr", tmp_path / "p.pdf", "--format", "markdown", "--text-layer", "only")
    assert out == (f"{lines[0]} {lines[1]}\n\n{lines[2]} {lines[3]}\n")


def test_a_numbered_list_keeps_its_wrapped_lines_and_markup_in_text_is_escaped(run_cli, tmp_path):
    one_page(tmp_path / "l.pdf", [(72, 100, "1. The first step of the procedure, long enough that it", 10),
                                  (86, 112, "wraps onto a second line under its text.", 10),
                                  (72, 124, "2) The second step.", 10),
                                  (72, 160, "# is the number sign, and -5% is a fall, not a list.", 10)])
    code, out, err = run_cli("ocr", tmp_path / "l.pdf", "--format", "markdown", "--text-layer", "only")
    assert out == ("1. The first step of the procedure, long enough that it wraps onto a second line under its text.\n"
                   "2. The second step.\n\n\\# is the number sign, and -5% is a fall, not a list.\n")


def test_a_table_whose_header_label_spans_columns_is_html_with_colspan(tmp_path):
    # A pipe table has one header row: the year's label over its columns needs HTML.
    from test_textlayer_tables import financial_pdf

    from docvl.textlayer.markdown import page_blocks
    from docvl.textlayer.words import read_words

    doc = pymupdf.open(financial_pdf(tmp_path / "t.pdf"))
    [table] = [b["md"] for b in page_blocks(doc[0], read_words(doc[0]), 1) if b["kind"] == "table"]
    assert table.startswith("<table>\n<thead>\n<tr><th></th><th colspan=\"6\">Year ended</th></tr>\n")
    assert "<tr><td>Sales</td><td></td><td>1,136</td><td></td><td>876</td><td></td><td>680</td></tr>" in table
