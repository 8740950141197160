#!/usr/bin/env bash
# Choose how a finished Multi30k run decodes, on the VALIDATION split, then score test2016 once with the choice.
#   experiments/multi30k_alpha.sh RUN_DIR      (called by multi30k.sh)
#   Candidates: MODELS × BEAMS × ALPHAS (default "averaged" × "4 8" × "0.6 1.0 1.5"; §6.1 uses beam 4, α 0.6).
#   Models: `averaged`, the weight average of the last 5 checkpoints (§6.1, RUN/averaged); `ensemble`, the same 5
#   checkpoints decoded together, their next-token probabilities averaged at every step (ronbun mt evaluate with
#   several checkpoints; five times the decoding work).  The highest cased sacreBLEU on valid wins (for a model
#   trained in literature mode, lower-cased tokenised text, the highest lc-tok BLEU: its output has no case to
#   score); ties: the earlier model in MODELS, then the smaller beam, then the smaller α.  Writes
#   RUN/eval/alpha_choice.json and RUN/eval/<model>_{valid,test}_beam<B>_alpha<α>.json, which
#   experiments/summarize.py collects.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?usage: experiments/multi30k_alpha.sh RUN_DIR}
RONBUN=${RONBUN:-.venv/bin/ronbun}
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data/multi30k}
THREADS=${THREADS:-2}
MODELS=${MODELS:-averaged}
BEAMS=${BEAMS:-4 8}
ALPHAS=${ALPHAS:-0.6 1.0 1.5}
checkpoints() {  # the checkpoint folder(s) a model decodes with
  case $1 in
    averaged) echo "$RUN/averaged" ;;
    ensemble) ls -d "$RUN"/checkpoints/step_* | tail -n 5 ;;
    *) echo "unknown model '$1' in MODELS (averaged, ensemble)" >&2; return 2 ;;
  esac
}
evaluate() {  # model split beam alpha (the average at beam 4, α 0.6 is already scored by multi30k.sh: reused)
  local out=$RUN/eval/$1_$2_beam$3_alpha$4.json done=$RUN/eval/$1_$2_beam$3.json paths
  if [[ -f $out ]]; then return; fi
  if [[ $1 == averaged && $3 == 4 && $4 == 0.6 && -f $done ]]; then cp "$done" "$out"; return; fi
  paths=$(checkpoints "$1")
  # shellcheck disable=SC2086  # one argument per checkpoint folder
  $RONBUN mt evaluate $paths --dataset multi30k --data-dir "$DATA" --split "$2" --beam "$3" --alpha "$4" \
    --threads "$THREADS" --json "$out" > /dev/null
}
mkdir -p "$RUN/eval"
for model in $MODELS; do checkpoints "$model" > /dev/null; done
for model in $MODELS; do for beam in $BEAMS; do for alpha in $ALPHAS; do
  evaluate "$model" valid "$beam" "$alpha"
done; done; done
read -r model beam alpha < <($PYTHON - "$RUN" "$MODELS" "$BEAMS" "$ALPHAS" <<'PY'
import json, sys
from pathlib import Path
run, models, beams, alphas = Path(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()
folder = run / "eval"
config = run / "run_config.json"
literature = config.is_file() and bool(json.loads(config.read_text())["data"].get("lowercase_tokenized"))
metric, part, key = ("lc-tok BLEU", "lowercase_tokenised", "tokenised_bleu") if literature else (
    "cased sacreBLEU", "raw", "sacrebleu")
def valid(m: str, b: str, a: str) -> float:
    return json.loads((folder / f"{m}_valid_beam{b}_alpha{a}.json").read_text())[part][key]
grid = [(m, b, a) for m in models for b in beams for a in alphas]  # in order: ties go to the earlier candidate
model, beam, alpha = max(grid, key=lambda g: (valid(*g), -grid.index(g)))
by_model = {m: {b: {a: valid(m, b, a) for a in alphas} for b in beams} for m in models}
choice = {"split": "valid", "metric": metric, "model": model, "beam": beam, "alpha": alpha,
          "candidates_by_beam": by_model[model]}
if models != ["averaged"]:
    choice["candidates_by_model"] = by_model
(folder / "alpha_choice.json").write_text(json.dumps(choice, indent=2) + "\n")
print(model, beam, alpha)
PY
)
evaluate "$model" test "$beam" "$alpha"
echo "chosen on valid: $model, beam $beam, α $alpha"
