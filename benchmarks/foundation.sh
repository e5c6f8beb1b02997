#!/usr/bin/env bash
# Issue 2's recorded numbers: synthetic Set5 + Set14 (DIV2KRK-protocol kernels, seed 0), x2 and x4,
# bicubic vs ZSSR (bicubic kernel) vs ZSSR (true kernel), preset fast. Writes docs/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/hr}
for s in 2 4; do
  .venv/bin/solosr bench --synthetic "$DATA/set5" "$DATA/set14" -s $s -m bicubic,zssr,zssr-true \
    -p fast --seed 0 -o docs/results --name "foundation_x$s"
done
