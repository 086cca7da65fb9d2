#!/usr/bin/env bash
# A shell pipeline: every PDF under examples/ read from its text layer (no model), one JSON document a
# line as each finishes, consumed as it streams by a few lines of Python (json module only). Prints one
# line per document: its path, status, page count and first line of text.
#
#   bash examples/pipeline.sh
#
# With jq instead of Python:  ... | jq -r '[.source.path, .status, (.pages | length)] | @tsv'
set -euo pipefail
cd "$(dirname "$0")/.."

find examples -name '*.pdf' | sort \
  | docvl ocr - --format jsonl --text-layer only \
  | "${PYTHON:-python3}" -c '
import json, sys
for line in sys.stdin:
    doc = json.loads(line)
    path, status, pages = doc["source"]["path"], doc["status"], doc["pages"]
    first = next((p["text"].splitlines()[0] for p in pages if p.get("text")), "")
    print(f"{path}\t{status}\t{len(pages)} pages\t{first}")
'
