#!/usr/bin/env bash
# Writes datasets-sample/emails.parquet from datasets-sample/emails.jsonl (same rows, same order),
# with Spark's own Parquet writer through bin/gptneo-sql. Run it again only if emails.jsonl changes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mktemp -d)"
"$here/../bin/gptneo-sql" -e "
  INSERT OVERWRITE DIRECTORY '$out/parquet' USING parquet
  SELECT /*+ COALESCE(1) */ id, subject, body, label
  FROM (SELECT *, monotonically_increasing_id() AS line FROM json.\`$here/emails.jsonl\`) ORDER BY line"
cp "$out"/parquet/part-*.parquet "$here/emails.parquet"
rm -rf "$out"
echo "wrote $here/emails.parquet"
