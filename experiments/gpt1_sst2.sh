#!/usr/bin/env bash
# GPT-1 at CPU scale: pre-train a small GPT (<= 40 min) on task-independent text (Brown + tiny-shakespeare +
# WikiText-2 valid, lower-cased like GPT-1's own BPE), then fine-tune on the full SST-2 training set with and
# without pre-training (Table 5 "w/o pre-training") and with the auxiliary LM loss off (Table 5 "w/o aux LM"),
# 3 seeds each, 700 updates of 32 examples each (1/3 of an epoch).  Pre-training uses both cores (~1 s per
# update: 2,400 updates in 40 min); fine-tuning runs two at a time, one thread each.  Results: docs/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
SHARED=${SHARED:-../shared/data}
OUT=${OUT:-runs}
STEPS=${STEPS:-700}   # fine-tuning updates per run; docs/results.md also reports STEPS=1400
if [ ! -d "$OUT/gpt_pretrain/checkpoints" ]; then
  .venv/bin/python - "$SHARED" "$OUT" <<'PY'
import sys
from ronbun.gpt.corpus import CorpusConfig, load_corpus
shared, out = sys.argv[1], sys.argv[2]
train, valid = [], []
for name in ("brown", "tiny_shakespeare", "wikitext2"):
    splits = load_corpus(CorpusConfig(corpus=name, data_dir=shared))
    train += splits["train"]
    valid += splits["valid"]
for name, lines in (("train", train), ("valid", valid)):
    with open(f"{out}/gpt_{name}.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(line.lower() for line in lines if line.strip()) + "\n")
PY
  $RONBUN gpt pretrain --train-file "$OUT/gpt_train.txt" --valid-file "$OUT/gpt_valid.txt" --vocab-size 8000 \
    --preset small --set n_ctx=128 --batch-size 32 --lr 6e-4 --warmup 150 --max-steps 2400 --max-minutes 40 \
    --eval-every 400 --save-every 400 --eval-windows 200 --threads 2 --precision bf16 --no-progress \
    --log-every 50 --out "$OUT/gpt_pretrain"
fi
finetune() {  # name, extra flags...
  local name=$1; shift
  $RONBUN gpt finetune --init "$OUT/gpt_pretrain" --task sst2 --data-dir "$SHARED/glue" --max-steps "$STEPS" --lr 1e-4 \
    --threads 1 --precision bf16 --no-progress --log-every 100 --eval-every 0 --out "$OUT/sst2_$name" "$@" \
    > "$OUT/sst2_$name.log" 2>&1
  $RONBUN gpt evaluate "$OUT/sst2_$name" > "$OUT/sst2_$name.eval.txt" 2>&1
}
for seed in 0 1 2; do
  finetune "pretrained_s$seed" --seed "$seed" &
  finetune "scratch_s$seed" --seed "$seed" --from-scratch &
  wait
done
for seed in 0 1 2; do finetune "noaux_s$seed" --seed "$seed" --aux-lm 0 & done; wait
grep -H accuracy "$OUT"/sst2_*.eval.txt
