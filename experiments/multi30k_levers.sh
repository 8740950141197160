#!/usr/bin/env bash
# Screening changes to the Multi30k recipe side by side (Transformer §5, §6.1 at CPU scale): each variant is the
#   full recipe of experiments/multi30k.sh (its flags: experiments/multi30k_recipe.sh, UPDATES updates, seed SEED)
#   with one change → the average of the last 5 checkpoints (and of the last 10 for the unchanged recipe) scored on
#   valid and on test2016 with beam 4 at α 0.6 and α 1.0 → results/levers/multi30k_screen_VARIANT.json each.
#   Choose on valid; test is only shown.  A lever earns its place in the recipe only when its full CPU run
#   (experiments/multi30k.sh with the change) beats the recipe on valid.
#   One seed per variant: compare a difference with the seed-to-seed spread of `recipe` and `recipe_s1`.
#   A variant's change is absolute (`ls0.2` sets ε_ls 0.2), so a change the recipe has since adopted is a no-op
#   against today's recipe; the screen in docs/results.md ran on the earlier base: DROPOUT=0.1 LABEL_SMOOTHING=0.1.
#
#   on one GPU, every variant at once:  PARALLEL=8 DEVICE=auto experiments/multi30k_levers.sh
#   some variants, on the CPU:          VARIANTS="recipe ls0.2" PARALLEL=1 THREADS=2 experiments/multi30k_levers.sh
#   smoke test:                         VARIANTS="recipe" UPDATES=20 LIMIT=8 PRESET_FLAGS="--preset tiny" experiments/multi30k_levers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
source experiments/multi30k_recipe.sh  # DATA, UPDATES, SEED, DROPOUT, LABEL_SMOOTHING and the training flags
THREADS=${THREADS:-1}
PARALLEL=${PARALLEL:-1}
DEVICE=${DEVICE:-cpu}      # where the evaluations decode (training takes the GPU whenever there is one)
LIMIT=${LIMIT:-}           # evaluate only the first N sentences (smoke tests)
PRESET_FLAGS=${PRESET_FLAGS:-}
source experiments/jobs.sh
PRECISION=${PRECISION:-$(auto_precision)}
RESULTS=${RESULTS:-results/levers}
ROOT=${ROOT:-runs/multi30k_screen}
export KEEP_LAST=10 VALID_BLEU_SENTENCES=0
declare -A CHANGE=(
  [recipe]=""
  [recipe_s1]="--seed 1"
  [ls0.2]="--set label_smoothing=0.2"
  [attdrop]="--set attention_dropout=0.1 --set activation_dropout=0.1"
  [d0.2]="--set dropout=0.2"
  [v4000]="--vocab-size 4000"
  [lr2]="--lr 2.0"
  [reg]="--set label_smoothing=0.2 --set attention_dropout=0.1 --set activation_dropout=0.1"
)
VARIANTS=${VARIANTS:-recipe recipe_s1 ls0.2 attdrop d0.2 v4000 lr2}
JOB_KIND="a screened variant"

screen() {  # variant: train, average, score, summarise
  local v=$1 run=$ROOT/$1 start k split a name
  start=$(date +%s)
  read -r -a flags <<< "${CHANGE[$v]}"
  rm -rf "$run" && mkdir -p "$run"
  # shellcheck disable=SC2086
  multi30k_train "$run" $PRESET_FLAGS ${flags[@]+"${flags[@]}"} > "$run/train.log" 2>&1
  mkdir -p "$run/eval"
  for k in 5 10; do
    [[ $k == 10 && $v != recipe* ]] && continue
    $RONBUN mt average "$run" --last $k --out "$run/avg$k" >> "$run/train.log"
    for split in valid test; do
      for a in 0.6 1.0; do
        name=avg${k}_${split}_beam4
        [[ $k == 5 ]] && name=averaged_${split}_beam4  # the name experiments/multi30k.sh gives its average of 5
        [[ $a == 1.0 ]] && name+=_alpha1.0
        $RONBUN mt evaluate "$run/avg$k" --dataset multi30k --data-dir "$DATA" --split "$split" --beam 4 \
          --alpha "$a" --device "$DEVICE" --threads "$THREADS" ${LIMIT:+--limit "$LIMIT"} \
          --json "$run/eval/$name.json" >> "$run/train.log"
      done
    done
  done
  mkdir -p "$RESULTS"
  $PYTHON experiments/summarize.py "$run" --name "multi30k_screen_$v" --eval "$run/eval" \
    --wall-seconds $(( $(date +%s) - start )) --out "$RESULTS/multi30k_screen_$v.json" \
    --command "DROPOUT=$DROPOUT LABEL_SMOOTHING=$LABEL_SMOOTHING UPDATES=$UPDATES SEED=$SEED THREADS=$THREADS PRECISION=$PRECISION ${MAX_MINUTES:+MAX_MINUTES=$MAX_MINUTES }\
${PRESET_FLAGS:+PRESET_FLAGS=\"$PRESET_FLAGS\" }${LIMIT:+LIMIT=$LIMIT }VARIANTS=$v experiments/multi30k_levers.sh"
}

for v in $VARIANTS; do
  [[ -v CHANGE[$v] ]] || { echo "unknown variant $v (known: ${!CHANGE[*]})" >&2; exit 2; }
done
for v in $VARIANTS; do launch screen "$v"; done
wait_all
(( failed == 0 ))
