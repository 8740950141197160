#!/usr/bin/env bash
# GPT-1 SST-2 fine-tuning at CPU scale: experiments/gpt1_transfer.sh with SST-2's selection grid.
#   HOLDOUT=1000 whole sentences of SST-2 train (its phrases are dropped from training with them: every run trains
#   on the other 56,350 examples); GRID = 587, 881 and 1,761 updates of 32 examples (1/3, 1/2 and 1 epoch) at lr
#   1e-4 and classifier dropout 0.1; dev (872) scored once for the
#   budget chosen on the holdout, seeds 0, 1, 2 × {pre-trained, random initialisation, no auxiliary LM}
#   → results/gpt1_sst2.json.  Every variable of gpt1_transfer.sh can be overridden the same way.
#
#   full run:       experiments/gpt1_sst2.sh
#   smoke test:     HOLDOUT=10 GRID="1 2" SEEDS="0 1" GLUE=tiny/glue PRETRAIN=runs/tiny_pretrain experiments/gpt1_sst2.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TASK=sst2 HOLDOUT=${HOLDOUT:-1000} GRID=${GRID:-587 881 1761} LRS=${LRS:-1e-4} CLF_DROPOUTS=${CLF_DROPOUTS:-0.1}
export SEEDS=${SEEDS:-0 1 2} VARIANTS=${VARIANTS:-pretrained scratch noaux}
source experiments/jobs.sh
given=$(given_inputs "$(pretrain_var)" NAME)  # the pre-trained model and the summary's name, when given
export COMMAND=${COMMAND:-${given}HOLDOUT=$HOLDOUT GRID=\"$GRID\" LRS=\"$LRS\" CLF_DROPOUTS=\"$CLF_DROPOUTS\" SEEDS=\"$SEEDS\" VARIANTS=\"$VARIANTS\"${CHOOSE_ONLY:+ CHOOSE_ONLY=1} experiments/gpt1_sst2.sh}
exec experiments/gpt1_transfer.sh
