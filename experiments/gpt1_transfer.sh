#!/usr/bin/env bash
# GPT-1 fine-tuning of one task at CPU scale (GPT-1 §3.2, §3.3, §4.1; Table 5's "w/o pre-training" and "w/o aux LM"),
# settings chosen on a validation split carved from the task's training set, dev scored once for the choice.
#   0. the pre-trained model: PRETRAIN.  When its folder holds no finished run, it is made first: by the command
#      recorded in the committed summary of that name (results/**/BASENAME.json, experiments/pretrained_recipe.py),
#      so runs/gpt1_pretrain_ctx256_u4000 is the model the docs' numbers came from; a name with no summary gets
#      experiments/gpt1_pretrain.sh with the settings of the environment.  The same holds for each of PRETRAINS.
#   1. selection: HOLDOUT examples carved from TASK's training split with a fixed seed (`--holdout`; every run
#      trains on the rest); the pre-trained model with the auxiliary LM, first seed, fine-tuned for every
#      learning rate of LRS × budget of GRID (updates of 32 examples) × classifier dropout of CLF_DROPOUTS; the
#      best holdout score wins (accuracy where the task reports it, else its GPT-1 metric; ties: fewer updates,
#      then the lower learning rate, then the lower dropout).
#   2. dev, scored once, at the chosen setting: seeds SEEDS of each model of VARIANTS: `pretrained`, `scratch`
#      (the same model from random initialisation: same tokenizer, shape and budget) and `noaux` (the
#      pre-trained model without the auxiliary LM, λ = 0; VARIANTS="pretrained scratch" leaves it out)
#      → results/NAME.json (the grid, the choice, dev per seed, means).
#   PRETRAINS="DIR DIR ..." (instead of PRETRAIN): the pre-trained model is chosen on the holdout too.  Each
#      candidate's grid runs in OUT/BASENAME; the candidate whose best setting scores highest on the holdout wins
#      (a tie: the one listed first), and step 2 runs from it alone, so dev is still scored once.  The candidates'
#      grids run side by side and share the PARALLEL runs at a time (at least one each).
#   CHOOSE_ONLY=1: step 1 alone (with PRETRAINS or PRETRAIN) → results/NAME.json holds the grids and the choice,
#      no dev score; the same command without it goes on to step 2, keeping the finished grid runs, and its
#      summary's wall time is the two invocations' sum (a note in it says so).
#      Where the grids' runs are gone (a fresh clone), that command takes the choice from the summary on record
#      (RESULTS/NAME.json) and makes the chosen pre-trained model and its chosen run alone, whose holdout score the
#      new summary gives beside the recorded one.
#   Warm-up over 0.2% of the updates then linear decay to 0, bf16 where the CPU has it natively (else fp32);
#   PARALLEL runs at a time, one thread each.  Exits non-zero if any run fails (each run's status is checked).
#   Rerunning the same command after a stop keeps every finished run (one with its holdout score) and redoes the rest.
#
#   SST-2:   experiments/gpt1_sst2.sh   (TASK=sst2 with its grid)
#   RTE:     TASK=rte HOLDOUT=500 GRID="187 373" LRS="6.25e-5 2.5e-4" experiments/gpt1_transfer.sh
#   MRPC:    TASK=mrpc HOLDOUT=500 GRID="297 594" LRS="6.25e-5 2.5e-4" experiments/gpt1_transfer.sh
#   Story Cloze (§3.3 multiple choice; the paper fine-tunes on its 1,871 validation stories and reports test):
#            TASK=story_cloze DATA_DIR=../shared/data/story_cloze_RESTRICTED HOLDOUT=371 GRID="47 141" \
#              LRS="6.25e-5 2.5e-4" experiments/gpt1_transfer.sh
#   The split reported once is REPORT_SPLIT, by default the task's evaluation split in ronbun.gpt.finetune:
#   dev for GLUE tasks, dev_matched for MNLI, test for Story Cloze (whose "dev" is the split it trains on).
#   smoke:   TASK=rte HOLDOUT=10 GRID="1 2" SEEDS="0 1" GLUE=tiny/glue PRETRAIN=runs/tiny_pretrain experiments/gpt1_transfer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
TASK=${TASK:-sst2}
source experiments/jobs.sh
given=$(given_inputs "$(pretrain_var)" NAME DATA_DIR)  # the pre-trained model(s), the summary's name, the data, when given
DATA_DIR=${DATA_DIR:-${GLUE:-../shared/data/glue}}  # the task's folder or its parent (GLUE: the old name)
PRETRAIN=${PRETRAIN:-runs/gpt1_pretrain}
NAME=${NAME:-gpt1_$TASK}
OUT=${OUT:-runs/$NAME}
RESULTS=${RESULTS:-results}
HOLDOUT=${HOLDOUT:-1000}
GRID=${GRID:-587 881 1761}
LRS=${LRS:-1e-4}
CLF_DROPOUTS=${CLF_DROPOUTS:-0.1}
SEEDS=${SEEDS:-0 1 2}
VARIANTS=${VARIANTS:-pretrained scratch noaux}
PARALLEL=${PARALLEL:-2}
JOB_KIND="a fine-tuning run"
PRECISION=${PRECISION:-$(auto_precision)}
# the task's own evaluation split, as `ronbun gpt finetune` defines it (Story Cloze: test; MNLI: dev_matched; else dev)
REPORT_SPLIT=${REPORT_SPLIT:-$($PYTHON -c "from ronbun.gpt.finetune import DEFAULT_SPLITS as d; print(d.get('$TASK', ('train', 'dev'))[1])")}
read -r -a grid <<< "$GRID"
read -r -a lrs <<< "$LRS"
read -r -a drops <<< "$CLF_DROPOUTS"
read -r -a seeds <<< "$SEEDS"
read -r -a variants <<< "$VARIANTS"
[[ " $VARIANTS " == *" pretrained "* && " $VARIANTS " == *" scratch "* ]] || {
  echo "VARIANTS must name pretrained and scratch (the comparison every table makes)" >&2; exit 2; }
first=${seeds[0]}
name() { echo "$1_lr$2_d$3_u$4_s$5"; }  # variant lr clf_dropout updates seed
# the command as the summary records it (CHOOSE_ONLY=1 in it when given: the next invocation adds its wall time);
# a wrapper (gpt1_sst2.sh) or the PRETRAINS step hands its own down in COMMAND
COMMAND=${COMMAND:-${given}TASK=$TASK HOLDOUT=$HOLDOUT GRID=\"$GRID\" LRS=\"$LRS\" \
CLF_DROPOUTS=\"$CLF_DROPOUTS\" SEEDS=\"$SEEDS\" VARIANTS=\"$VARIANTS\"${CHOOSE_ONLY:+ CHOOSE_ONLY=1} experiments/gpt1_transfer.sh}
recorded="PRECISION=$PRECISION $COMMAND"
if [[ -n ${PRETRAINS:-} ]]; then  # the pre-trained model is chosen on the holdout too: each candidate's grid first
  export TRANSFER_START=$(date +%s) COMMAND  # the wall time counts the candidates' grids
  candidates=()
  grid_finished() {  # candidate folder: every grid run scored on the holdout (a rerun keeps finished runs)
    local lr d u
    for lr in "${lrs[@]}"; do for d in "${drops[@]}"; do for u in "${grid[@]}"; do
      [[ -s $1/$(name pretrained "$lr" "$d" "$u" "$first")/eval/holdout.json ]] || return 1
    done; done; done
  }
  pending=0  # candidates whose grid still has runs to make
  for c in $PRETRAINS; do grid_finished "$OUT/$(basename "$c")" || (( pending += 1 )); done
  share=$(( PARALLEL / (pending > 0 ? pending : 1) )); (( share >= 1 )) || share=1  # runs at a time per grid
  # a fresh clone: the holdout step on record (this command's CHOOSE_ONLY=1 summary in RESULTS) keeps its choice,
  # so dev needs the chosen model and its chosen run alone, not every candidate's pre-training and grid
  if [[ -z ${CHOOSE_ONLY:-} ]] && (( pending > 0 )) && kept=$($PYTHON experiments/gpt1_transfer_summary.py \
      recorded "$RESULTS/$NAME.json" --task "$TASK" --lrs "$LRS" --dropouts "$CLF_DROPOUTS" --grid "$GRID" \
      --command "$recorded" --pretrains "$PRETRAINS"); then
    read -r chosen lr d u <<< "$kept"
    echo "holdout step on record in $RESULTS/$NAME.json (this command with CHOOSE_ONLY=1): dev at its choice," \
      "$chosen, lr $lr, classifier dropout $d, $u updates; of the grids only that run is made again" \
      "(CHOOSE_ONLY=1 re-measures the whole step)"
    PRETRAINS="" PRETRAIN=$chosen OUT=$OUT/$(basename "$chosen") GRID=$u LRS=$lr CLF_DROPOUTS=$d \
      TRANSFER_SELECTION=$RESULTS/$NAME.json exec "$0"
  fi
  echo "candidates' grids with runs to make: $pending, $share run(s) at a time each"
  for c in $PRETRAINS; do make_pretrained "$c" || exit $?; done  # one after another, each with its recorded threads
  for c in $PRETRAINS; do  # all candidates at once, each in its own folder with its share of PARALLEL
    [[ " ${candidates[*]} " != *" $OUT/$(basename "$c") "* ]] || { echo "PRETRAINS: two named $(basename "$c")" >&2; exit 2; }
    candidates+=("$OUT/$(basename "$c")")
    PRETRAINS="" PRETRAIN=$c OUT=$OUT/$(basename "$c") GRID_ONLY=1 PARALLEL=$share "$0" & pids+=($!)
  done
  JOB_KIND="a candidate's grid" wait_all
  (( failed == 0 )) || exit 1
  if [[ -n ${CHOOSE_ONLY:-} ]]; then  # the holdout step alone: its own summary, no dev score
    mkdir -p "$RESULTS"
    exec $PYTHON experiments/gpt1_transfer_summary.py selection "${candidates[@]}" --task "$TASK" --lrs "$LRS" \
      --dropouts "$CLF_DROPOUTS" --grid "$GRID" --seed "$first" --name "$NAME" --command "$recorded" \
      --wall-seconds $(( $(date +%s) - TRANSFER_START )) --out "$RESULTS/$NAME.json"
  fi
  best=$($PYTHON experiments/gpt1_transfer_summary.py pick "${candidates[@]}" --task "$TASK" --lrs "$LRS" \
    --dropouts "$CLF_DROPOUTS" --grid "$GRID" --seed "$first")
  for c in $PRETRAINS; do [[ $OUT/$(basename "$c") == "$best" ]] && chosen=$c; done
  echo "pre-trained model chosen on the holdout: $chosen"
  PRETRAINS="" PRETRAIN=$chosen OUT=$best CANDIDATES="${candidates[*]}" exec "$0"
fi
start=${TRANSFER_START:-$(date +%s)}  # with PRETRAINS: since the candidates' grids began
make_pretrained "$PRETRAIN"
mkdir -p "$OUT"

finetune() {  # run name, flags...: a fresh fine-tuning run, then its holdout score (eval/holdout.json)
  local dir=$OUT/$1; shift
  rm -rf "$dir" && mkdir -p "$dir/eval"
  $RONBUN gpt finetune --init "$PRETRAIN" --task "$TASK" --data-dir "$DATA_DIR" --holdout "$HOLDOUT" \
    --threads 1 --precision "$PRECISION" --no-progress --log-every 100 --eval-every 0 --out "$dir" "$@" > "$dir/train.log" 2>&1
  $RONBUN gpt evaluate "$dir" --split holdout --json > "$dir/eval/holdout.json"
}
run() {  # run name, flags...: fine-tune in the pool, unless a finished run is there (a rerun resumes the script)
  if [[ -s $OUT/$1/eval/holdout.json ]]; then echo "done already: $OUT/$1"; else launch finetune "$@"; fi
}
score_dev() {  # run name: its score on the reported split (eval/dev.json, whichever split REPORT_SPLIT names)
  $RONBUN gpt evaluate "$OUT/$1" --split "$REPORT_SPLIT" --json > "$OUT/$1/eval/dev.json"
}

for lr in "${lrs[@]}"; do
  for d in "${drops[@]}"; do
    for u in "${grid[@]}"; do
      run "$(name pretrained "$lr" "$d" "$u" "$first")" --lr "$lr" --clf-dropout "$d" --max-steps "$u" --seed "$first"
    done
  done
done
wait_all
(( failed == 0 )) || exit 1
read -r lr d u < <($PYTHON experiments/gpt1_transfer_summary.py choose "$OUT" --task "$TASK" --lrs "$LRS" \
  --dropouts "$CLF_DROPOUTS" --grid "$GRID" --seed "$first")
echo "chosen on the holdout: lr $lr, classifier dropout $d, $u updates"
if [[ -n ${GRID_ONLY:-} ]]; then exit 0; fi  # a candidate of PRETRAINS: its grid is all that is asked
if [[ -n ${CHOOSE_ONLY:-} ]]; then  # one pre-trained model, the holdout step alone: its grid and choice, no dev
  mkdir -p "$RESULTS"
  exec $PYTHON experiments/gpt1_transfer_summary.py selection "$OUT" --task "$TASK" --lrs "$LRS" \
    --dropouts "$CLF_DROPOUTS" --grid "$GRID" --seed "$first" --name "$NAME" --command "$recorded" \
    --wall-seconds $(( $(date +%s) - start )) --out "$RESULTS/$NAME.json"
fi

final=()
for s in "${seeds[@]}"; do
  for variant in "${variants[@]}"; do
    final+=("$(name "$variant" "$lr" "$d" "$u" "$s")")
    case $variant in
      pretrained) flags=() ;;
      scratch) flags=(--from-scratch) ;;  # same tokenizer and shape, random weights
      noaux) flags=(--aux-lm 0) ;;
      *) echo "unknown variant $variant (pretrained, scratch, noaux)" >&2; exit 2 ;;
    esac
    if [[ $variant != pretrained || $s != "$first" ]]; then  # the first seed's pre-trained run is the grid's
      run "$(name "$variant" "$lr" "$d" "$u" "$s")" --lr "$lr" --clf-dropout "$d" --max-steps "$u" --seed "$s" "${flags[@]}"
    fi
  done
done
wait_all
for run in "${final[@]}"; do  # dev, once per final run (a failed run has no checkpoint to score)
  if [[ -d $OUT/$run/checkpoints ]]; then launch score_dev "$run"; fi
done
wait_all
(( failed == 0 )) || exit 1
$PYTHON experiments/gpt1_transfer_summary.py write "$OUT" --task "$TASK" --lrs "$LRS" --dropouts "$CLF_DROPOUTS" \
  --grid "$GRID" --seeds "$SEEDS" --variants "$VARIANTS" --chosen "$lr $d $u" ${CANDIDATES:+--candidates $CANDIDATES} --report-split "$REPORT_SPLIT" --name "$NAME" --wall-seconds $(( $(date +%s) - start )) \
  --out "$RESULTS/$NAME.json" --command "$recorded" ${TRANSFER_SELECTION:+--selection "$TRANSFER_SELECTION"}
