# Shared by the experiment scripts (source it after setting PYTHON): the precision `auto` resolves to on this
# machine, a pool that runs background jobs PARALLEL at a time and remembers any that failed, and the pre-trained
# model a fine-tuning script starts from, made by its recorded command when runs/ does not hold it yet.

# bf16 where the CPU has it natively, else fp32 (emulated bf16 is about five times slower); recorded in commands
auto_precision() {
  $PYTHON -c "import torch; from ronbun.training.loop import resolve_precision; print(resolve_precision('auto', torch.device('cpu')))"
}

# "VAR=value " for each named variable that is set (quoted when it holds spaces): the inputs a reader must set
# to rerun a command
given_inputs() {
  local name out=""
  for name in "$@"; do
    if [[ ${!name:-} == *" "* ]]; then out+="$name=\"${!name}\" "; elif [[ -n ${!name:-} ]]; then out+="$name=${!name} "; fi
  done
  printf '%s' "$out"
}

# " ARG ..." as a summary records the arguments (nothing when none): --resume continues a stopped run, it is
# not part of the recipe
recorded_args() {
  local arg out=()
  for arg in "$@"; do [[ $arg == --resume ]] || out+=("$arg"); done
  printf '%s' "${out[*]:+ ${out[*]}}"
}

pids=() failed=0
launch() {  # run a command in the background, at most PARALLEL at a time
  if (( ${#pids[@]} >= ${PARALLEL:-1} )); then wait_one; fi
  "$@" & pids+=($!)
  echo "started: $* (pid $!)"
}
wait_one() {  # wait for the oldest background job; a failed one fails the script (a bare `wait` would not)
  local pid=${pids[0]}
  pids=("${pids[@]:1}")
  wait "$pid" || { echo "${JOB_KIND:-a job} failed (pid $pid)" >&2; failed=1; }
}
wait_all() { while (( ${#pids[@]} )); do wait_one; done; }

# the variable that names the pre-trained model(s): PRETRAINS (candidates chosen on the holdout) when given
pretrain_var() { if [[ -n ${PRETRAINS:-} ]]; then echo PRETRAINS; else echo PRETRAIN; fi; }

# the pre-trained model in folder DIR, made now unless the folder holds a finished run (summary.json): by the
# command recorded in the committed summary of that name (RECIPES, by default results/; see
# experiments/pretrained_recipe.py), so a fresh clone makes the model the docs' numbers came from; a name with no
# summary gets experiments/gpt1_pretrain.sh with the environment's settings, except among PRETRAINS (an error)
make_pretrained() {
  [[ -f $1/summary.json ]] && return 0
  local recipe status=0 find=(experiments/pretrained_recipe.py "$(basename "$1")" --results "${RECIPES:-results}")
  recipe=$($PYTHON "${find[@]}" 2>/dev/null) || status=$?
  if (( status == 2 )); then $PYTHON "${find[@]}" >/dev/null; return 2; fi  # its error: summaries that disagree
  if (( status == 0 )); then
    echo "making the pre-trained model $1 by its recorded command: $recipe"
    # the recorded settings replace the environment's; its summary stays in the run folder, the committed one untouched
    env -u REPEAT_EVERY -u SET OUT="$1" NAME="$(basename "$1")" RESULTS="$1" bash -c "$recipe" || return 1
  elif [[ -n ${PRETRAINS:-} ]]; then
    echo "PRETRAINS: $1 holds no pre-trained model (summary.json), and no summary under ${RECIPES:-results}/ says how to make it" >&2
    return 2
  else  # a new name: the pre-training script with the environment's settings
    OUT=$1 NAME=gpt1_pretrain RESULTS=${RESULTS:-results} experiments/gpt1_pretrain.sh
  fi
}
