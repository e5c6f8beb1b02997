#!/usr/bin/env bash
# The GPU checks and GPU-run tables of issues 4 and 5, as run on a lent GPU machine (one command each):
#
#   bash benchmarks/gpu_run.sh smoke           # CUDA tests, the whole suite, GPU speed, parallel scaling
#   bash benchmarks/gpu_run.sh main SECONDS    # the heavy tables, all at once, each cut off after SECONDS
#   bash benchmarks/gpu_run.sh all SECONDS     # the tests (stop if the CUDA ones fail), main, then the probe
#   bash benchmarks/gpu_run.sh check SECONDS   # CUDA tests, the stuck-net probe, GPU speed, then wide
#                                              # teachers on Set5+Set14 x2 (one process per image)
#   bash benchmarks/gpu_run.sh div2k SECONDS SCALE  # fast vs balanced, ZSSR and kd, on .devdata/div2k
#                                              # (larger inputs), one process per image and preset
#   bash benchmarks/gpu_run.sh variants SECONDS ROWS SCALE:TAG:CHANGES...  # config changes on .devdata/div2k
#   bash benchmarks/gpu_run.sh pdelay SECONDS  # the teacher's preprocessing module's wait: Set5+Set14 x2 rows 5, 6,
#                                              # x4 row 6, and DIV2K im_19 x2 seed 2 (39 processes)
#   bash benchmarks/gpu_run.sh infer SECONDS   # x4 rows 3, 6 with and without the kernel's ensemble + 2 BP
#                                              # steps (Set5, Set14, DIV2K), Set14 x2 inference variants
#   bash benchmarks/gpu_run.sh tables SECONDS  # fast-preset ablations: x2 Set5+Set14 (one process per image),
#                                              # x4 Set5 (one per image and group of rows), 34 processes
#
# Needs: python3 with torch (CUDA), numpy, scipy, Pillow, tifffile, tqdm, scikit-image; faiss-cpu and
# pypng as wheels in .whl/ (installed to /tmp/site); Set5/Set14 HR and the real images in .devdata/
# (copies of ../shared/data/hr and ../shared/data/real). Results go to $OUT (or ./gpu_out).
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT/res"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
fi
export PYTHONPATH="$PWD/src:/tmp/site" PYTHONUNBUFFERED=1
phase=${1:-smoke}
# Only a few files come back from $OUT, and nothing from an earlier call: the phases that pack write
# everything under $R into one archive, re-packed while they run so a call cut off still returns it.
pack() { tar czf "$OUT/.results.tgz" -C "$R" . && mv "$OUT/.results.tgz" "$OUT/results.tgz"; }

if [ "$phase" = all ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  OMP_NUM_THREADS=4 python3 -m pytest -q -x -p no:cacheprovider tests/test_cuda.py 2>&1 | tail -15
  [ "${PIPESTATUS[0]}" = 0 ] || exit 1
  OMP_NUM_THREADS=4 python3 -m pytest -q -p no:cacheprovider tests 2>&1 | tail -8
  [ "${PIPESTATUS[0]}" = 0 ] || exit 1  # tests run on the GPU here (device "auto"): all must pass
  bash "$0" main "${2:-420}"
  python3 benchmarks/gpu_probe.py 2>&1 | tee "$OUT/res/gpu_probe.txt"
  tar czf "$OUT/results.tgz" -C "$OUT" res
  exit 0
fi

if [ "$phase" = smoke ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, numpy, faiss; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
  OMP_NUM_THREADS=4 python3 -m pytest -q -p no:cacheprovider tests 2>&1 | tail -5
  python3 benchmarks/gpu_probe.py 2>&1 | tee "$OUT/res/gpu_probe.txt"
  exit 0
fi

if [ "$phase" = check ]; then
  # Third loan: each part cut off on its own.
  R=/tmp/gpu_res; D=.devdata; mkdir -p "$R"
  ( while sleep 30; do pack; done ) & packer=$!
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$R/gpu.txt"
  python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)" | tee -a "$R/gpu.txt"
  OMP_NUM_THREADS=4 timeout 90 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 | tail -5
  timeout 150 python3 benchmarks/gpu_probe.py 2>&1 | tee "$R/gpu_probe.txt"
  # In parallel: the whole suite on the GPU, the stuck net of the second loan (now with the restart),
  # and teachers of twice the width distilled into the default student.
  OMP_NUM_THREADS=2 timeout "${2:-240}" python3 -m pytest -q -p no:cacheprovider tests > "$R/suite.log" 2>&1 & pids=$!
  OMP_NUM_THREADS=1 timeout "${2:-240}" python3 benchmarks/cuda_dead_probe.py set14/img_009_SRF_2_HR cuda --all \
      > "$R/dead_probe.log" 2>&1 & pids="$pids $!"
  for k in $(seq 0 18); do
    OMP_NUM_THREADS=1 timeout "${2:-240}" python3 benchmarks/kd_variants.py teachers -s 2 \
        --synthetic $D/hr/set5 $D/hr/set14 --device cuda --shard $k/19 -o "$R/kdv_$k.json" \
        -v "" -v "net.width=128,distill.student_init=scratch,distill.student_iters=1" \
        -v "distill.teacher_pre_depth=0,net.width=128" > "$R/kdv_$k.log" 2>&1 & pids="$pids $!"
  done
  wait $pids
  tail -3 "$R/suite.log"; grep -h "amp\|^set14" "$R/dead_probe.log"; cat "$R"/kdv_*.log | grep -v "^T \|^E \|^S "
  kill $packer; pack
  exit 0
fi

if [ "$phase" = div2k ]; then
  # Fourth loan: the default preset on larger inputs. HR = the first N DIV2KRK x2 inputs in .devdata/div2k
  # (about 1020x680, real photographs), inputs about 255x170 at x4, 510x340 at x2, DIV2KRK-protocol
  # kernels; ZSSR and kd, preset fast against balanced; one process per image and preset.
  s=${3:-4}
  R=/tmp/gpu_res; D=.devdata; mkdir -p "$R"; n=$(ls $D/div2k/*.png | wc -l)
  ( while sleep 30; do pack; done ) & packer=$!
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$R/gpu.txt"
  for p in fast balanced; do
    for k in $(seq 0 $((n - 1))); do
      OMP_NUM_THREADS=1 timeout "${2:-420}" python3 benchmarks/ablation.py --synthetic $D/div2k -s $s -p $p \
          --iters 0 --device cuda --via-pipeline --rows 3,6 --shard $k/$n --tag _div2k_$p -o "$R" \
          > "$R/${p}_$k.log" 2>&1 & pids="${pids:-} $!"
    done
  done
  wait $pids  # not the packer
  for p in fast balanced; do
    python3 benchmarks/ablation.py --synthetic $D/div2k -s $s -p $p --iters 0 --tag _div2k_$p -o "$R" --merge 2>&1 | tail -4
  done
  kill $packer; pack
  exit 0
fi

if [ "$phase" = variants ]; then
  # Fifth loan: row 6 (or ROWS) of the fast preset with config changes, on .devdata/div2k, one process per
  # image and variant. Each VARIANT is SCALE:TAG:CHANGES, CHANGES a comma-separated list of
  # STAGE.FIELD=VALUE ("" for the preset), e.g. 2:_div2k_prelr:distill.teacher_pre_lr=0.1
  #   [TRAIN_SEED=N] bash benchmarks/gpu_run.sh variants SECONDS ROWS VARIANT...
  limit_s=$2; rows=$3; shift 3
  R=/tmp/gpu_res; D=.devdata; mkdir -p "$R"; n=$(ls $D/div2k/*.png | wc -l)
  ( while sleep 30; do pack; done ) & packer=$!
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$R/gpu.txt"
  pids=""
  for v in "$@"; do
    s=${v%%:*}; rest=${v#*:}; tag=${rest%%:*}; changes=${rest#*:}
    cfg=(); IFS=, read -ra parts <<< "$changes"; for c in "${parts[@]}"; do cfg+=(--config "$c"); done
    for k in $(seq 0 $((n - 1))); do
      OMP_NUM_THREADS=1 timeout "$limit_s" python3 benchmarks/ablation.py --synthetic $D/div2k -s $s -p fast \
          --iters 0 --device cuda --via-pipeline --rows "$rows" "${cfg[@]}" --train-seed "${TRAIN_SEED:-0}" --shard $k/$n --tag "$tag" -o "$R" \
          > "$R/x${s}${tag}_$k.log" 2>&1 & pids="$pids $!"
    done
  done
  wait $pids  # not the packer
  for v in "$@"; do
    s=${v%%:*}; rest=${v#*:}; tag=${rest%%:*}
    python3 benchmarks/ablation.py --synthetic $D/div2k -s $s -p fast --iters 0 --tag "$tag" -o "$R" --merge 2>&1 | tail -4
  done
  kill $packer; pack
  exit 0
fi

if [ "$phase" = pdelay ]; then
  # Sixth loan: the teacher's preprocessing module now waits over the first half of its training (the
  # default since 51f7bec). Rows 5, 6 at x2 and row 6 at x4 (through the pipeline) on Set5+Set14, one
  # process per image and scale, to set beside this GPU's runs without the wait (ablation_x{2,4}_gpu.json,
  # same seeds); and the DIV2K x2 image whose seed-2 run on this GPU was bad (im_19, shard 8 of 10).
  limit_s=$2
  R=/tmp/gpu_res; D=.devdata; mkdir -p "$R"
  ( while sleep 30; do pack; done ) & packer=$!
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$R/gpu.txt"
  python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)" | tee -a "$R/gpu.txt"
  pids=""
  for k in $(seq 0 18); do
    OMP_NUM_THREADS=1 timeout "$limit_s" python3 benchmarks/ablation.py --synthetic $D/hr/set5 $D/hr/set14 -s 2 \
        -p fast --iters 0 --device cuda --rows 5,6 --shard $k/19 --tag _gpu_pdelay -o "$R" > "$R/x2_$k.log" 2>&1 &
    pids="$pids $!"
    OMP_NUM_THREADS=1 timeout "$limit_s" python3 benchmarks/ablation.py --synthetic $D/hr/set5 $D/hr/set14 -s 4 \
        -p fast --iters 0 --device cuda --via-pipeline --rows 6 --shard $k/19 --tag _gpu_pdelay -o "$R" \
        > "$R/x4_$k.log" 2>&1 & pids="$pids $!"
  done
  OMP_NUM_THREADS=1 timeout "$limit_s" python3 benchmarks/ablation.py --synthetic $D/div2k -s 2 -p fast --iters 0 \
      --device cuda --via-pipeline --rows 6 --train-seed 2 --shard 8/10 --tag _div2k_pdelay_seed2 -o "$R" \
      > "$R/div2k_im19.log" 2>&1 & pids="$pids $!"
  wait $pids  # not the packer
  for s in 2 4; do
    python3 benchmarks/ablation.py --synthetic $D/hr/set5 $D/hr/set14 -s $s -p fast --iters 0 --tag _gpu_pdelay \
        -o "$R" --merge 2>&1 | tail -4
  done
  grep -h "dB" "$R/div2k_im19.log"
  kill $packer; pack
  exit 0
fi

if [ "$phase" = infer ]; then
  # Seventh loan (2026-12-04): the kernel's self-ensemble + 2 back-projection steps at inference, at x4,
  # where x4 is two x2 steps and the second trains on the first's output. Rows 3 and 6 through the
  # pipeline, the preset's one pass ("onepass") against infer.ensemble + 2 BP steps ("ensbp"), on Set5 and
  # Set14 apart (their kernels as in the README's tables) and, at lower priority, the ten DIV2K photos;
  # lowest, Set14 x2 through benchmarks/inference_variants.py (one training, six inferences). One
  # process per image and variant: 72 processes.
  limit_s=$2
  R=/tmp/gpu_res; D=.devdata; mkdir -p "$R"
  ( while sleep 30; do pack; done ) & packer=$!
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$R/gpu.txt"
  python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)" | tee -a "$R/gpu.txt"
  pids=""
  variant() { [ "$1" = ensbp ] && echo "--config infer.ensemble=true --config infer.backprojection_iters=2"; }
  for v in onepass ensbp; do
    for set in set5:5 set14:14 div2k:10; do
      name=${set%%:*}; n=${set#*:}; dir=$D/hr/$name; pri=0
      [ "$name" = div2k ] && { dir=$D/div2k; pri=5; }
      for k in $(seq 0 $((n - 1))); do
        # shellcheck disable=SC2046
        OMP_NUM_THREADS=1 timeout "$limit_s" nice -n $pri python3 benchmarks/ablation.py --synthetic "$dir" -s 4 \
            -p fast --iters 0 --device cuda --via-pipeline --rows 3,6 $(variant $v) --shard $k/$n \
            --tag "_${name}_gpu_$v" -o "$R" > "$R/x4_${name}_${v}_$k.log" 2>&1 & pids="$pids $!"
      done
    done
  done
  for k in $(seq 0 13); do
    OMP_NUM_THREADS=1 timeout "$limit_s" nice -n 10 python3 benchmarks/inference_variants.py --synthetic $D/hr/set14 \
        -s 2 -m zssr,kd -p fast --device cuda --start $k --limit $((k + 1)) -o "$R/iv_x2_set14_$k.json" \
        > "$R/iv_x2_set14_$k.log" 2>&1 & pids="$pids $!"
  done
  wait $pids  # not the packer
  for v in onepass ensbp; do
    for set in set5 set14 div2k; do
      dir=$D/hr/$set; [ "$set" = div2k ] && dir=$D/div2k
      python3 benchmarks/ablation.py --synthetic "$dir" -s 4 -p fast --iters 0 --tag "_${set}_gpu_$v" -o "$R" \
          --merge 2>&1 | tail -3
    done
  done
  ls "$R"/iv_x2_set14_*.json >/dev/null 2>&1 && python3 benchmarks/inference_variants.py \
      --merge "$R"/iv_x2_set14_*.json -o "$R/inference_x2_set14_gpu.json" | head -12
  kill $packer; pack
  exit 0
fi

limit=${2:-480}
D=.devdata
R="$OUT/res"
export OMP_NUM_THREADS=1
run() { local name=$1; shift; timeout "$limit" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/status.txt"; }

if [ "$phase" = tables ]; then
  R=/tmp/gpu_res; mkdir -p "$R"
  ( while sleep 60; do pack; done ) & packer=$!
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$R/gpu.txt"
  OMP_NUM_THREADS=1 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py > "$R/test_cuda.log" 2>&1 &
  for k in $(seq 0 18); do
    run abl_x2_$k python3 benchmarks/ablation.py --synthetic $D/hr/set5 $D/hr/set14 -s 2 -p fast --iters 0 \
        --device cuda --shard $k/19 --tag _gpu -o "$R" &
  done
  # x4 through the pipeline: each image's rows in three groups of about equal work (3L needs 6).
  for k in 0 1 2 3 4; do
    for g in a:2,3,4,5,3T,6S b:6,3L,7,8 c:9,10,6T; do
      run abl_x4_$k${g%%:*} python3 benchmarks/ablation.py --synthetic $D/hr/set5 -s 4 -p fast --iters 0 \
          --device cuda --via-pipeline --rows ${g#*:} --shard $k/5 --tag _gpu_${g%%:*} -o "$R" &
    done
  done
  wait
  for f in "$R"/ablation_x4_gpu_?.shard*.json; do  # ablation_x4_gpu_b.shard3.json -> ablation_x4_gpu.shard3b.json
    g=$(basename "$f"); g=${g#ablation_x4_gpu_}; k=${g#*.shard}
    mv "$f" "$R/ablation_x4_gpu.shard${k%.json}${g%%.*}.json"
  done
  python3 benchmarks/ablation.py --synthetic $D/hr/set5 $D/hr/set14 -s 2 -p fast --tag _gpu -o "$R" --merge > "$R/merge_x2.log" 2>&1
  python3 benchmarks/ablation.py --synthetic $D/hr/set5 -s 4 -p fast --tag _gpu -o "$R" --merge > "$R/merge_x4.log" 2>&1
  cat "$R/status.txt"; tail -3 "$R/test_cuda.log"
  kill $packer; pack
  exit 0
fi
for k in 0 1 2 3 4 5; do
  run abl_x2_$k python3 benchmarks/ablation.py --synthetic $D/hr/set5 $D/hr/set14 -s 2 -p balanced --iters 0 \
      --device cuda --shard $k/6 -o "$R" &
done
for k in 0 1 2 3 4; do
  run abl_x4_$k python3 benchmarks/ablation.py --synthetic $D/hr/set5 -s 4 -p balanced --iters 0 \
      --device cuda --via-pipeline --shard $k/5 -o "$R" &
done
run noise5 python3 -m solosr.cli bench --synthetic $D/hr/set14 -s 2 -p fast --device cuda --add-noise 5 \
    -m bicubic,zssr,zssr-est,kd-est,kd-est-aware -o "$R" --name set14_noise5_x2 -q &
run jpeg75 python3 -m solosr.cli bench --synthetic $D/hr/set14 -s 2 -p fast --device cuda --add-jpeg 75 \
    -m bicubic,zssr,zssr-est,kd-est,kd-est-aware -o "$R" --name set14_jpeg75_x2 -q &
run real python3 benchmarks/real_images.py $D/real -p fast --device cuda --jobs 4 --work /tmp/real -o "$R" \
    --crops dog,oldphoto2,comic1,building,OST_009 &
wait
python3 benchmarks/ablation.py --synthetic $D/hr/set5 $D/hr/set14 -s 2 -o "$R" --merge > "$R/merge_x2.log" 2>&1
python3 benchmarks/ablation.py --synthetic $D/hr/set5 -s 4 -o "$R" --merge > "$R/merge_x4.log" 2>&1
cat "$R/status.txt"
tar czf "$OUT/results.tgz" -C "$OUT" res
