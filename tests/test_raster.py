import pytest

from docs import A4, LETTER, scan_pdf, text_pdf
from docvl.budget import Budget
from docvl.errors import InputError, UsageError
from docvl.raster import plan_size, render_page
from docvl.sources import open_document, parse_pages, select_pages


def test_page_ranges_are_one_based_with_end():
    assert parse_pages("1-3,7,10-end", 12) == [1, 2, 3, 7, 10, 11, 12]
    assert parse_pages(None, 3) == [1, 2, 3]
    assert parse_pages("end", 5) == [5]
    assert parse_pages("4-9", 5) == [4, 5]
    for bad in ("0", "3-1", "a", "1-2-3", ""):
        if bad:
            with pytest.raises(UsageError):
                parse_pages(bad, 5)


def test_pages_past_the_end_are_left_out_but_selecting_none_is_an_input_error():
    assert select_pages("a.pdf", "2-9", 3) == [2, 3]
    assert select_pages("a.pdf", None, 0) == []
    with pytest.raises(InputError, match="a.pdf: --pages 4-9 selects none of its 3 pages"):
        select_pages("a.pdf", "4-9", 3)


def test_scan_renders_at_its_own_dpi_when_the_budget_allows(tmp_path):
    doc = open_document(str(scan_pdf(tmp_path / "scan.pdf", dpi=300)))
    page = render_page(doc, 1, Budget(max_pixels=10_000_000))
    assert page.scan_dpi == pytest.approx(300, rel=0.001)
    assert page.dpi == pytest.approx(300, rel=0.01)
    assert page.width_px % 28 == 0 and page.height_px % 28 == 0


def test_scan_is_never_upsampled_past_its_resolution(tmp_path):
    doc = open_document(str(scan_pdf(tmp_path / "scan.pdf", dpi=100)))
    page = render_page(doc, 1, Budget(max_pixels=10_000_000))
    assert page.dpi == pytest.approx(100, rel=0.02)


def test_scan_is_bounded_by_max_pixels(tmp_path):
    doc = open_document(str(scan_pdf(tmp_path / "scan.pdf", dpi=300)))
    budget = Budget(max_pixels=1_000_000)
    page = render_page(doc, 1, budget)
    assert page.width_px * page.height_px <= budget.max_pixels
    assert page.dpi < 300


@pytest.mark.parametrize("size", [LETTER, A4, (226, 1400), (792, 612)])
def test_vector_page_fills_the_budget(tmp_path, size):
    doc = open_document(str(text_pdf(tmp_path / "t.pdf", pages=1, size=size)))
    budget = Budget()
    page = render_page(doc, 1, budget)
    pixels = page.width_px * page.height_px
    assert pixels <= budget.max_pixels
    assert pixels >= 0.9 * budget.max_pixels
    assert page.scan_dpi is None
    # aspect kept within a 28-pixel rounding
    assert abs(page.width_px / page.height_px - size[0] / size[1]) < 28 / page.height_px + 0.02


def test_rotated_page_is_rendered_as_displayed(tmp_path):
    doc = open_document(str(text_pdf(tmp_path / "r.pdf", pages=1, rotation=90)))
    page = render_page(doc, 1, Budget())
    assert page.rotation == 90
    assert (page.width_pt, page.height_pt) == pytest.approx((792, 612))
    assert page.width_px > page.height_px


def test_multipage_tiff_and_png(tmp_path):
    from docs import page_image

    frames = [page_image(600, 800, f"frame {i}") for i in range(3)]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], dpi=(150, 150))
    doc = open_document(str(tmp_path / "m.tif"))
    assert doc.kind == "image" and doc.page_count == 3
    page = render_page(doc, 3, Budget())
    assert page.width_pt == pytest.approx(600 * 72 / 150)
    assert page.scan_dpi == pytest.approx(150)
    frames[0].save(tmp_path / "p.png")
    assert open_document(str(tmp_path / "p.png")).page_count == 1


def test_input_errors_are_one_line(tmp_path):
    (tmp_path / "x.pdf").write_text("hello, not a pdf")
    (tmp_path / "empty.pdf").write_bytes(b"")
    cases = {"missing.pdf": "no such file", "x.pdf": "not a PDF or an image", "empty.pdf": "empty file"}
    for name, fragment in cases.items():
        with pytest.raises(InputError) as err:
            open_document(str(tmp_path / name))
        assert fragment in err.value.message and "\n" not in err.value.message


def test_encrypted_pdf_needs_the_right_password(tmp_path):
    import pymupdf

    path = text_pdf(tmp_path / "plain.pdf", pages=1)
    doc = pymupdf.open(path)
    doc.save(tmp_path / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="s3cret", owner_pw="own")
    with pytest.raises(InputError, match="--password"):
        open_document(str(tmp_path / "locked.pdf"))
    with pytest.raises(InputError, match="wrong password"):
        open_document(str(tmp_path / "locked.pdf"), password="nope")
    opened = open_document(str(tmp_path / "locked.pdf"), password="s3cret")
    assert render_page(opened, 1, Budget()).width_px > 0


def test_a_budget_too_narrow_for_the_page_shape_is_a_clear_error_not_a_second_resize():
    # min = max = 256 tokens: rounding a letter page up to 256 tokens overshoots 256, which the processor
    # would shrink again (to 252 tokens). docvl says so rather than send a page the processor resizes.
    narrow = Budget(256 * 784, 256 * 784)
    with pytest.raises(InputError, match="widen the budget"):
        plan_size(612, 792, None, narrow)
    h, w = plan_size(612, 792, None, Budget(256 * 784, 512 * 784))
    assert 256 * 784 <= h * w <= 512 * 784
