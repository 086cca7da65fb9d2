"""Batch jobs: the --out-dir layout, resume state, --shard and the run summary.

Layout of an --out-dir:

    DIR/<input's relative path><suffix>   one output per finished document (e.g. a/b.pdf.json),
                                          written atomically; failed documents get none
    DIR/docvl-summary.json                this run's counts, failures and timings
    DIR/.docvl/done.jsonl                 finished documents: resume key, output, status
    DIR/.docvl/pages/<key>.jsonl          ok pages of unfinished and partial documents
    DIR/.docvl/tmp/                       temp files of atomic writes (a killed run's are removed)

A document is finished when its output is written and journaled; a rerun skips it if it was ok and its
resume key (content hash, task and every option that changes results) and output are unchanged. The
page journal keeps the ok pages of unfinished and partial documents: a rerun takes them from there
instead of running the model on them again, and tries every failed page again (a server that was
down, a page that ran out of memory).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import SCHEMA
from .errors import InputError, UsageError, counted
from .output import atomic_write, dumps
from .paths import inside, safe_output_path

STATE = ".docvl"
SUMMARY = "docvl-summary"


def in_shard(rel: str, shard: tuple[int, int] | None) -> bool:
    """Whether an input (named by its output path) belongs to shard i of n: a hash of the path, so
    every machine running the same command on the same inputs agrees without talking."""
    if shard is None:
        return True
    i, n = shard
    return int(hashlib.sha256(rel.encode("utf-8", "surrogateescape")).hexdigest()[:16], 16) % n == i - 1


def resume_key(sha256: str, settings: dict) -> str:
    """A document's identity for resuming: its bytes plus what changes its results."""
    blob = json.dumps({"sha256": sha256, **settings}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _shard_label(shard: tuple[int, int] | None) -> str:
    return "" if shard is None else f"-{shard[0]}of{shard[1]}"


class OutDir:
    """One --out-dir: where each input's output goes, and what earlier runs finished. Called from
    the runner's feeder thread (finished, resumed_pages) and the main thread (page_done, write)."""

    def __init__(self, root: str, suffix: str, overwrite: bool = False, shard: tuple[int, int] | None = None):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"--out-dir {root}: cannot create it ({e.strerror or e})") from None
        if not self.root.is_dir():
            raise UsageError(f"--out-dir {root}: not a folder")
        self.real = self.root.resolve()
        self.suffix = suffix
        self.overwrite = overwrite
        self.state = self.root / STATE
        self.pages_dir = self.state / "pages"
        self.tmp = self.state / "tmp"
        for folder in (self.pages_dir, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        label = _shard_label(shard)
        # Each shard journals into its own file: shards may share the folder over a network FS.
        self.journal = self.state / f"done{label}.jsonl"
        self.summary_path = self.root / f"{SUMMARY}{label}.json"
        self._lock = threading.Lock()
        self._done = self._read_done()
        self._claimed: dict[str, str] = {}
        self._remove_dead_temp_files()

    def output(self, rel: str) -> str:
        # Safe names whatever the input's (control characters, over-long names), never outside root.
        return safe_output_path(".", rel, self.suffix).as_posix()

    def claim(self, item) -> str | None:
        """Reserve `item`'s output path for this run; a reason if it cannot have it."""
        out = self.output(item.rel)
        if out.split("/")[0] == STATE or out.startswith(SUMMARY):
            return f"{item.path}: its output name {out} is reserved by docvl in --out-dir; rename the file"
        with self._lock:
            other = self._claimed.setdefault(out, item.path)
        if other != item.path:
            return (f"{item.path}: its output {out} would overwrite that of {other}; rename one, or run "
                    f"them into different --out-dir folders")
        return None

    def finished(self, item, key: str) -> bool:
        """Whether an earlier run finished `item` with these options, every page ok (and its output is
        still there). A partial document runs again: its failed pages may succeed now."""
        if self.overwrite:
            return False
        out = self.output(item.rel)
        return self._done.get((key, out)) == "ok" and (self.root / out).is_file()

    def resumed_pages(self, key: str) -> tuple[dict[int, dict], dict | None]:
        """Ok pages of this document from interrupted or partial runs, and the engine that made them."""
        path = self.pages_dir / f"{key}.jsonl"
        if self.overwrite:
            path.unlink(missing_ok=True)
            return {}, None
        pages, engine = {}, None
        for entry in _read_jsonl(path):
            record = entry.get("record") or {}
            if isinstance(record.get("page"), int):
                pages[record["page"]] = record
                engine = entry.get("engine") or engine
        return pages, engine

    def page_done(self, key: str, record: dict, engine: dict) -> None:
        """Journal a finished page if it is ok (a rerun tries failed pages again). Appended and flushed as
        each page finishes: a killed run loses none."""
        if record["status"] != "ok":
            return
        line = dumps({"engine": engine, "record": record}) + "\n"
        with self._lock, open(self.pages_dir / f"{key}.jsonl", "a", encoding="utf-8") as f:
            f.write(line)

    def write(self, item, key: str, record: dict, text: str) -> Path:
        out = self.output(item.rel)
        path = self.root / out
        # Checked before any folder is made: a link inside --out-dir may lead anywhere.
        if not inside(self.real, path):
            raise InputError(f"{item.path}: its output {out} would land outside --out-dir through a "
                             f"symbolic link; remove the link")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text, tmp_dir=self.tmp)
        entry = dumps({"key": key, "output": out, "status": record["status"]}) + "\n"
        with self._lock:
            with open(self.journal, "a", encoding="utf-8") as f:
                f.write(entry)
                f.flush()
                os.fsync(f.fileno())
            self._done[(key, out)] = record["status"]
        if record["status"] == "ok":  # a partial document's ok pages wait there for the rerun
            (self.pages_dir / f"{key}.jsonl").unlink(missing_ok=True)
        return path

    def write_summary(self, summary: dict) -> None:
        atomic_write(self.summary_path, dumps(summary, indent=2) + "\n", tmp_dir=self.tmp)

    def _read_done(self) -> dict[tuple[str, str], str]:
        done = {}
        for journal in sorted(self.state.glob("done*.jsonl")):
            for entry in _read_jsonl(journal):
                if {"key", "output", "status"} <= entry.keys():
                    done[(entry["key"], entry["output"])] = entry["status"]
        return done

    def _remove_dead_temp_files(self) -> None:
        host = socket.gethostname()
        for tmp in self.tmp.iterdir():
            owner, _, rest = tmp.name.rpartition("-")[0].rpartition("-")
            if owner == host and rest.isdigit() and not _alive(int(rest)):
                tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_jsonl(path: Path):
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a killed run may be cut short
        if isinstance(entry, dict):
            yield entry


@dataclass
class Summary:
    """Counts, failures and timings of one run; written to --out-dir and said on stderr."""

    task: str
    shard: tuple[int, int] | None = None
    started: float = field(default_factory=time.time)
    documents: dict = field(default_factory=lambda: dict.fromkeys(("ok", "partial", "failed", "skipped"), 0))
    pages: dict = field(default_factory=lambda: dict.fromkeys(("ok", "failed"), 0))
    failures: list = field(default_factory=list)
    # ok pages marked as needing a look: no ink (blank), cut at the token limit, low confidence (review)
    marked: dict = field(default_factory=lambda: dict.fromkeys(("blank", "truncated", "review"), 0))

    def add(self, record: dict, skipped: bool = False) -> None:
        status = record["status"]
        if skipped:
            self.documents["skipped"] += 1
            return
        self.documents[status] += 1
        for page in record.get("pages", []):
            self.pages["ok" if page["status"] == "ok" else "failed"] += 1
            for mark in self.marked:
                self.marked[mark] += bool(page.get(mark))
        if status != "ok":
            failure = {"path": record["source"]["path"], "status": status, "error": record["error"]}
            bad = [{"page": p["page"], "error": p["error"]} for p in record.get("pages", []) if p["status"] != "ok"]
            if bad:
                failure["pages"] = bad
            self.failures.append(failure)

    @property
    def total(self) -> int:
        return sum(self.documents.values())

    @property
    def failed(self) -> int:
        return self.documents["failed"]

    @property
    def partial(self) -> int:
        return self.documents["partial"]

    def to_dict(self, stats: dict, outcome: str) -> dict:
        seconds = time.time() - self.started
        return {
            "schema": SCHEMA,
            "summary": True,
            "task": self.task,
            "shard": None if self.shard is None else f"{self.shard[0]}/{self.shard[1]}",
            "outcome": outcome,
            "documents": {"total": self.total, **self.documents},
            "pages": {**self.pages, "inferred": stats.get("pages_inferred", 0),
                      "resumed": stats.get("pages_resumed", 0), "answered": stats.get("pages_answered", 0),
                      **self.marked},
            "failures": self.failures,
            "timings": {"seconds": round(seconds, 3),
                        "pages_per_second": round(sum(self.pages.values()) / seconds, 3) if seconds else None,
                        **{k: round(v, 3) for k, v in stats.items() if k.endswith("seconds")}},
            "oom": {k: v for k, v in stats.items() if k.startswith("oom_")},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
        }

    def line(self, seconds: float) -> str:
        d = self.documents
        parts = [f"{d[s]} {s}" for s in ("ok", "partial", "failed") if d[s]]
        if d["skipped"]:
            parts.append(f"{d['skipped']} finished earlier")
        pages = sum(self.pages.values())
        return (f"{counted(self.total, 'document')} ({', '.join(parts) or 'none'}), "
                f"{counted(pages, 'page')} in {seconds:.1f} s")
