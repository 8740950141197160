#!/usr/bin/env bash
# Choose the length penalty α (GNMT, §6.1 uses 0.6) of a finished Multi30k run on the VALIDATION split, then
# score test2016 once with the chosen α.   experiments/multi30k_alpha.sh RUN_DIR   (called by multi30k.sh)
#   averaged checkpoint, beam 4; candidates ALPHAS (default "0.6 1.0 1.5"); writes RUN/eval/alpha_choice.json
#   and RUN/eval/averaged_{valid,test}_beam4_alpha<α>.json, which experiments/summarize.py collects.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?usage: experiments/multi30k_alpha.sh RUN_DIR}
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data/multi30k}
THREADS=${THREADS:-2}
ALPHAS=${ALPHAS:-0.6 1.0 1.5}
evaluate() {  # split alpha (α 0.6 on valid is already scored by multi30k.sh: reused)
  local done=$RUN/eval/averaged_$1_beam4.json
  if [[ $2 == 0.6 && -f $done ]]; then cp "$done" "$RUN/eval/averaged_$1_beam4_alpha$2.json"; return; fi
  $RONBUN mt evaluate "$RUN/averaged" --dataset multi30k --data-dir "$DATA" --split "$1" --beam 4 --alpha "$2" \
    --threads "$THREADS" --json "$RUN/eval/averaged_$1_beam4_alpha$2.json" > /dev/null
}
mkdir -p "$RUN/eval"
for alpha in $ALPHAS; do evaluate valid "$alpha"; done
best=$($PYTHON - "$RUN/eval" $ALPHAS <<'PY'
import json, sys
from pathlib import Path
folder, alphas = Path(sys.argv[1]), sys.argv[2:]
valid = {a: json.loads((folder / f"averaged_valid_beam4_alpha{a}.json").read_text())["raw"]["sacrebleu"] for a in alphas}
best = max(alphas, key=lambda a: (valid[a], -alphas.index(a)))  # ties go to the earlier (the paper's) value
(folder / "alpha_choice.json").write_text(json.dumps({"split": "valid", "metric": "cased sacreBLEU, beam 4",
                                                       "candidates": valid, "alpha": best}, indent=2) + "\n")
print(best)
PY
)
evaluate test "$best"
echo "α chosen on valid: $best"
