#!/usr/bin/env bash
# The benchmark suite on one CUDA GPU (bf16 autocast training, SDPA FlashAttention where it applies, fp32
# decoding with outputs asserted identical to Hugging Face generate).  Prepared for a GPU machine; see
# docs/performance.md ("GPU") for whether it has been run.
#
#   bash benchmarks/gpu.sh            # needs a CUDA build of torch and transformers in the active environment
#
# Writes benchmarks/results/gpu.{json,md}.  Typical wall time on a recent data-centre GPU: a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
"$PY" - <<'EOF'
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"torch {torch.__version__} sees no CUDA device; install a CUDA build of torch on a GPU machine")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name()}", flush=True)
EOF
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv || true
exec "$PY" -m benchmarks.gpu "$@"
