#!/usr/bin/env bash
# GPT-1 pre-training at CPU scale (GPT-1 §3.1, §4.1): the model every GPT table of docs/results.md fine-tunes.
#   corpus (experiments/gpt_corpus.py): the English training text of the shared data folder that is not an
#   evaluation set (Brown, the Penn Treebank WSJ sample, tiny-shakespeare, Multi30k English captions), each with a
#   held-out part → byte-level BPE of 8,000 that lower-cases what it encodes → `small` GPT (4 layers, d_model 256,
#   4 heads, d_ff 1024, n_ctx 128) → 759 updates of 32 windows of 128 tokens, lr 6e-4, warm-up 100, cosine
#   annealing planned over 1,000 updates and stopped at 759, seed 0, validation on 200 evenly spaced windows of the
#   held-out text every 250 updates → perplexity on the WHOLE held-out text of every source (and on WikiText-2 test,
#   never trained on), each with its token count → results/NAME.json.
#
#   full run:       experiments/gpt1_pretrain.sh
#   another shape:  SET="n_layers=8 d_model=192" experiments/gpt1_pretrain.sh   (each KEY=VALUE a `--set` of the model)
#   repetitions:    REPEAT_EVERY=5 experiments/gpt1_pretrain.sh   (every 5th training line written twice in a row,
#                   corpus in runs/gpt_corpus_repeat5: the lever that teaches copying, docs/results.md)
#   smoke test:     UPDATES=2 SCHEDULE=2 WARMUP=1 PRESET=tiny N_CTX=32 BATCH=4 VOCAB=300 DATA=tiny/ experiments/gpt1_pretrain.sh
#   extra flags are passed to `ronbun gpt pretrain` (e.g. --resume after a stop).
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data}
UPDATES=${UPDATES:-759}
SCHEDULE=${SCHEDULE:-1000}
WARMUP=${WARMUP:-100}
PRESET=${PRESET:-small}
N_CTX=${N_CTX:-128}
BATCH=${BATCH:-32}
VOCAB=${VOCAB:-8000}
SEED=${SEED:-0}
REPEAT_EVERY=${REPEAT_EVERY:-0}  # write every N-th training line twice (0: the corpus as it is)
SET=${SET:-}  # model settings besides the preset's, space-separated KEY=VALUE (e.g. "n_layers=8 d_model=192")
read -r -a model_set <<< "$SET"
set_flags=()
for kv in "${model_set[@]}"; do set_flags+=(--set "$kv"); done
source experiments/jobs.sh
PRECISION=${PRECISION:-$(auto_precision)}
THREADS=${THREADS:-2}
NAME=${NAME:-gpt1_pretrain}
OUT=${OUT:-runs/$NAME}
repeat_given=""  # recorded in the command only when lines are repeated
if (( REPEAT_EVERY > 0 )); then
  CORPUS=${CORPUS:-runs/gpt_corpus_repeat$REPEAT_EVERY}
  repeat_given=" REPEAT_EVERY=$REPEAT_EVERY"
fi
CORPUS=${CORPUS:-runs/gpt_corpus}
RESULTS=${RESULTS:-results}
if [[ -d $OUT/checkpoints && " $* " != *" --resume "* ]]; then
  echo "$OUT already holds a run: remove it, choose another OUT, or pass --resume" >&2
  exit 1
fi
start=$(date +%s)
$PYTHON experiments/gpt_corpus.py --data "$DATA" --out "$CORPUS" --repeat-every "$REPEAT_EVERY"
mkdir -p "$OUT"
printf '[trainer]\nschedule_total = %d\n' "$SCHEDULE" > "$OUT/schedule.toml"
$RONBUN gpt pretrain --config "$OUT/schedule.toml" --train-file "$CORPUS/train.txt" --valid-file "$CORPUS/valid.txt" \
  --vocab-size "$VOCAB" --lowercase --preset "$PRESET" --set n_ctx="$N_CTX" ${set_flags[@]+"${set_flags[@]}"} \
  --batch-size "$BATCH" --lr 6e-4 \
  --warmup "$WARMUP" --max-steps "$UPDATES" --max-minutes 180 --seed "$SEED" --eval-every 250 --save-every 250 \
  --keep-last 0 --eval-windows 200 --threads "$THREADS" --precision "$PRECISION" --no-progress --log-every 25 --out "$OUT" "$@"
mkdir -p "$OUT/heldout"
for text in "$CORPUS"/heldout/*.txt; do  # every token of every held-out text (no --max-windows)
  $RONBUN gpt evaluate "$OUT" --file "$text" --json > "$OUT/heldout/$(basename "$text" .txt).json"
done
$PYTHON experiments/summarize.py "$OUT" --name "$NAME" --eval "$OUT/heldout" --extra corpus="$CORPUS/manifest.json" \
  --wall-seconds $(( $(date +%s) - start )) --out "$OUT/summary.json" \
  --command "UPDATES=$UPDATES SCHEDULE=$SCHEDULE WARMUP=$WARMUP PRESET=$PRESET${SET:+ SET=\"$SET\"} N_CTX=$N_CTX BATCH=$BATCH \
VOCAB=$VOCAB SEED=$SEED$repeat_given THREADS=$THREADS PRECISION=$PRECISION experiments/gpt1_pretrain.sh$(recorded_args "$@")"
mkdir -p "$RESULTS"
cp "$OUT/summary.json" "$RESULTS/$NAME.json"
