#!/usr/bin/env bash
# Choose the beam size and the length penalty α (§6.1 uses beam 4, α 0.6) of a finished Multi30k run on the
# VALIDATION split, then score test2016 once with the choice.   experiments/multi30k_alpha.sh RUN_DIR
#   (called by multi30k.sh) averaged checkpoint; candidates BEAMS × ALPHAS (default "4 8" × "0.6 1.0 1.5");
#   the highest cased sacreBLEU on valid wins (for a model trained in literature mode, lower-cased tokenised
#   text, the highest lc-tok BLEU: its output has no case to score); ties: the smaller beam, then the smaller α; writes
#   RUN/eval/alpha_choice.json and RUN/eval/averaged_{valid,test}_beam<B>_alpha<α>.json, which
#   experiments/summarize.py collects.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?usage: experiments/multi30k_alpha.sh RUN_DIR}
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data/multi30k}
THREADS=${THREADS:-2}
BEAMS=${BEAMS:-4 8}
ALPHAS=${ALPHAS:-0.6 1.0 1.5}
evaluate() {  # split beam alpha (beam 4, α 0.6 is already scored by multi30k.sh: reused)
  local out=$RUN/eval/averaged_$1_beam$2_alpha$3.json done=$RUN/eval/averaged_$1_beam$2.json
  if [[ -f $out ]]; then return; fi
  if [[ $2 == 4 && $3 == 0.6 && -f $done ]]; then cp "$done" "$out"; return; fi
  $RONBUN mt evaluate "$RUN/averaged" --dataset multi30k --data-dir "$DATA" --split "$1" --beam "$2" --alpha "$3" \
    --threads "$THREADS" --json "$out" > /dev/null
}
mkdir -p "$RUN/eval"
for beam in $BEAMS; do for alpha in $ALPHAS; do evaluate valid "$beam" "$alpha"; done; done
read -r beam alpha < <($PYTHON - "$RUN" "$BEAMS" "$ALPHAS" <<'PY'
import json, sys
from pathlib import Path
run, beams, alphas = Path(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split()
folder = run / "eval"
config = run / "run_config.json"
literature = config.is_file() and bool(json.loads(config.read_text())["data"].get("lowercase_tokenized"))
metric, part, key = ("lc-tok BLEU", "lowercase_tokenised", "tokenised_bleu") if literature else (
    "cased sacreBLEU", "raw", "sacrebleu")
def valid(b: str, a: str) -> float:
    return json.loads((folder / f"averaged_valid_beam{b}_alpha{a}.json").read_text())[part][key]
grid = [(b, a) for b in beams for a in alphas]  # in order: ties go to the smaller beam, then the smaller α
beam, alpha = max(grid, key=lambda g: (valid(*g), -grid.index(g)))
choice = {"split": "valid", "metric": metric, "beam": beam, "alpha": alpha,
          "candidates_by_beam": {b: {a: valid(b, a) for a in alphas} for b in beams}}
(folder / "alpha_choice.json").write_text(json.dumps(choice, indent=2) + "\n")
print(beam, alpha)
PY
)
evaluate test "$beam" "$alpha"
echo "chosen on valid: beam $beam, α $alpha"
