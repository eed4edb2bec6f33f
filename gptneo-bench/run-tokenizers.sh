#!/usr/bin/env bash
# Our GPT-2 tokenizer against Hugging Face's Rust tokenizers (DJL ai.djl.huggingface:tokenizers),
# one thread each, on the sample emails: identical ids, then tokens/s. See docs/BENCHMARKS.md.
#   gptneo-bench/run-tokenizers.sh [--tokenizer DIR] [--data FILE.jsonl] [--seconds S]
# DJL's jar carries the native library for linux-x86_64/aarch64, osx-aarch64 and win-x86_64 and
# extracts it under ~/.djl.ai; it downloads nothing on those platforms.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ "${GPTNEO_SKIP_BUILD:-}" != "1" ]; then
  ./mvnw -q -B -pl gptneo-bench -am -DskipTests package 1>&2
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
OPT_OUT_TRACKING=true exec "$java" -Doffline=true -Dorg.slf4j.simpleLogger.logFile=System.err \
  -cp "gptneo-bench/target/classes:$(cat gptneo-bench/target/classpath.txt)" \
  dev.gptneo.bench.TokenizerComparison "$@"
