#!/usr/bin/env bash
# Every recorded number of issues 2, 3 and 4, in order. Results land in docs/results/.
# ITERS caps training iterations per network (see docs/results/README.md for why).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
ITERS=${ITERS:-300}
if [ -z "${SKIP_KERNELS:-}" ]; then
  for s in 2 4; do
    .venv/bin/python benchmarks/kernel_accuracy.py "$DATA/div2krk-dev" -s $s -o docs/results
  done
fi
for s in 2 4; do
  .venv/bin/solosr bench --synthetic "$DATA/hr/set5" "$DATA/hr/set14" -s $s -m bicubic,zssr,zssr-est,zssr-true \
    -p fast --iters "$ITERS" --seed 0 -o docs/results --name "synthetic_set5_set14_x$s"
done
for s in 2 4; do
  .venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" -s $s --iters "$ITERS" -o docs/results
done
