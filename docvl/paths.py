"""Output paths for batch jobs: an input's place mirrored under --out-dir, never outside it.

`safe_output_path` is pure string work (no file system access), so that it can be tested on any name
an attacker or an accident can produce: absolute paths, `..`, newlines, terminal escapes, names too
long for a disk. `inside` is the check on disk, for symbolic links, just before writing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Most file systems cap a name at 255 bytes.
MAX_NAME_BYTES = 255
# A leading `..` of an input outside the mirrored root: kept visible and distinct from its parent's
# own files, but harmless.
PARENT = "__"


def safe_output_path(out_dir: str | Path, input_path: str | Path, suffix: str, root: str | Path | None = None) -> Path:
    """Where the output for `input_path` goes: `out_dir` / the input's path / its name + `suffix`.

    The input's path is taken relative to `root` (the folder a batch job walks) when it lies inside
    it, else as given: `scans/a/b.pdf` with root `scans` -> `out/a/b.pdf.json`, `/data/x.pdf` ->
    `out/data/x.pdf.json`. The suffix is appended, not substituted, so `a.pdf` and `a.png` do not
    collide. The result is always strictly inside `out_dir`, whatever the input: components are
    normalised lexically (`a/../b` is `b`), leading `..` become `__`, control characters become `_`,
    names longer than 255 bytes are shortened and given a hash of their full text to stay distinct.
    Symbolic links already inside `out_dir` are the caller's to refuse with `inside` (this function
    reads no disk).
    """
    if not suffix or os.sep in suffix or (os.altsep and os.altsep in suffix) or suffix.strip(".") == "":
        raise ValueError(f"output suffix {suffix!r} must be a plain file suffix such as '.json'")
    parts = _relative_parts(os.fspath(input_path), None if root is None else os.fspath(root))
    if not parts:
        raise ValueError(f"input path {os.fspath(input_path)!r} names no file")
    parts[-1] += suffix
    return Path(out_dir).joinpath(*(safe_name(p) for p in parts))


def relative_output(input_path: str | Path, root: str | Path | None = None) -> str:
    """The input's place under --out-dir as a relative POSIX path of safe names, by the rules of
    safe_output_path (without the suffix); "input" for a path that names no file."""
    parts = _relative_parts(os.fspath(input_path), None if root is None else os.fspath(root))
    return "/".join(safe_name(p) for p in parts) or "input"


def _relative_parts(path: str, root: str | None) -> list[str]:
    normal = os.path.normpath(path) if path else ""
    if root is not None:
        base = os.path.normpath(root)
        try:
            inside = os.path.commonpath([base, normal]) == base and normal != base
        except ValueError:  # one absolute and one relative, or different drives
            inside = False
        if inside:
            normal = os.path.relpath(normal, base)
    drive, rest = os.path.splitdrive(normal)
    parts = [p for p in rest.replace(os.altsep or os.sep, os.sep).split(os.sep) if p not in ("", ".")]
    if drive:
        parts.insert(0, drive.strip(":\\/") or "drive")
    # normpath leaves `..` only at the start of a relative path; none may climb out of out_dir.
    return [PARENT if p == ".." else p for p in parts]


def safe_name(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """One file-name component made safe to create: control characters and stray surrogates become
    `_`, a name over `max_bytes` is shortened and keeps a hash of the whole to stay distinct."""
    name = "".join("_" if _unsafe(c) else c for c in name)
    if _size(name) <= max_bytes:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    stem, ext = os.path.splitext(name)
    if _size(ext) > 32:
        stem, ext = name, ""
    room = max_bytes - _size(ext) - len(digest) - 1
    stem = stem[:room]
    while _size(stem) > room:  # wide characters take up to 4 bytes
        stem = stem[:-1]
    return f"{stem}~{digest}{ext}"


def _unsafe(c: str) -> bool:
    """Control characters, and surrogates: an undecodable byte of a file name too, so that output
    names are valid UTF-8 (they go into JSON summaries and resume journals)."""
    return ord(c) < 32 or ord(c) == 127 or "\ud800" <= c <= "\udfff"


def inside(out_dir: str | Path, path: str | Path) -> bool:
    """Whether `path` lands inside `out_dir` on disk, symbolic links followed: check it before
    writing, since a link inside `out_dir` can point anywhere."""
    root = os.path.realpath(out_dir)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def _size(name: str) -> int:
    return len(name.encode("utf-8", "surrogatepass"))
