#!/usr/bin/env bash
# GPT-1's cross-sentence transformations (§3.3) on the generated diagnostics of ronbun.gpt.diagnostics: each one
# is read as its real task (similarity → STS-B and MRPC layouts, entailment → RTE, multiple choice → Story
# Cloze), fine-tuned from the pre-trained model and from random initialisation of the same shape and tokenizer,
# then scored on its evaluation split → results/NAME.json.
#   data: TRAIN generated training examples and EVAL evaluation examples per diagnostic (seed 0).
#   pre-trained: UPDATES_PRETRAINED updates of 32 examples at lr LR_PRETRAINED; random initialisation:
#   UPDATES_SCRATCH at LR_SCRATCH (it has no copying heads to start from; see docs/gpt-finetuning.md);
#   warm-up 50 updates then linear decay to 0, auxiliary LM λ = 0.5, fine-tuning seed SEED (0; the generated data
#   stay those of seed 0, so seeds differ only in initialisation and order); PARALLEL runs at a time, one thread each.
#
#   full run:   experiments/gpt1_diagnostics.sh
#   smoke:      TRAIN=64 EVAL=16 UPDATES_PRETRAINED=2 UPDATES_SCRATCH=2 PRETRAIN=runs/tiny_pretrain experiments/gpt1_diagnostics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
source experiments/jobs.sh
given=$(given_inputs PRETRAIN NAME SEED)  # the pre-trained model, the summary's name and the seed, when given
PRETRAIN=${PRETRAIN:-runs/gpt1_pretrain}
NAME=${NAME:-gpt1_diagnostics}
OUT=${OUT:-runs/$NAME}
RESULTS=${RESULTS:-results}
TRAIN=${TRAIN:-20000}
EVAL=${EVAL:-500}
UPDATES_PRETRAINED=${UPDATES_PRETRAINED:-300}
LR_PRETRAINED=${LR_PRETRAINED:-2.5e-4}
UPDATES_SCRATCH=${UPDATES_SCRATCH:-2000}
LR_SCRATCH=${LR_SCRATCH:-2.5e-4}
PARALLEL=${PARALLEL:-2}
SEED=${SEED:-0}
DIAGNOSTICS=${DIAGNOSTICS:-word_presence similarity_regression similarity_classes entailment multiple_choice}
INITS=${INITS:-pretrained scratch}
JOB_KIND="a diagnostic run"
PRECISION=${PRECISION:-$(auto_precision)}
start=$(date +%s)
make_pretrained "$PRETRAIN"
mkdir -p "$OUT"
$PYTHON -m ronbun.gpt.diagnostics "$OUT/data" --train "$TRAIN" --eval "$EVAL"

diagnose() {  # diagnostic, init (pretrained|scratch): fine-tune, then score the evaluation split (eval/score.json)
  local name=$1 init=$2 dir=$OUT/$1_$2 task updates lr flags=()
  task=$($PYTHON -c "from ronbun.gpt.diagnostics import DIAGNOSTICS; print(DIAGNOSTICS['$name'].task)")
  if [[ $init == pretrained ]]; then updates=$UPDATES_PRETRAINED lr=$LR_PRETRAINED; else updates=$UPDATES_SCRATCH lr=$LR_SCRATCH flags=(--from-scratch); fi
  rm -rf "$dir" && mkdir -p "$dir/eval"
  $RONBUN gpt finetune --init "$PRETRAIN" --task "$task" --data-dir "$OUT/data/$name" --max-steps "$updates" \
    --lr "$lr" --warmup 50 --seed "$SEED" --threads 1 --precision "$PRECISION" --no-progress --log-every 100 --eval-every 0 \
    --out "$dir" "${flags[@]}" > "$dir/train.log" 2>&1
  $RONBUN gpt evaluate "$dir" --json > "$dir/eval/score.json"
}
for name in $DIAGNOSTICS; do
  for init in $INITS; do launch diagnose "$name" "$init"; done
done
wait_all
(( failed == 0 )) || exit 1
$PYTHON experiments/gpt1_diagnostics_summary.py "$OUT" --diagnostics "$DIAGNOSTICS" --inits "$INITS" --train "$TRAIN" --eval "$EVAL" \
  --name "$NAME" --wall-seconds $(( $(date +%s) - start )) --out "$RESULTS/$NAME.json" \
  --command "${given}DIAGNOSTICS=\"$DIAGNOSTICS\" INITS=\"$INITS\" TRAIN=$TRAIN EVAL=$EVAL UPDATES_PRETRAINED=$UPDATES_PRETRAINED LR_PRETRAINED=$LR_PRETRAINED \
UPDATES_SCRATCH=$UPDATES_SCRATCH LR_SCRATCH=$LR_SCRATCH PRECISION=$PRECISION experiments/gpt1_diagnostics.sh"
