# Shared by the experiment scripts (source it after setting PYTHON): the precision `auto` resolves to on this
# machine, and a pool that runs background jobs PARALLEL at a time and remembers any that failed.

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
