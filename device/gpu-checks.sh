#!/usr/bin/env bash
# Every GPU check of issue 6 in one call on the device machine (see device/README.md): the GPU
# tests (kernels against the CPU reference, goldens on the GPU), then `bin/gptneo bench --device
# cuda` and HF transformers eager fp16 on the same workloads, 2.7B first. Builds nothing: it needs
# device/build from device/prepare.sh (carried). $OUT gets four files (the device returns at most
# eight), refreshed after every step so a timeout still returns what ran:
#   summary.txt   one line per step (exit status, seconds, or why skipped), then ours vs HF
#   junit.log     the GPU tests' tree
#   bench.md      ours vs HF per model and workload (also at the end of summary.txt)
#   results.tgz   everything: every log, the JUnit XML, one JSON line per bench run
# Steps stop starting once GPU_CHECKS_BUDGET_S (default 510) seconds have passed, and no step runs
# past it by more than 30 s. GPU_CHECKS_SIZES picks the models, GPU_CHECKS_HF=0 skips HF's runs.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
OUT="${OUT:-/tmp/gptneo-gpu-checks-out}"
work=/tmp/gptneo-gpu-checks
rm -rf "$work"
mkdir -p "$OUT" "$work/bench"
budget="${GPU_CHECKS_BUDGET_S:-510}"
sizes="${GPU_CHECKS_SIZES:-2.7B 125M 1.3B}"
start=$(date +%s)
build="$root/device/build"
summary="$work/summary.txt"
: > "$summary"

mkdir -p /tmp/gptneo-jre
tar xJf "$build/jre.tar.xz" -C /tmp/gptneo-jre
export JAVA_HOME=/tmp/gptneo-jre/jre
export LD_LIBRARY_PATH="/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib:/usr/local/cuda-13.0/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
export GPTNEO_BENCH_CACHE=/tmp/gptneo-bench
export PYTHONUNBUFFERED=1
python="${PYTHON:-/opt/torch/.venv/bin/python}"
[ -x "$python" ] || python=python3
java="$JAVA_HOME/bin/java"
caches=(-Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp-cache -Dgptneo.cuda.ptxCache=/tmp/gptneo-ptx)
export GPTNEO_JAVA_OPTS="-Xmx24g ${caches[*]}"

publish() {
  "$python" device/hf_bench.py --summarize "$work/bench" > "$work/bench.md" 2> /dev/null
  cp "$summary" "$OUT/summary.txt"
  cat "$work/bench.md" >> "$OUT/summary.txt" 2> /dev/null
  cp "$work/bench.md" "$OUT/bench.md" 2> /dev/null
  [ -f "$work/junit.log" ] && cp "$work/junit.log" "$OUT/junit.log"
  rm -rf "$work/goldens-json" && mkdir -p "$work/goldens-json"
  for g in "$work"/goldens/*/golden.json; do [ -f "$g" ] && cp "$g" "$work/goldens-json/$(basename "$(dirname "$g")").json"; done
  tar czf "$OUT/results.tgz" -C "$work" --exclude=./goldens .
}

# step NAME TIMEOUT_S COMMAND...: runs COMMAND with output in $work/NAME.log unless time is up
step() {
  local name=$1 limit=$2
  shift 2
  local now=$(($(date +%s) - start))
  if [ "$now" -ge "$budget" ]; then
    echo "$name: skipped, ${now}s of the ${budget}s budget spent" >> "$summary"
    return 0
  fi
  [ "$limit" -gt $((budget - now + 30)) ] && limit=$((budget - now + 30))
  local t0=$(date +%s)
  timeout "$limit" "$@" > "$work/$name.log" 2>&1
  local rc=$?
  echo "$name: rc=$rc in $(($(date +%s) - t0))s$([ $rc = 124 ] && echo ' (timed out)')" >> "$summary"
  publish
  return 0
}

# bin/gptneo runs the CLI jar from gptneo-engine/target; bring the prepared one (never build here)
if ! ls gptneo-engine/target/gptneo-engine-*-cli.jar > /dev/null 2>&1; then
  mkdir -p gptneo-engine/target
  cp "$build/lib/gptneo-engine-cli.jar" gptneo-engine/target/gptneo-engine-0.1.0-SNAPSHOT-cli.jar
fi

step env 60 bash -c "nvidia-smi; '$java' -version; echo LD_LIBRARY_PATH=\$LD_LIBRARY_PATH; \
  ls \${LD_LIBRARY_PATH//:/ } 2>/dev/null | grep -E 'libcublas|libnvrtc|libcudart'; '$python' -c \
  'import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.get_device_name(0))'"

step probe 120 bin/gptneo info --model datasets-sample/models/gpt-neo-demo --device cuda

# HF goldens at head sizes 64 and 128 (CudaWideGoldenTest): checkpoints and HF's outputs, made here
goldens="$work/goldens"
step golden 120 "$python" device/hf_golden.py "$goldens"

# the GPU tests: the kernels with every launch synchronized, so a failing kernel is named; then the
# model-level tests as they run in production (CUDA graphs on: syncEachLaunch turns them off)
junit() { # junit REPORTS "JVM OPTIONS" TEST-SELECTORS...
  local reports=$1 jvm=$2
  shift 2
  "$java" -XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
    --add-opens=java.base/java.nio=ALL-UNNAMED --enable-native-access=ALL-UNNAMED -Xmx8g $cache_opts $jvm \
    -Dgptneo.shared="$build/shared" -Dgptneo.deviceGoldens="$goldens" \
    -jar "$build/lib/junit-platform-console-standalone-1.12.2.jar" execute \
    --class-path "$build/test-classes:$build/lib/gptneo-engine-cli.jar" \
    --reports-dir "$work/$reports" --details tree --disable-banner "$@"
}
gpu_tests() {
  junit junit-kernels "-Dgptneo.cuda.syncEachLaunch=true" \
    --select-class dev.gptneo.engine.ops.cuda.CudaOpsVsCpuTest
  local kernels=$?
  junit junit-model "" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaWideGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaGraphTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaBatchInvarianceTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaSupportTest
  local model=$?
  junit junit-model-mma "-Dgptneo.cuda.prefillAttention=mma" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaWideGoldenTest
  local mma=$?
  return $((kernels || model || mma))
}
cache_opts="${caches[*]}"
export java build work cache_opts goldens
export -f junit gpu_tests
step junit 300 bash -c gpu_tests

# ours: one JSON line on stdout per run
bench() {
  local size=$1 name=$2
  shift 2
  step "bench/ours-$size-$name" 150 bash -c "bin/gptneo bench --random $size --dtype f16 --device cuda \
    --calibration-seconds 0 $* > '$work/bench/ours-$size-$name.json'"
}

for size in $sizes; do
  bench "$size" prefill-b64-p256 --task prefill --batch-size 64 --prompt-tokens 256 --max-batch-tokens 16384 \
    --iterations 2 --warmup 1
  # the same on the tensor-core attention kernel (opt-in until it has passed here)
  GPTNEO_JAVA_OPTS="$GPTNEO_JAVA_OPTS -Dgptneo.cuda.prefillAttention=mma" bench "$size" prefill-b64-p256-mma \
    --task prefill --batch-size 64 --prompt-tokens 256 --max-batch-tokens 16384 --iterations 2 --warmup 1
  for b in 1 32 128; do
    bench "$size" "generate-b$b-p128-n128" --task generate --batch-size "$b" --prompt-tokens 128 --new-tokens 128 \
      --max-batch-tokens 8192 --iterations 1 --warmup 1
  done
  # batches 32 and 128 on the tensor-core GEMM for 5-256 rows (opt-in until it has been measured here)
  for b in 32 128; do
    GPTNEO_JAVA_OPTS="$GPTNEO_JAVA_OPTS -Dgptneo.cuda.smallGemm=mma" bench "$size" "generate-b$b-p128-n128-gemm" \
      --task generate --batch-size "$b" --prompt-tokens 128 --new-tokens 128 --max-batch-tokens 8192 --iterations 1 \
      --warmup 1
  done
  [ "${GPU_CHECKS_HF:-1}" = 1 ] && step "bench/hf-$size" 200 "$python" device/hf_bench.py --size "$size" --out "$work/bench/hf-$size.json"
done

# where the time goes (each launch timed alone: slow, for tuning only), if time is left
profiled() {
  local name=$1
  shift
  step "profile-$name" 120 bash -c "GPTNEO_JAVA_OPTS='$GPTNEO_JAVA_OPTS -Dgptneo.cuda.profile=true' bin/gptneo bench \
    --random 2.7B --dtype f16 --device cuda --calibration-seconds 0 --iterations 1 --warmup 0 $*"
}
profiled decode-b1 --task generate --batch-size 1 --prompt-tokens 128 --new-tokens 16
profiled prefill-b64 --task prefill --batch-size 64 --prompt-tokens 256 --max-batch-tokens 16384
profiled decode-b128 --task generate --batch-size 128 --prompt-tokens 128 --new-tokens 8 --max-batch-tokens 16384
# the tensor-core GEMM for 5-256 rows, per shape (opt-in until measured)
GPTNEO_JAVA_OPTS="$GPTNEO_JAVA_OPTS -Dgptneo.cuda.smallGemm=mma" profiled decode-b128-gemm --task generate \
  --batch-size 128 --prompt-tokens 128 --new-tokens 8 --max-batch-tokens 16384

echo "total: $(($(date +%s) - start))s" >> "$summary"
publish
cat "$OUT/summary.txt"
