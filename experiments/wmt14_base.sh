#!/usr/bin/env bash
# The paper's own experiment (Transformer §5, §6.1), for a GPU machine: the base model on WMT 2014 En→De.
#   train 100k updates (warm-up 4000, ~25k+25k tokens a batch) → average the last 5 checkpoints (1,250 updates
#   apart) → beam 4, α 0.6, max length input + 50 → newstest2014: sacreBLEU and tokenised BLEU with compound
#   splitting (the paper's 27.3 is the latter).  Settings: experiments/wmt14_base.toml.
#
#   Data: TRAIN_SRC/TRAIN_TGT (plain or .gz, line-aligned), or exported from the `datasets` library by
#   experiments/wmt14_data.py.  newstest2013 (valid) and newstest2014 (test) come from NEWSTEST
#   (default ../shared/data/wmt_newstest_de_en).
#
#   One machine with 8 GPUs:   NPROC=8 experiments/wmt14_base.sh
#   One GPU holding fewer tokens: ACCUM=4 experiments/wmt14_base.sh   (4 × 6,250 tokens = the paper's batch)
#   Any setting can be overridden with extra flags: experiments/wmt14_base.sh --max-steps 20 --preset tiny
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
OUT=${OUT:-runs/wmt14_base}
NEWSTEST=${NEWSTEST:-../shared/data/wmt_newstest_de_en}
NPROC=${NPROC:-1}
ACCUM=${ACCUM:-1}
mkdir -p "$OUT"
if [[ -z "${TRAIN_SRC:-}" ]]; then
  TRAIN_SRC="$OUT/data/train.en"
  TRAIN_TGT="$OUT/data/train.de"
  [[ -s "$TRAIN_SRC" ]] || ${PYTHON:-.venv/bin/python} experiments/wmt14_data.py --out "$OUT/data"
fi
train=(mt train --config experiments/wmt14_base.toml --out "$OUT"
  --train-src "$TRAIN_SRC" --train-tgt "$TRAIN_TGT" --max-tokens $((25000 / ACCUM))
  --valid-src "$NEWSTEST/newstest2013.en" --valid-tgt "$NEWSTEST/newstest2013.de"
  --accum-steps "$ACCUM" --no-progress "$@")
if [[ "$NPROC" -gt 1 ]]; then
  ${TORCHRUN:-.venv/bin/torchrun} --standalone --nproc-per-node "$NPROC" -m ronbun.cli.main "${train[@]}"
else
  $RONBUN "${train[@]}"
fi
$RONBUN mt average "$OUT" --last 5 --out "$OUT/averaged"   # checkpoints are save_every updates apart
$RONBUN mt evaluate "$OUT/averaged" --src "$NEWSTEST/newstest2014.en" --ref "$NEWSTEST/newstest2014.de" \
  --beam 4 --alpha 0.6 --max-len-b 50 --output "$OUT/newstest2014.de" --json "$OUT/newstest2014.json"
