#!/usr/bin/env bash
# `make gpu-check`: the check to run whenever a CUDA machine is at hand (under 10 minutes).
#   1. the tests marked `cuda` (model, LRN, columns and DDP on GPU vs CPU; checkpoint resume
#      on GPU bitwise; pinned-memory copies);
#   2. 2 x 50 steps of the `paper` preset on 227x227 batches made on the GPU, one GPU;
#   3. with two GPUs, the same under torchrun in both two-process modes (columns, ddp);
# each of 2-3 printing images/s, peak memory and the share of the vendor's peak.
# Without CUDA it prints one line and exits 0. PYTHON= picks the interpreter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || py=python3
if ! gpus=$("$py" -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)" 2>/dev/null); then
  echo "gpu-check: cannot import torch with $py (make venv first, or set PYTHON=)"
  exit 1
fi
if [ "$gpus" = 0 ]; then
  echo "gpu-check: no CUDA device here (torch.cuda.is_available() is False); nothing to check"
  exit 0
fi
cd "$root"
export PYTHONWARNINGS=ignore OMP_NUM_THREADS=4
echo "gpu-check: $gpus CUDA device(s): $("$py" -c "import torch; print(torch.cuda.get_device_name(0))")"
timeout 300 "$py" -m pytest -q -p no:cacheprovider -m cuda
timeout 90 "$py" -m alexnet.bench.pipeline gpu
if [ "$gpus" -ge 2 ]; then
  for mode in columns ddp; do
    timeout 90 "$py" -m torch.distributed.run --standalone --nproc_per_node=2 \
      -m alexnet.bench.pipeline gpu "parallel=$mode"
  done
else
  echo "gpu-check: one GPU: the two-process modes (parallel=columns, parallel=ddp) need two"
fi
