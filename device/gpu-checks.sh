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
# GPU_CHECKS_MODE=tune runs 2.7B alone on every kernel variant (no HF), then the kernel tests and the
# goldens with the opt-ins, a sweep of decode's kernels alone (KernelSweep: gemv block sizes and
# slices, cuBLAS whole and split over k), cuBLASLt's survey of its candidate algorithms per GEMM
# shape and the launch profiles: the extra call for tuning, after the full one. GPU_CHECKS_MODE=cpu
# compares the engine with HF on the machine's CPU cores (125M fp32, ~1.5 min): a call for time left over.
# GPU_CHECKS_MODE=sanitize runs the kernel tests under compute-sanitizer (memcheck, racecheck).
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
# tar needs the xz program for .xz, which an image may lack; Python's tarfile reads it without
tar xJf "$build/jre.tar.xz" -C /tmp/gptneo-jre 2> /dev/null || python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1])
t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' \
  "$build/jre.tar.xz" /tmp/gptneo-jre
export JAVA_HOME=/tmp/gptneo-jre/jre
# CUDA 13's libraries: the folders verified on the H100 image (../shared/device/README.md), then,
# for a library none of them holds (another image, e.g. the H200's), the first folder under /usr,
# /opt or /root that does (pip's nvidia wheels, a toolkit)
cuda_dirs="/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib /usr/local/cuda-13.0/targets/x86_64-linux/lib"
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13; do
  found=
  for d in $cuda_dirs; do [ -e "$d/$lib" ] && found=$d && break; done
  [ -n "$found" ] || found=$(find /usr /opt /root -name "$lib*" -print -quit 2> /dev/null | xargs -r dirname)
  [ -n "$found" ] && case " $cuda_dirs " in *" $found "*) ;; *) cuda_dirs="$cuda_dirs $found" ;; esac
  echo "$lib: ${found:-not found}" >> "$summary"
done
# the driver's library is the loader's to find (a toolkit's compat/ copy on the path could shadow it)
echo "libcuda.so.1: $(ldconfig -p 2> /dev/null | grep -m1 -o '=> .*libcuda.so.1' || echo "not in ldconfig's cache")" >> "$summary"
cuda_path=$(echo $cuda_dirs | tr ' ' ':')
export LD_LIBRARY_PATH="$cuda_path:${LD_LIBRARY_PATH:-}"
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

# the last lines of summary.txt, everything copied to $OUT, the summary printed
finish() {
  echo "total: $(($(date +%s) - start))s" >> "$summary"
  publish
  cat "$OUT/summary.txt"
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

step env 60 bash -c "nvidia-smi; ldd --version | head -1; '$java' -version; echo LD_LIBRARY_PATH=\$LD_LIBRARY_PATH; \
  ls \${LD_LIBRARY_PATH//:/ } 2>/dev/null | grep -E 'libcublas|libnvrtc|libcudart'; '$python' -c \
  'import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.get_device_name(0))'"

# GPU_CHECKS_MODE=cpu: the engine on the device machine's CPU cores against HF fp32 there (125M,
# anchors.json's "cpu_16core_hf_eager_fp32_125M" workloads), every core for both; no GPU used
if [ "${GPU_CHECKS_MODE:-full}" = cpu ]; then
  threads=$(nproc)
  cpu_bench() { # cpu_bench NAME FLAGS...: ours, 125M fp32, with the calibration (the % of the cores' limits)
    local name=$1
    shift
    step "bench/ours-cpu-125M-$name" 120 bash -c "bin/gptneo bench --random 125M --dtype f32 --device cpu \
      --threads $threads --iterations 3 --warmup 1 $* > '$work/bench/ours-cpu-125M-$name.json'"
  }
  cpu_bench prefill-b8-p256 --task prefill --batch-size 8 --prompt-tokens 256
  cpu_bench generate-b1-p64-n32 --task generate --batch-size 1 --prompt-tokens 64 --new-tokens 32
  cpu_bench generate-b8-p64-n32 --task generate --batch-size 8 --prompt-tokens 64 --new-tokens 32
  [ "${GPU_CHECKS_HF:-1}" = 1 ] && step bench/hf-cpu-125M 200 "$python" device/hf_bench.py --size 125M --device cpu \
    --threads "$threads" --out "$work/bench/hf-cpu-125M.json"
  finish
  exit 0
fi

step probe 120 bin/gptneo info --model datasets-sample/models/gpt-neo-demo --device cuda

# HF goldens at head sizes 64 and 128 (CudaWideGoldenTest): checkpoints and HF's outputs, made here
goldens="$work/goldens"
case "${GPU_CHECKS_MODE:-full}" in tune | sanitize) ;; *) step golden 120 "$python" device/hf_golden.py "$goldens" ;; esac

# the GPU tests: the kernels with every launch synchronized, so a failing kernel is named; then the
# model-level tests as they run in production (CUDA graphs on: syncEachLaunch turns them off)
junit() { # junit REPORTS "JVM OPTIONS" TEST-SELECTORS...; $wrap, if set, runs the JVM (compute-sanitizer)
  local reports=$1 jvm=$2
  shift 2
  ${wrap:-} "$java" -XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
    --add-opens=java.base/java.nio=ALL-UNNAMED --enable-native-access=ALL-UNNAMED -Xmx8g $cache_opts $jvm \
    -Dgptneo.shared="$build/shared" -Dgptneo.deviceGoldens="$goldens" \
    -jar "$build/lib/junit-platform-console-standalone-1.12.2.jar" execute \
    --class-path "$build/test-classes:$build/lib/gptneo-engine-cli.jar" \
    --reports-dir "$work/$reports" --details tree --disable-banner "$@"
}
gpu_tests() {
  junit junit-kernels "-Dgptneo.cuda.syncEachLaunch=true" \
    --select-class dev.gptneo.engine.ops.cuda.CudaOpsVsCpuTest --select-class dev.gptneo.engine.ops.cuda.GpuLimitsTest
  local kernels=$?
  junit junit-model "" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaWideGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaHfGenerateGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaGraphTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaBatchInvarianceTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaKeptCachesTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaSupportTest
  local model=$?
  # the goldens again on the other kernels (fp32 prefill attention, 256-thread gemv), with the defaults
  # added after run 8 turned off (unsplit decode attention, kv_store launches, bias_act after each
  # GEMM): if the defaults fail and this passes, the new defaults are the first suspects
  junit junit-model-variants "-Dgptneo.cuda.prefillAttention=simt -Dgptneo.cuda.gemvThreads=256 \
    -Dgptneo.cuda.splitDecode=false -Dgptneo.cuda.kvInAttention=false -Dgptneo.cuda.foldBias=false \
    -Dgptneo.cuda.halfQkv=false" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaWideGoldenTest
  local variants=$?
  # and with the opt-in fusions: cuBLASLt's epilogues (gelu_new's fused 16-bit output is checked
  # only here) and the layer norms inside the one-row gemv
  junit junit-model-optin "-Dgptneo.cuda.gemm=lt -Dgptneo.cuda.fuseNorm=true" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaWideGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaGraphTest
  local lt=$?
  # and with programmatic dependent launch (kernels start while the previous one finishes: a race
  # would show here, recorded in graphs and eager) and GEMMs of 5-256 rows split over k (two slices
  # wherever k allows; CudaOpsVsCpuTest's splitKGemmsOnCublas checks those alone)
  junit junit-model-pdl-splitk "-Dgptneo.cuda.pdl=true -Dgptneo.cuda.splitK=2" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest \
    --select-class dev.gptneo.engine.ops.cuda.CudaGraphTest
  local pdl=$?
  return $((kernels || model || variants || lt || pdl))
}
cache_opts="${caches[*]}"
export java build work cache_opts goldens
export -f junit gpu_tests

# GPU_CHECKS_MODE=sanitize: the kernel tests (CudaOpsVsCpuTest, every launch synchronized) under
# compute-sanitizer, one JVM per tool: memcheck (out-of-bounds and misaligned accesses to global,
# local and shared memory; hardware exceptions), then racecheck (hazards between a block's threads on
# shared memory), what the host emulator (KernelEmulationTest) cannot see. Works on the Firecracker
# machines (KINDS.md), not on gVisor. GPU_CHECKS_SANITIZERS picks the tools (initcheck, synccheck too).
if [ "${GPU_CHECKS_MODE:-full}" = sanitize ]; then
  sanitizer=$(command -v compute-sanitizer || find /usr/local /opt -name compute-sanitizer -type f -perm -u+x \
    -print -quit 2> /dev/null)
  echo "compute-sanitizer: ${sanitizer:-not found}" >> "$summary"
  for tool in ${GPU_CHECKS_SANITIZERS:-memcheck racecheck}; do
    [ -n "$sanitizer" ] || break
    step "sanitize-$tool" 200 bash -c "wrap='$sanitizer --tool $tool --error-exitcode 86 --print-limit 30 \
      --launch-timeout 120 --target-processes all'; junit junit-$tool -Dgptneo.cuda.syncEachLaunch=true \
      --select-class dev.gptneo.engine.ops.cuda.CudaOpsVsCpuTest"
    # rc=86: the tool found errors (its log names kernel, thread and address); then its own summary line
    grep -hE '(ERROR|RACECHECK) SUMMARY|tests (successful|failed)' "$work/sanitize-$tool.log" 2> /dev/null \
      | sed "s/^/  $tool: /" >> "$summary"
  done
  finish
  exit 0
fi

# ours: one JSON line on stdout per run; bench SIZE NAME "JAVA OPTIONS" FLAGS...
# Runs with the default settings then measure the GPU's limits (GpuLimits, ~0.5 s) for "% of limit".
bench() {
  local size=$1 name=$2 opts=$3 limits=0
  shift 3
  [ -z "$opts" ] && limits=0.2
  step "bench/ours-$size-$name" 150 bash -c "GPTNEO_JAVA_OPTS='$GPTNEO_JAVA_OPTS $opts' bin/gptneo bench \
    --random $size --dtype f16 --device cuda --calibration-seconds $limits $* > '$work/bench/ours-$size-$name.json'"
}
prefill=(--task prefill --batch-size 64 --prompt-tokens 256 --max-batch-tokens 16384 --iterations 2 --warmup 1)
generate() { echo "--task generate --batch-size $1 --prompt-tokens 128 --new-tokens 128 --max-batch-tokens 8192 \
  --iterations 1 --warmup 1"; }

# where the time goes (each launch timed alone: slow, for tuning only); after a warm-up iteration,
# and the table's "us after" leaves out each kernel's first launch (lazy module loading)
profiled() {
  local name=$1 opts=$2
  shift 2
  step "profile-$name" 120 bash -c "GPTNEO_JAVA_OPTS='$GPTNEO_JAVA_OPTS -Dgptneo.cuda.profile=true $opts' bin/gptneo \
    bench --random 2.7B --dtype f16 --device cuda --calibration-seconds 0 --iterations 1 --warmup 1 $*"
}
profiles() {
  profiled decode-b1 "" --task generate --batch-size 1 --prompt-tokens 128 --new-tokens 32
  profiled prefill-b64 "" --task prefill --batch-size 64 --prompt-tokens 256 --max-batch-tokens 16384
  profiled decode-b128 "" --task generate --batch-size 128 --prompt-tokens 128 --new-tokens 16 --max-batch-tokens 16384
}

if [ "${GPU_CHECKS_MODE:-full}" = tune ]; then
  # every variant of each kernel choice, on 2.7B: the defaults first, then one change at a time
  lt="-Dgptneo.cuda.gemm=lt"
  bench 2.7B prefill-b64-p256 "" "${prefill[@]}"
  bench 2.7B prefill-b64-p256-lt "$lt" "${prefill[@]}"
  bench 2.7B prefill-b64-p256-kvstore "-Dgptneo.cuda.kvInAttention=false" "${prefill[@]}"
  bench 2.7B prefill-b64-p256-qkv32 "-Dgptneo.cuda.halfQkv=false" "${prefill[@]}"
  bench 2.7B generate-b1-p128-n128 "" $(generate 1)
  bench 2.7B generate-b1-p128-n128-fusenorm "-Dgptneo.cuda.fuseNorm=true" $(generate 1)
  bench 2.7B generate-b1-p128-n128-nosplit "-Dgptneo.cuda.splitDecode=false" $(generate 1)
  bench 2.7B generate-b1-p128-n128-pdl "-Dgptneo.cuda.pdl=true" $(generate 1)
  bench 2.7B generate-b32-p128-n128 "" $(generate 32)
  bench 2.7B generate-b32-p128-n128-lt "$lt" $(generate 32)
  bench 2.7B generate-b32-p128-n128-splitk "-Dgptneo.cuda.splitK=auto" $(generate 32)
  bench 2.7B generate-b128-p128-n128 "" $(generate 128)
  bench 2.7B generate-b128-p128-n128-lt "$lt" $(generate 128)
  bench 2.7B generate-b128-p128-n128-pdl "-Dgptneo.cuda.pdl=true" $(generate 128)
  bench 2.7B generate-b128-p128-n128-splitk "-Dgptneo.cuda.splitK=auto" $(generate 128)
  # the fastest of cuBLASLt's candidates per shape, timed at its first use (the survey's log has them all)
  bench 2.7B generate-b128-p128-n128-lt-fastest "$lt -Dgptneo.cuda.ltAlgo=fastest" $(generate 128)
  step junit-kernels 120 bash -c 'junit junit-kernels "-Dgptneo.cuda.syncEachLaunch=true" \
    --select-class dev.gptneo.engine.ops.cuda.CudaOpsVsCpuTest'
  # the goldens with the opt-in fusions (tiny-neo and demo: the HF goldens at head sizes 64/128 need hf_golden.py)
  step junit-model-optin 120 bash -c 'junit junit-model-optin "-Dgptneo.cuda.gemm=lt -Dgptneo.cuda.fuseNorm=true" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest --select-class dev.gptneo.engine.ops.cuda.CudaGraphTest'
  step junit-model-pdl-splitk 120 bash -c 'junit junit-model-pdl-splitk "-Dgptneo.cuda.pdl=true -Dgptneo.cuda.splitK=2" \
    --select-class dev.gptneo.engine.ops.cuda.CudaGoldenTest --select-class dev.gptneo.engine.ops.cuda.CudaGraphTest'
  # batch-1 decode's kernels alone at 2.7B's shapes: gemv block sizes and slices, cuBLAS, layer norm
  step kernel-sweep 90 "$java" -XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
    --enable-native-access=ALL-UNNAMED -Xmx8g $cache_opts \
    -cp "$build/test-classes:$build/lib/gptneo-engine-cli.jar" dev.gptneo.engine.ops.cuda.KernelSweep 2560 50257
  grep -E "^(kernel sweep|empty|layer norm|gemv1|cuBLAS|gemm_rows)" "$work/kernel-sweep.log" >> "$summary"
  # cuBLASLt's candidates per GEMM shape, timed at each shape's first use; then the default profiles
  profiled prefill-b64-lt "$lt -Dgptneo.cuda.ltAlgo=survey" --task prefill --batch-size 64 --prompt-tokens 256 \
    --max-batch-tokens 16384
  profiled decode-b128-lt "$lt -Dgptneo.cuda.ltAlgo=survey" --task generate --batch-size 128 --prompt-tokens 128 \
    --new-tokens 16 --max-batch-tokens 16384
  grep -h "cuBLASLt survey" "$work"/profile-*-lt.log 2> /dev/null | sed 's/.*cuBLASLt survey //' | sort -u > "$work/lt-survey.txt"
  cat "$work/lt-survey.txt" >> "$summary"
  profiles
  finish
  exit 0
fi

step junit 300 bash -c gpu_tests

for size in $sizes; do
  bench "$size" prefill-b64-p256 "" "${prefill[@]}"
  # GEMMs on cuBLASLt with fused epilogues (gptneo.cuda.gemm=lt)
  [ "$size" = 2.7B ] && bench "$size" prefill-b64-p256-lt "-Dgptneo.cuda.gemm=lt" "${prefill[@]}"
  # keys and values cached by kv_store launches, as before the attention kernels stored them
  [ "$size" = 2.7B ] && bench "$size" prefill-b64-p256-kvstore "-Dgptneo.cuda.kvInAttention=false" "${prefill[@]}"
  # q|k|v in fp32 for the prefill attention, as before the GEMM wrote them in 16 bits
  [ "$size" = 2.7B ] && bench "$size" prefill-b64-p256-qkv32 "-Dgptneo.cuda.halfQkv=false" "${prefill[@]}"
  [ "$size" = 2.7B ] && bench "$size" generate-b128-p128-n128-lt "-Dgptneo.cuda.gemm=lt" $(generate 128)
  # the 5-256-row GEMMs on cuBLAS split over k, then summed (gptneo.cuda.splitK)
  [ "$size" = 2.7B ] && bench "$size" generate-b128-p128-n128-splitk "-Dgptneo.cuda.splitK=auto" $(generate 128)
  [ "$size" = 2.7B ] && bench "$size" generate-b1-p128-n128-fusenorm "-Dgptneo.cuda.fuseNorm=true" $(generate 1)
  # decode attention as one block per (sequence, head), as before it split over the keys at small batch
  [ "$size" = 2.7B ] && bench "$size" generate-b1-p128-n128-nosplit "-Dgptneo.cuda.splitDecode=false" $(generate 1)
  # kernels launched early, each waiting for the one before (programmatic dependent launch)
  [ "$size" = 2.7B ] && bench "$size" generate-b1-p128-n128-pdl "-Dgptneo.cuda.pdl=true" $(generate 1)
  # the same on the fp32 prefill attention kernel (simt; the default runs the tensor cores)
  bench "$size" prefill-b64-p256-simt "-Dgptneo.cuda.prefillAttention=simt" "${prefill[@]}"
  for b in 1 32 128; do
    bench "$size" "generate-b$b-p128-n128" "" $(generate $b)
  done
  # each token's log-probability on the device (token_logprobs), against HF's log_softmax + gather
  [ "$size" = 125M ] && bench "$size" score-b64-p256 "" --task score --batch-size 64 --prompt-tokens 256 \
    --max-batch-tokens 16384 --iterations 2 --warmup 1
  [ "${GPU_CHECKS_HF:-1}" = 1 ] && step "bench/hf-$size" 200 "$python" device/hf_bench.py --size "$size" --out "$work/bench/hf-$size.json"
done

# the batch-invariant mode's cost (opt-in, gptneo.cuda.batchInvariant: every GEMM on gemm_rows, no
# gemv, decode attention unsplit), at 125M and last, so that it never displaces the targets' rows
case " $sizes " in *" 125M "*)
  bench 125M prefill-b64-p256-invariant "-Dgptneo.cuda.batchInvariant=true" "${prefill[@]}"
  bench 125M generate-b32-p128-n128-invariant "-Dgptneo.cuda.batchInvariant=true" $(generate 32) ;;
esac

profiles

finish
