#!/usr/bin/env bash
# GPT-1 SST-2 fine-tuning at CPU scale (GPT-1 §3.2, §3.3, §4.1; Table 5's "w/o pre-training" and "w/o aux LM").
#   0. the pre-trained model: PRETRAIN (made by experiments/gpt1_pretrain.sh if it is not there yet).
#   1. the budget, chosen on a validation split: HOLDOUT=2000 examples carved from SST-2 train with a fixed seed
#      (`--holdout`; every run trains on the other 65,349), the pre-trained model with the auxiliary LM, first
#      seed, fine-tuned for each budget of GRID = 681, 1,022 and 2,043 updates of 32 examples (1/3, 1/2 and 1
#      epoch); the highest holdout accuracy wins (fewer updates on a tie).
#   2. dev (872), scored once, at the chosen budget: seeds 0, 1, 2 of the pre-trained model, of the same model
#      from random initialisation (same tokenizer and budget) and of the pre-trained model without the
#      auxiliary LM (λ = 0) → results/NAME.json (the grid, the choice, dev per seed, means).
#   lr 1e-4, warm-up over 0.2% of the updates then linear decay to 0, bf16; PARALLEL runs at a time, one
#   thread each.  The script exits non-zero if any run fails (each background run's status is checked).
#
#   full run:       experiments/gpt1_sst2.sh
#   smoke test:     HOLDOUT=10 GRID="1 2" SEEDS="0 1" GLUE=tiny/glue PRETRAIN=runs/tiny_pretrain experiments/gpt1_sst2.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
GLUE=${GLUE:-../shared/data/glue}
PRETRAIN=${PRETRAIN:-runs/gpt1_pretrain}
NAME=${NAME:-gpt1_sst2}
OUT=${OUT:-runs/$NAME}
RESULTS=${RESULTS:-results}
HOLDOUT=${HOLDOUT:-2000}
GRID=${GRID:-681 1022 2043}
SEEDS=${SEEDS:-0 1 2}
PARALLEL=${PARALLEL:-2}
read -r -a grid <<< "$GRID"
read -r -a seeds <<< "$SEEDS"
first=${seeds[0]}
start=$(date +%s)
if [[ ! -f $PRETRAIN/summary.json ]]; then
  OUT=$PRETRAIN NAME=gpt1_pretrain RESULTS=$RESULTS experiments/gpt1_pretrain.sh
fi
mkdir -p "$OUT"

finetune() {  # run name, flags...: a fresh fine-tuning run, then its holdout accuracy (eval/holdout.json)
  local dir=$OUT/$1; shift
  rm -rf "$dir" && mkdir -p "$dir/eval"
  $RONBUN gpt finetune --init "$PRETRAIN" --task sst2 --data-dir "$GLUE" --holdout "$HOLDOUT" --lr 1e-4 \
    --threads 1 --precision bf16 --no-progress --log-every 100 --eval-every 0 --out "$dir" "$@" > "$dir/train.log" 2>&1
  $RONBUN gpt evaluate "$dir" --split holdout --json > "$dir/eval/holdout.json"
}
score_dev() {  # run name: its dev accuracy (eval/dev.json)
  $RONBUN gpt evaluate "$OUT/$1" --split dev --json > "$OUT/$1/eval/dev.json"
}
pids=() failed=0
launch() {  # run a command in the background, at most PARALLEL at a time
  if (( ${#pids[@]} >= PARALLEL )); then wait_one; fi
  "$@" & pids+=($!)
  echo "started: $* (pid $!)"
}
wait_one() {  # wait for the oldest background run; a failed one fails the script (a bare `wait` would not)
  local pid=${pids[0]}
  pids=("${pids[@]:1}")
  wait "$pid" || { echo "a fine-tuning run failed (pid $pid)" >&2; failed=1; }
}
wait_all() { while (( ${#pids[@]} )); do wait_one; done; }

for u in "${grid[@]}"; do launch finetune "pretrained_u${u}_s$first" --max-steps "$u" --seed "$first"; done
wait_all
(( failed == 0 )) || exit 1
chosen=$($PYTHON experiments/gpt1_sst2_summary.py choose "$OUT" --grid "$GRID" --seed "$first")
echo "budget chosen on the holdout: $chosen updates"

final=()
for s in "${seeds[@]}"; do
  for variant in pretrained scratch noaux; do
    final+=("${variant}_u${chosen}_s$s")
    case $variant in
      pretrained) flags=() ;;
      scratch) flags=(--from-scratch) ;;  # same tokenizer and shape, random weights
      noaux) flags=(--aux-lm 0) ;;
    esac
    if [[ $variant != pretrained || $s != "$first" ]]; then  # the first seed's pre-trained run is the grid's
      launch finetune "${variant}_u${chosen}_s$s" --max-steps "$chosen" --seed "$s" "${flags[@]}"
    fi
  done
done
wait_all
for run in "${final[@]}"; do  # dev, once per final run (a failed run has no checkpoint to score)
  if [[ -d $OUT/$run/checkpoints ]]; then launch score_dev "$run"; fi
done
wait_all
(( failed == 0 )) || exit 1
$PYTHON experiments/gpt1_sst2_summary.py write "$OUT" --grid "$GRID" --seeds "$SEEDS" --chosen "$chosen" \
  --name "$NAME" --wall-seconds $(( $(date +%s) - start )) --out "$RESULTS/$NAME.json" \
  --command "HOLDOUT=$HOLDOUT GRID=\"$GRID\" SEEDS=\"$SEEDS\" experiments/gpt1_sst2.sh"
