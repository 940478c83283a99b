#!/usr/bin/env bash
# Rebuilds models/demo-agent from scratch: episodes (train split only) → tokenizer → model.
# Deterministic data and tokenizer; the model is seeded but its step count follows the time budget
# (train.py --minutes 55, as recorded in models/demo-agent/README.md). One torch thread: on this
# project's 2-core machine the second core stays free (and one thread ran faster than two here).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/demo-agent}
OUT=${OUT:-models/demo-agent}
mkdir -p "$WORK" "$OUT"
# FRESH_ENTITIES=1: fresh entities per episode (see make-data.ts); the committed model was made without.
npx tsx tools/demo-agent/make-data.ts --count 3600 --seed 0 ${FRESH_ENTITIES:+--fresh-entities} --out "$WORK/train.jsonl"
$PY tools/demo-agent/train_tokenizer.py --data "$WORK/train.jsonl" --vocab-size 4096 --out "$OUT"
$PY tools/demo-agent/train.py --data "$WORK/train.jsonl" --tokenizer "$OUT" --out "$OUT" \
  --hidden 128 --layers 4 --heads 4 --kv-heads 2 --intermediate 384 --lr 3e-3 --batch-tokens 2048 \
  --threads 1 --epochs 8 --minutes 55 --save-every 500 "$@"
