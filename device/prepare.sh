#!/usr/bin/env bash
# Prepares, on a machine WITHOUT a GPU, everything device/gpu-checks.sh needs on the device, so
# nothing is built there. Writes device/build/ (ignored by git; carry it: about 31 MB, and the
# working tree that travels, tracked files included, must stay under 64 MiB):
#   jre.tar.xz      a Java 17 runtime with the Vector API module (the device has no Java)
#   lib/            the engine's CLI jar (with the CUDA backend) and JUnit's console launcher
#   test-classes/   the engine's compiled tests (the GPU tests among them)
#   shared/         the goldens the GPU tests read (tiny-neo causal-lm, demo_golden.json, spam_val.jsonl)
# Usage: device/prepare.sh   (SHARED=/path/to/shared overrides ../shared)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/device/build"
shared="${SHARED:-$root/../shared}"
cd "$root"

./mvnw -q -B -pl gptneo-engine -am -DskipTests package   # the shaded CLI jar
./mvnw -q -B -pl gptneo-engine test-compile

rm -rf "$build/lib" "$build/test-classes" "$build/shared"
mkdir -p "$build/lib" "$build/shared/golden/tiny-neo" "$build/shared/data"
cp gptneo-engine/target/gptneo-engine-*-cli.jar "$build/lib/gptneo-engine-cli.jar"
cp -r gptneo-engine/target/test-classes "$build/test-classes"
./mvnw -q -B -N dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.12.2 \
  -DoutputDirectory="$build/lib"
cp -r "$shared/golden/tiny-neo/causal-lm" "$shared/golden/tiny-neo/golden.safetensors" \
  "$shared/golden/tiny-neo/golden.json" "$build/shared/golden/tiny-neo/"
cp "$shared/golden/demo_golden.json" "$build/shared/golden/"
cp "$shared/data/spam_val.jsonl" "$build/shared/data/"
if [ ! -f "$build/jre.tar.xz" ]; then
  # as ../shared/device/make-jre.sh plus java.xml (JUnit's reports), left uncompressed and with
  # libjvm stripped, so that xz packs it to about 12 MB
  jdk="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
  tmp="$(mktemp -d)"
  "$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.incubator.vector \
    --strip-debug --no-header-files --no-man-pages --output "$tmp/jre"
  strip --strip-unneeded "$tmp/jre/lib/server/libjvm.so"
  "$tmp/jre/bin/java" -version
  tar cJf "$build/jre.tar.xz" -C "$tmp" jre
  rm -rf "$tmp"
fi
du -sh "$build"/*; du -sh "$build"
echo "ready: on the device run 'bash device/gpu-checks.sh' with carry [\"device/build\"]"
