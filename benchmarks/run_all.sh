#!/usr/bin/env bash
# Every recorded number of issues 2, 3 and 4, in the order they were made. Results land in docs/results/.
# ITERS caps training iterations per network (see docs/results/README.md for why). Run on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
ITERS=${ITERS:-300}
for s in 2 4; do
  .venv/bin/python benchmarks/kernel_accuracy.py "$DATA/div2krk-dev" -s $s -o docs/results
done
for s in 2 4; do
  .venv/bin/solosr bench --synthetic "$DATA/hr/set5" "$DATA/hr/set14" -s $s -m bicubic,zssr,zssr-est,zssr-true \
    -p fast --iters "$ITERS" --seed 0 -o docs/results --name "synthetic_set5_set14_x$s"
done
.venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" -s 2 --iters "$ITERS" -o docs/results
.venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" -s 4 --iters "$ITERS" --limit 3 --via-pipeline \
  -o docs/results
.venv/bin/python benchmarks/speed.py -o docs/results
