#!/usr/bin/env bash
# One resumable batch job over examples/batch, split into two shards that run as two processes and
# write into the same output folder. The PDFs only (--glob '*.pdf'), from their text layer
# (--text-layer only), so no model is needed. Run it again and both shards skip what is finished.
#
#   bash examples/sharded-batch.sh [OUT_DIR]        # default: out/
set -euo pipefail
out=${1:-out}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
cd "$(dirname "$0")/.."

docvl ocr examples/batch --glob '*.pdf' --text-layer only --out-dir "$out" --shard 1/2 &
first=$!
docvl ocr examples/batch --glob '*.pdf' --text-layer only --out-dir "$out" --shard 2/2 &
second=$!
wait "$first"     # each shard's exit status: set -e stops here if one failed
wait "$second"
ls "$out"
