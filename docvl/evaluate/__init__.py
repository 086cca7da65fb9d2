"""`docvl eval`: score docvl outputs (runs) against ground truth, several runs side by side.

Truth is found by the stem of each document's source file in the `--truth` folders:
`STEM.txt` (transcript) or SROIE's `STEM.csv` lines for OCR text, `STEM.json` (SROIE key fields) for
an `extract` run's fields, `STEM-str.xml` (ICDAR 2013 structure) for tables. Born-digital PDFs are their
own truth: a page the model read is compared with the page's trusted text layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DocvlError, InputError, short_reason
from .metrics import Counts, TextScore, adjacency_relations, grid_cells, match_tables, score_fields
from .truth import read_fields, read_icdar_tables, read_sroie_lines, read_transcript

SCHEMA = "docvl-eval/1"


def read_run(path: str) -> list[dict]:
    """A run: the document records of a docvl JSON (one document or a list) or JSONL output."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read the run ({e.strerror or e})") from None
    try:
        body = json.loads(text)
        records = body if isinstance(body, list) else [body]
    except ValueError:
        try:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as e:
            raise InputError(f"{path}: not docvl JSON or JSONL output ({short_reason(e)})") from None
    if not records or not all(isinstance(r, dict) and "source" in r and "pages" in r for r in records):
        raise InputError(f"{path}: not docvl output (each document needs 'source' and 'pages')")
    return records


@dataclass
class Truth:
    folders: list[Path]

    def find(self, source: str, *suffixes: str) -> Path | None:
        stem = Path(source).stem
        for suffix in suffixes:
            for folder in self.folders:
                if (folder / f"{stem}{suffix}").is_file():
                    return folder / f"{stem}{suffix}"
        return None

    def transcript(self, source: str) -> str | None:
        path = self.find(source, ".txt", ".csv")
        if path is None:
            return None
        return read_transcript(path) if path.suffix == ".txt" else read_sroie_lines(path)


@dataclass
class RunScore:
    ocr: TextScore = field(default_factory=lambda: TextScore(0, 0, 0, 0))
    ocr_documents: int = 0
    born_digital: TextScore = field(default_factory=lambda: TextScore(0, 0, 0, 0))
    born_digital_pages: int = 0
    fields: dict = field(default_factory=dict)  # key -> [correct, total]
    fields_documents: int = 0
    tables: Counts = field(default_factory=Counts)
    tables_documents: list = field(default_factory=list)  # per-document Counts
    documents: list = field(default_factory=list)
    # (confidence, TextScore) of each scored unit whose pages all carry a confidence: an OCR document
    # against its transcript, or a born-digital page against its text layer
    confident: list = field(default_factory=list)


def page_text(record: dict) -> str | None:
    pages = [p for p in record["pages"] if "text" in p or p.get("status") != "ok"]
    if not pages or not any("text" in p for p in pages):
        return None
    return "\n".join(p.get("text", "") for p in pages)  # a failed page read nothing


def record_tables(record: dict) -> list[list[list[str]]] | None:
    pages = [p for p in record["pages"] if "tables" in p]
    if not pages:
        return None
    return [[t.get("header") or [], *t.get("rows", [])] for p in pages for t in p["tables"]]


def text_layer_truth(path: str, numbers: list[int]) -> dict[int, str]:
    """Trusted text-layer text of the given pages of a born-digital PDF (none if it cannot be read)."""
    from ..sources import open_document
    from ..textlayer import read_page

    try:
        doc = open_document(path)
    except DocvlError:
        return {}
    try:
        out = {}
        for n in numbers:
            try:
                read = read_page(doc, n) if 1 <= n <= doc.page_count else None
            except DocvlError:
                continue
            if read and read[1].trusted:
                out[n] = read[0].text
        return out
    finally:
        doc.close()


def score_run(records: list[dict], truth: Truth) -> RunScore:
    score = RunScore()
    for record in records:
        source = record["source"]["path"]
        doc = {"path": source}
        text = page_text(record)
        reference = truth.transcript(source) if text is not None else None
        if reference is not None:
            s = TextScore.of(reference, text)
            score.ocr += s
            score.ocr_documents += 1
            doc["ocr"] = {"cer": s.cer, "wer": s.wer}
            conf = pages_confidence(record["pages"])
            if conf is not None:
                score.confident.append((conf, s))
        model_pages = {p["page"]: p["text"] for p in record["pages"]
                       if p.get("source", "model") == "model" and "text" in p}
        if model_pages and record["source"].get("kind", "pdf") == "pdf":
            layer = text_layer_truth(source, sorted(model_pages))
            if layer:
                scores = {n: TextScore.of(layer[n], model_pages[n]) for n in layer}
                s = sum(scores.values(), TextScore(0, 0, 0, 0))
                by_number = {p["page"]: p for p in record["pages"]}
                for n, page_score in scores.items():
                    conf = pages_confidence([by_number[n]])
                    if conf is not None:
                        score.confident.append((conf, page_score))
                score.born_digital += s
                score.born_digital_pages += len(layer)
                doc["born_digital"] = {"pages": len(layer), "cer": s.cer, "wer": s.wer}
        fields_path = truth.find(source, ".json") if isinstance(record.get("fields"), dict) else None
        if fields_path is not None:
            hits = score_fields(read_fields(fields_path), record["fields"])
            for key, ok in hits.items():
                tally = score.fields.setdefault(key, [0, 0])
                tally[0] += ok
                tally[1] += 1
            score.fields_documents += 1
            doc["fields"] = hits
        grids = record_tables(record)
        str_xml = truth.find(source, "-str.xml") if grids is not None else None
        if str_xml is not None:
            expected = [adjacency_relations(t.cells) for t in read_icdar_tables(str_xml)]
            c = match_tables(expected, [adjacency_relations(grid_cells(g)) for g in grids])
            score.tables += c
            score.tables_documents.append(c)
            doc["tables"] = {"tp": c.tp, "fp": c.fp, "fn": c.fn, "precision": c.precision, "recall": c.recall,
                             "f1": c.f1}
        score.documents.append(doc)
    return score


def pages_confidence(pages: list[dict]) -> float | None:
    """The token-weighted mean token probability of the model pages among `pages`; None unless every
    model page carries one."""
    model = [p for p in pages if p.get("status") == "ok" and p.get("source", "model") == "model"]
    confs = [p.get("confidence") for p in model]
    if not model or not all(isinstance(c, dict) and c.get("tokens") for c in confs):
        return None
    tokens = sum(c["tokens"] for c in confs)
    return sum(c["mean"] * c["tokens"] for c in confs) / tokens


def confidence_report(units: list[tuple[float, TextScore]]) -> dict | None:
    """How confidence ranks errors: the character error rate of the least confident tenth of the scored
    units (at least one) against the rest, and of the units under a few thresholds."""
    if len(units) < 2:
        return None
    ranked = sorted(units, key=lambda u: u[0])
    tenth = max(1, len(ranked) // 10)

    def part(items):
        s = sum((t for _, t in items), TextScore(0, 0, 0, 0))
        return {"units": len(items), "cer": _rounded(s.cer),
                "confidence_max": _rounded(max(c for c, _ in items)) if items else None}

    return {"units": len(ranked), "lowest_tenth": part(ranked[:tenth]), "rest": part(ranked[tenth:]),
            "below": {f"{x:g}": part([u for u in ranked if u[0] < x]) for x in (0.5, 0.7, 0.8, 0.9, 0.95)}}


def _rounded(value):
    return None if value is None else round(value, 4)


def run_report(path: str, records: list[dict], score: RunScore) -> dict:
    first = records[0]
    report = {"run": path, "task": first.get("task"), "engine": first.get("engine"),
              "options": first.get("options"), "documents": len(records),
              "pages": sum(len(r["pages"]) for r in records),
              "pages_by_source": {}, "ocr": None, "born_digital": None, "fields": None, "tables": None,
              "confidence": confidence_report(score.confident), "per_document": score.documents}
    for r in records:
        for p in r["pages"]:
            key = p.get("source", "model") if p.get("status") == "ok" else "failed"
            report["pages_by_source"][key] = report["pages_by_source"].get(key, 0) + 1
    if score.ocr_documents:
        s = score.ocr
        report["ocr"] = {"documents": score.ocr_documents, "cer": _rounded(s.cer), "wer": _rounded(s.wer),
                         "char_errors": s.char_errors, "chars": s.chars, "word_errors": s.word_errors,
                         "words": s.words}
    if score.born_digital_pages:
        s = score.born_digital
        report["born_digital"] = {"pages": score.born_digital_pages, "cer": _rounded(s.cer),
                                  "wer": _rounded(s.wer), "char_errors": s.char_errors, "chars": s.chars}
    if score.fields_documents:
        correct = sum(c for c, _ in score.fields.values())
        total = sum(t for _, t in score.fields.values())
        report["fields"] = {"documents": score.fields_documents, "accuracy": _rounded(correct / total),
                            "per_field": {k: _rounded(c / t) for k, (c, t) in sorted(score.fields.items())}}
    if score.tables_documents:
        c, docs = score.tables, score.tables_documents
        report["tables"] = {"documents": len(docs), "precision": _rounded(c.precision),
                            "recall": _rounded(c.recall), "f1": _rounded(c.f1),
                            "doc_mean_f1": _rounded(sum(d.f1 for d in docs) / len(docs)),
                            "tp": c.tp, "fp": c.fp, "fn": c.fn}
    return report


def evaluate(runs: list[tuple[str, list[dict]]], truth_folders: list[str]) -> dict:
    """The eval report of several runs (path, records) against the same truth."""
    truth = Truth([Path(f) for f in truth_folders])
    return {"schema": SCHEMA, "truth": truth_folders,
            "runs": [run_report(path, records, score_run(records, truth)) for path, records in runs]}
