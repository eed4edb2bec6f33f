#!/usr/bin/env bash
# Spark overhead on the sample emails: gptneo_classify in a local Spark vs the engine alone, same
# rows and threads, one JVM. Arguments: [threads] [repetitions] [copies of the 300 emails].
# Builds the test classes when needed. Results go in docs/BENCHMARKS.md ("## Spark").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
module="$root/gptneo-spark"
if [ ! -f "$module/target/launcher/test-classpath.txt" ] \
    || [ ! -f "$module/target/test-classes/dev/gptneo/spark/bench/SparkOverhead.class" ]; then
  (cd "$root" && ./mvnw -q -B -pl gptneo-spark -am -DskipTests test-compile 1>&2)
fi
read -r -a flags < "$module/target/launcher/jvm-flags.txt"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java" "${flags[@]}" ${BENCH_OPTS:-} -Xmx4g -Dgptneo.repo="$root" \
  -Dlog4j2.configurationFile=dev/gptneo/spark/sql/gptneo-sql-log4j2.properties \
  -cp "$module/target/test-classes:$module/target/classes:$(cat "$module/target/launcher/test-classpath.txt")" \
  dev.gptneo.spark.bench.SparkOverhead "$@"
