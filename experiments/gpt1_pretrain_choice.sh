#!/usr/bin/env bash
# Which pre-trained model GPT-1's fine-tuning starts from, chosen on a validation split (GPT-1 §3.1, §4.1): every
# candidate pre-training is fine-tuned on SST-2 at the setting experiments/gpt1_sst2.sh chose on its holdout and
# scored on that holdout only (never on dev) → results/NAME.json (each candidate's held-out perplexities, its
# holdout accuracy, the choice).
#   candidates CANDIDATES: NAME:SCHEDULE[:CHANGES], each experiments/gpt1_pretrain.sh's recipe (759 updates) with its
#   cosine schedule planned over SCHEDULE updates: 1000 is the recipe's (stopped at 759, the learning rate still
#   at 16 % of its peak), 759 anneals it to 0 at the last update.  CHANGES, comma-separated KEY=VALUE, change
#   the recipe's shape: `batch` (windows per update), `n_ctx` (tokens per window) and `updates` (the budget), any
#   other key a model setting (`n_layers`, `d_model`, `n_heads`, `d_ff`, ...).  A candidate whose runs/NAME holds a finished
#   pre-training is not trained again; a stopped pre-training or fine-tuning continues from its newest checkpoint.
#   Same budget, other shapes (tokens per update and per-token FLOPs kept, see docs/results.md):
#     CANDIDATES="gpt1_pretrain:1000 gpt1_pretrain_deep:1000:n_layers=8,d_model=192,d_ff=768 \
#                 gpt1_pretrain_ctx256:1000:n_ctx=256,batch=16" experiments/gpt1_pretrain_choice.sh
#   Twice the budget, the same schedule shape (stopped at 76 % of the planned cosine):
#     CANDIDATES="... gpt1_pretrain_ctx256_2x:2000:n_ctx=256,batch=16,updates=1518" experiments/gpt1_pretrain_choice.sh
#   PARALLEL candidates run at a time (default 2), each on one thread: its pre-training (log: runs/NAME.log), then
#   its fine-tuning.  Exits non-zero if any of them fails.
#   fine-tuning: SST-2 minus its 1,000-sentence holdout, lr 1e-4, classifier dropout 0.1, 1,761 updates, seed 0
#   (SST-2's declared setting); the highest holdout accuracy wins (a tie: the earlier candidate).
#
#   full run:   experiments/gpt1_pretrain_choice.sh
#   smoke:      CANDIDATES="a:2 b:3" UPDATES=2 PRESET=tiny N_CTX=32 BATCH=4 VOCAB=300 DATA=tiny/ GLUE=tiny/glue \
#               HOLDOUT=10 FINETUNE_UPDATES=1 experiments/gpt1_pretrain_choice.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
CANDIDATES=${CANDIDATES:-gpt1_pretrain:1000 gpt1_pretrain_annealed:759}
GLUE=${GLUE:-../shared/data/glue}
HOLDOUT=${HOLDOUT:-1000}
FINETUNE_UPDATES=${FINETUNE_UPDATES:-1761}
LR=${LR:-1e-4}
CLF_DROPOUT=${CLF_DROPOUT:-0.1}
NAME=${NAME:-gpt1_pretrain_choice}
OUT=${OUT:-runs/$NAME}
RUNS=${RUNS:-runs}
RESULTS=${RESULTS:-results}
PARALLEL=${PARALLEL:-2}
source experiments/jobs.sh
JOB_KIND="a candidate (pre-training or fine-tuning)"
PRECISION=${PRECISION:-$(auto_precision)}
export PRECISION
start=$(date +%s)
mkdir -p "$OUT"
candidate() {  # NAME SCHEDULE CHANGES: its pre-training (unless finished), then the SST-2 fine-tuning from it
  local name=$1 schedule=$2 changes=$3 dir=$OUT/$1 vars model=() pairs kv again=()
  if [[ ! -f $RUNS/$name/summary.json ]]; then  # the pre-training (its summary stays in its own folder)
    if [[ -d $RUNS/$name/checkpoints ]]; then again=(--resume); else rm -rf "${RUNS:?}/$name"; fi  # a stopped one continues
    vars=(SCHEDULE="$schedule" NAME="$name" OUT="$RUNS/$name" RESULTS="$RUNS/$name" THREADS=1)
    IFS=, read -r -a pairs <<< "$changes"
    for kv in ${pairs[@]+"${pairs[@]}"}; do
      case ${kv%%=*} in
        batch) vars+=(BATCH="${kv#*=}") ;;
        n_ctx) vars+=(N_CTX="${kv#*=}") ;;
        updates) vars+=(UPDATES="${kv#*=}") ;;
        *) model+=("$kv") ;;
      esac
    done
    env "${vars[@]}" SET="${model[*]}" experiments/gpt1_pretrain.sh ${again[@]+"${again[@]}"} >> "$RUNS/$name.log" 2>&1
  fi
  if [[ -s $dir/eval/holdout.json ]]; then echo "done already: $dir"; return 0; fi
  again=()
  if [[ -d $dir/checkpoints ]]; then again=(--resume); else rm -rf "$dir"; fi  # a stopped fine-tuning continues
  mkdir -p "$dir/eval"
  $RONBUN gpt finetune --init "$RUNS/$name" --task sst2 --data-dir "$GLUE" --holdout "$HOLDOUT" \
    --threads 1 --precision "$PRECISION" --no-progress --log-every 100 --eval-every 0 --out "$dir" \
    --lr "$LR" --clf-dropout "$CLF_DROPOUT" --max-steps "$FINETUNE_UPDATES" --seed 0 ${again[@]+"${again[@]}"} \
    >> "$dir/train.log" 2>&1
  $RONBUN gpt evaluate "$dir" --split holdout --json > "$dir/eval/holdout.json"
}
mkdir -p "$RUNS"
for spec in $CANDIDATES; do  # PARALLEL candidates at a time, one thread each
  IFS=: read -r name schedule changes <<< "$spec"
  launch candidate "$name" "$schedule" "${changes:-}"
done
wait_all
(( failed == 0 )) || exit 1
$PYTHON experiments/gpt1_pretrain_choice_summary.py "$OUT" --runs "$RUNS" --candidates "$CANDIDATES" --name "$NAME" \
  --wall-seconds $(( $(date +%s) - start )) --out "$RESULTS/$NAME.json" \
  --command "PRECISION=$PRECISION CANDIDATES=\"$CANDIDATES\" HOLDOUT=$HOLDOUT FINETUNE_UPDATES=$FINETUNE_UPDATES LR=$LR \
CLF_DROPOUT=$CLF_DROPOUT experiments/gpt1_pretrain_choice.sh"
