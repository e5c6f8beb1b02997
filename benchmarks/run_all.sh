#!/usr/bin/env bash
# Every recorded number of issues 2, 3 and 4, in the order they were made. Results land in docs/results/.
# ITERS caps training iterations per network in the synthetic tables (see docs/results/README.md for why).
# Run on an idle machine.
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
# Ablations: the fast preset at its own lengths; --shard 0/1 saves after every image, --merge makes the table.
.venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" "$DATA/hr/set14" -s 2 -p fast --iters 0 --limit 10 \
  --shard 0/1 -o docs/results
.venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" "$DATA/hr/set14" -s 2 -p fast --iters 0 --limit 10 \
  --merge -o docs/results
.venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" "$DATA/hr/set14" -s 4 -p fast --iters 0 --limit 5 \
  --via-pipeline --shard 0/1 -o docs/results
.venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" "$DATA/hr/set14" -s 4 -p fast --iters 0 --limit 5 \
  --via-pipeline --merge -o docs/results
# The current tables of the fast preset (Set5): x2 every row, x4 rows 3-6 (docs/results/*_cap50.md).
for tag_args in "-s 2" "-s 4 --via-pipeline --rows 3,4,5,6"; do
  .venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" $tag_args -p fast --iters 0 --tag _cap50 \
    --shard 0/1 -o docs/results
  .venv/bin/python benchmarks/ablation.py --synthetic "$DATA/hr/set5" ${tag_args%% --*} -p fast --tag _cap50 \
    --merge -o docs/results
  rm -f docs/results/ablation_x*_cap50.shard*.json
done
.venv/bin/python benchmarks/speed.py -o docs/results
