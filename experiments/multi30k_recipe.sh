# The Multi30k recipe's training flags, in one place (source it): experiments/multi30k.sh trains with them and
# experiments/multi30k_levers.sh screens changes to them.  Reads DATA, UPDATES, SEED, DROPOUT, LABEL_SMOOTHING,
# THREADS, PRECISION.  The recipe's defaults (each overridable from the environment), chosen on the validation split
# (docs/results.md, "What each lever was worth"): 5,400 updates fit 60 min of training on 2 AVX-512 BF16 threads
# (0.64 s an update); residual dropout 0.2 and label smoothing 0.2 beat the paper's 0.1/0.1 on valid BLEU.
DATA=${DATA:-../shared/data/multi30k}
UPDATES=${UPDATES:-5400}
SEED=${SEED:-0}
DROPOUT=${DROPOUT:-0.2}
LABEL_SMOOTHING=${LABEL_SMOOTHING:-0.2}
# usage: multi30k_train OUT_DIR [extra `ronbun mt train` flags; a later flag overrides the recipe's]
multi30k_train() {
  local out=$1; shift
  $RONBUN mt train --out "$out" --dataset multi30k --data-dir "$DATA" --vocab-size 8000 \
    --preset small --set dropout="$DROPOUT" --set label_smoothing="$LABEL_SMOOTHING" --max-tokens 2500 --lr 1.0 --warmup 800 --seed "$SEED" \
    --max-steps "$UPDATES" --max-minutes "${MAX_MINUTES:-120}" --save-every $((UPDATES / 20)) \
    --keep-last "${KEEP_LAST:-5}" --eval-every 500 --valid-bleu-sentences "${VALID_BLEU_SENTENCES:-300}" \
    --threads "$THREADS" --precision "$PRECISION" --no-progress --log-every 50 "$@"
}
