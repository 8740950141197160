#!/usr/bin/env bash
# Multi30k En→De (test2016) with a small Transformer in <= 60 minutes of 2-core CPU time:
# train (50 min budget) → average the last 5 checkpoints (§6.1) → beam 4, α 0.6 → BLEU both ways.
# Results and the exact numbers: docs/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
DATA=${DATA:-../shared/data/multi30k}
OUT=${OUT:-runs/multi30k}
$RONBUN mt train --out "$OUT" --dataset multi30k --data-dir "$DATA" --lowercase-tokenized --vocab-size 8000 \
  --preset small --set dropout=0.2 --max-tokens 2500 --lr 1.0 --warmup 800 --max-steps 100000 --max-minutes 50 \
  --eval-every 500 --save-every 100000 --save-every-minutes 3 --keep-last 8 --valid-bleu-sentences 300 \
  --threads 1 --precision bf16 --no-progress --log-every 50
$RONBUN mt average "$OUT" --last 5 --out "$OUT/averaged"
last=$(ls -d "$OUT"/checkpoints/step_* | tail -n 1)
for ckpt in "$OUT/averaged" "$last"; do
  for beam in 4 1; do
    $RONBUN mt evaluate "$ckpt" --dataset multi30k --data-dir "$DATA" --split test --beam "$beam" --alpha 0.6 \
      --json "$ckpt/test2016_beam$beam.json" --output "$ckpt/test2016_beam$beam.de" | tee "$ckpt/test2016_beam$beam.txt"
  done
done
$RONBUN viz curves "$OUT" --out "$OUT/curves.png" || true
