#!/usr/bin/env bash
# Rebuilds models/demo-agent from scratch: episodes (train split only) → tokenizer → model.
# Deterministic data and tokenizer; the model is seeded but its step count follows the time budget
# (train.py --minutes), so pass --minutes as recorded in models/demo-agent/README.md; continue a
# committed checkpoint with --init models/demo-agent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/demo-agent}
OUT=${OUT:-models/demo-agent}
mkdir -p "$WORK" "$OUT"
npx tsx tools/demo-agent/make-data.ts --count 3600 --seed 0 --out "$WORK/train.jsonl"
$PY tools/demo-agent/train_tokenizer.py --data "$WORK/train.jsonl" --vocab-size 4096 --out "$OUT"
nice -n 5 $PY tools/demo-agent/train.py --data "$WORK/train.jsonl" --tokenizer "$OUT" --out "$OUT" \
  --hidden 96 --layers 3 --heads 3 --kv-heads 1 --intermediate 256 --lr 5e-3 --batch-tokens 2048 --save-every 25 "$@"
