#!/usr/bin/env bash
# Multi30k En→De, test2016 (Transformer §5 + §6.1 at CPU scale), on the raw, cased text.
#   train a fixed number of updates → average the last 5 checkpoints (written every UPDATES/20 updates, so
#   they span the last 20% of training) → beam 4 and greedy, α 0.6 → cased sacreBLEU on the raw references
#   and lower-cased tokenised BLEU on the tok/ references (the Multi30k convention) → the beam and length penalty
#   α chosen on valid (experiments/multi30k_alpha.sh), test scored once with them → results/NAME.json.
#   The recipe was chosen on the validation split (docs/results.md, "What each lever was worth": dropout 0.1 beat
#   0.3, then dropout 0.2 with label smoothing 0.2 beat 0.1/0.1, experiments/multi30k_levers.sh); test2016 is only
#   reported.
#
#   full recipe (5,400 updates: about 58 min of training on 2 idle AVX-512 BF16 threads):   experiments/multi30k.sh
#   the 15-minute version, seed 1:        UPDATES=1400 SEED=1 NAME=multi30k_15min_s1 experiments/multi30k.sh
#   literature mode (lower-cased tokenised training text):   experiments/multi30k.sh --lowercase-tokenized
#   a stopped run (killed, machine restarted) continues exactly: the same command plus --resume (on a finished
#   run it trains nothing and redoes the evaluation steps)
#   decoding candidates: MODELS="averaged ensemble" also tries the last 5 checkpoints as one ensemble
#   (experiments/multi30k_alpha.sh); recorded in the summary's command when set
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
source experiments/multi30k_recipe.sh  # DATA, UPDATES, SEED, DROPOUT and the training flags
THREADS=${THREADS:-2}
# bf16 autocast where the CPU has native bf16 (AVX-512 BF16/AMX), else fp32 (emulated bf16 is ~5x slower); the
# resolved value is recorded in the run's config and summary, because bf16 and fp32 runs are different runs
source experiments/jobs.sh
PRECISION=${PRECISION:-$(auto_precision)}
NAME=${NAME:-multi30k}
OUT=${OUT:-runs/$NAME}
RESULTS=${RESULTS:-results}
start=$(date +%s)
multi30k_train "$OUT" "$@"
$RONBUN mt average "$OUT" --last 5 --out "$OUT/averaged"
last=$(ls -d "$OUT"/checkpoints/step_* | tail -n 1)
mkdir -p "$OUT/eval"
for ckpt in averaged last; do
  dir=$OUT/averaged; [[ $ckpt == last ]] && dir=$last
  for split in valid test; do
    for beam in 4 1; do
      $RONBUN mt evaluate "$dir" --dataset multi30k --data-dir "$DATA" --split "$split" --beam "$beam" \
        --alpha 0.6 --threads "$THREADS" --json "$OUT/eval/${ckpt}_${split}_beam$beam.json" \
        --output "$OUT/eval/${ckpt}_${split}_beam$beam.de" > "$OUT/eval/${ckpt}_${split}_beam$beam.txt"
    done
  done
done
RONBUN=$RONBUN PYTHON=$PYTHON DATA=$DATA THREADS=$THREADS experiments/multi30k_alpha.sh "$OUT"
cat "$OUT/eval/averaged_test_beam4.txt"
$PYTHON experiments/summarize.py "$OUT" --name "$NAME" --eval "$OUT/eval" --wall-seconds $(( $(date +%s) - start )) \
  --command "$(given_inputs MODELS)UPDATES=$UPDATES SEED=$SEED THREADS=$THREADS DROPOUT=$DROPOUT LABEL_SMOOTHING=$LABEL_SMOOTHING PRECISION=$PRECISION experiments/multi30k.sh$(recorded_args "$@")" --out "$RESULTS/$NAME.json"
