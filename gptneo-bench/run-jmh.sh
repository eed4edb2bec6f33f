#!/usr/bin/env bash
# JMH kernel benchmarks (gptneo-bench/src/main/java/dev/gptneo/bench/jmh), through the engine's
# public Ops interface. Builds the engine and this module, then runs JMH with any JMH arguments:
#   gptneo-bench/run-jmh.sh                               # everything (about 10 minutes on 2 cores)
#   gptneo-bench/run-jmh.sh LinearBench -p m=1 -p kernels=vector
#   gptneo-bench/run-jmh.sh AttentionBench -p kernels=vector -rf json -rff jmh.json
#   gptneo-bench/run-jmh.sh -l                            # list the benchmarks
# Nothing here runs during ./mvnw verify.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ "${GPTNEO_SKIP_BUILD:-}" != "1" ]; then
  ./mvnw -q -B -pl gptneo-bench -am -DskipTests package 1>&2
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java" -cp "gptneo-bench/target/classes:$(cat gptneo-bench/target/classpath.txt)" \
  -Dorg.slf4j.simpleLogger.logFile=System.err -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  org.openjdk.jmh.Main "$@"
