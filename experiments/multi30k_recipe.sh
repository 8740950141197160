# The Multi30k recipe's training flags, in one place (source it): experiments/multi30k.sh trains with them and
# experiments/multi30k_levers.sh screens changes to them.  Reads DATA, UPDATES, SEED, DROPOUT, THREADS, PRECISION.
# The recipe's defaults (each overridable from the environment):
DATA=${DATA:-../shared/data/multi30k}
UPDATES=${UPDATES:-6600}
SEED=${SEED:-0}
DROPOUT=${DROPOUT:-0.1}
# usage: multi30k_train OUT_DIR [extra `ronbun mt train` flags; a later flag overrides the recipe's]
multi30k_train() {
  local out=$1; shift
  $RONBUN mt train --out "$out" --dataset multi30k --data-dir "$DATA" --vocab-size 8000 \
    --preset small --set dropout="$DROPOUT" --max-tokens 2500 --lr 1.0 --warmup 800 --seed "$SEED" \
    --max-steps "$UPDATES" --max-minutes "${MAX_MINUTES:-120}" --save-every $((UPDATES / 20)) \
    --keep-last "${KEEP_LAST:-5}" --eval-every 500 --valid-bleu-sentences "${VALID_BLEU_SENTENCES:-300}" \
    --threads "$THREADS" --precision "$PRECISION" --no-progress --log-every 50 "$@"
}
