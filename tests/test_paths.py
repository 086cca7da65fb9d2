"""Output paths under --out-dir: whatever the input's name, the output stays inside the folder."""

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docvl.paths import MAX_NAME_BYTES, inside, relative_output, safe_output_path

OUT = Path("/srv/out")


@pytest.mark.parametrize("path, root, expected", [
    ("scans/a/b.pdf", "scans", "a/b.pdf.json"),
    ("scans/a/b.pdf", None, "scans/a/b.pdf.json"),
    ("/data/x.pdf", None, "data/x.pdf.json"),
    ("/data/in/x.pdf", "/data/in", "x.pdf.json"),
    ("/data/other/x.pdf", "/data/in", "data/other/x.pdf.json"),  # outside the root: kept whole
    ("a/../b.pdf", None, "b.pdf.json"),
    ("../../etc/passwd", None, "__/__/etc/passwd.json"),
    ("./../x.pdf", ".", "__/x.pdf.json"),
    ("my scans/report 2024.pdf", None, "my scans/report 2024.pdf.json"),
    ("new\nline\r.pdf", None, "new_line_.pdf.json"),
    ("esc\x1b[2J.pdf", None, "esc_[2J.pdf.json"),
    ("한국어/문서.pdf", None, "한국어/문서.pdf.json"),
    ("undecodable-\udcff.pdf", None, "undecodable-_.pdf.json"),  # output names are valid UTF-8
    ("lone-\ud800.pdf", None, "lone-_.pdf.json"),
])
def test_output_path_mirrors_the_input_inside_out_dir(path, root, expected):
    assert safe_output_path(OUT, path, ".json", root) == OUT / expected


def test_a_pdf_and_a_png_of_the_same_name_do_not_collide():
    assert safe_output_path(OUT, "a.pdf", ".json") != safe_output_path(OUT, "a.png", ".json")


def test_long_names_are_shortened_and_stay_distinct():
    a, b = "x" * 300 + "a.pdf", "x" * 300 + "b.pdf"
    pa, pb = safe_output_path(OUT, a, ".json"), safe_output_path(OUT, b, ".json")
    assert pa != pb
    assert all(len(p.name.encode()) <= MAX_NAME_BYTES for p in (pa, pb))
    assert pa.name.endswith(".json")
    wide = safe_output_path(OUT, "가" * 200 + ".pdf", ".json")
    assert len(wide.name.encode()) <= MAX_NAME_BYTES


@pytest.mark.parametrize("path", ["", ".", "/", "..", "a/.."])
def test_a_path_that_names_no_file_is_refused(path):
    if path == "..":
        assert safe_output_path(OUT, path, ".json") == OUT / "__.json"
        return
    with pytest.raises(ValueError, match="names no file"):
        safe_output_path(OUT, path, ".json")


@pytest.mark.parametrize("suffix", ["", ".", "../x", "/x.json", "a/b"])
def test_a_suffix_that_is_not_a_suffix_is_refused(suffix):
    with pytest.raises(ValueError, match="plain file suffix"):
        safe_output_path(OUT, "a.pdf", suffix)


NAMES = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
PATHS = st.lists(st.one_of(NAMES, st.sampled_from(["..", ".", "", "/", "//", "~", "C:", "\\.."])), max_size=8)


@settings(max_examples=400, deadline=None)
@given(parts=PATHS, absolute=st.booleans(), root=st.sampled_from([None, ".", "a", "/a", "../a"]))
def test_no_input_path_leaves_out_dir(parts, absolute, root):
    path = ("/" if absolute else "") + "/".join(parts)
    try:
        out = safe_output_path(OUT, path, ".json", root)
    except ValueError:
        assert os.path.normpath(path) in (".", "/", "//") or not path
        return
    rel = out.relative_to(OUT)  # raises if outside
    assert rel.parts and all(p not in ("", ".", "..") for p in rel.parts)
    assert os.path.normpath(out) == str(out)  # nothing left for the OS to resolve lexically
    for part in rel.parts:
        assert len(part.encode("utf-8")) <= MAX_NAME_BYTES  # strict: valid UTF-8
        assert not any(ord(c) < 32 or ord(c) == 127 for c in part)
        os.fsencode(part)  # a name the file system can take
    assert out.name.endswith(".json")


def test_files_land_where_the_path_says_and_symlinks_out_are_caught(tmp_path):
    out_dir = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out_dir.mkdir()
    evil = ["../../escape.pdf", "/abs/olute.pdf", "sp ace/new\nline.pdf", "..\\..\\win.pdf"]
    for name in evil:
        target = safe_output_path(out_dir, name, ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        assert inside(out_dir, target)
        target.write_text("{}")
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert written and all(out_dir in p.parents for p in written)
    # A link planted inside out_dir that points out of it: the lexical path is inside, the disk is not.
    (out_dir / "link").symlink_to(elsewhere, target_is_directory=True)
    target = safe_output_path(out_dir, "link/x.pdf", ".json")
    assert out_dir in target.parents and not inside(out_dir, target)
    assert inside(out_dir, out_dir / "sub" / "new.json")  # not created yet: still judged by its parent


def test_a_longest_name_can_be_written_atomically(tmp_path):
    from docvl.output import atomic_write

    target = safe_output_path(tmp_path, "가" * 150 + ".pdf", ".json")
    assert len(target.name.encode()) <= MAX_NAME_BYTES
    atomic_write(target, "{}")  # its temp file's name must fit too
    assert target.read_text() == "{}" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_relative_output_is_the_path_under_out_dir_without_suffix():
    assert relative_output("/work/in/a b/x\n.pdf", "/work") == "in/a b/x_.pdf"
    assert relative_output("../../x.pdf", "/work") == "__/__/x.pdf"
    assert relative_output("/elsewhere/x.pdf", "/work") == "elsewhere/x.pdf"
    assert relative_output("/", "/work") == "input"


def test_batch_output_through_a_planted_symlink_is_refused_before_anything_is_made(tmp_path):
    from docvl.batch import OutDir
    from docvl.errors import InputError
    from docvl.inputs import Input

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out_dir = OutDir(str(out), ".json")
    (out / "scans").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(InputError, match="outside --out-dir through a symbolic link"):
        out_dir.write(Input("scans/deep/a.pdf", "scans/deep/a.pdf"), "k", {"status": "ok"}, "{}")
    assert list(elsewhere.iterdir()) == []  # not even the folder `deep`
    written = out_dir.write(Input("ok\n.pdf", "ok\n.pdf"), "k2", {"status": "ok"}, "{}")
    assert written == out / "ok_.pdf.json" and written.read_text() == "{}"
