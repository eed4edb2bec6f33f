-- The gptneo quick start: label the sample emails spam/ham and complete a few prompts with the
-- embedded demo model (datasets-sample/models/gpt-neo-demo), all in Spark SQL.
--   bin/gptneo-sql -f datasets-sample/quickstart.sql
-- ${gptneo.home} is the project folder (bin/gptneo-sql sets it).

CREATE OR REPLACE TEMPORARY VIEW emails
USING parquet OPTIONS (path '${gptneo.home}/datasets-sample/emails.parquet');

CREATE OR REPLACE TEMPORARY VIEW prompts
USING json OPTIONS (path '${gptneo.home}/datasets-sample/prompts.jsonl');

-- 1. Spam or ham, by the model's classification head. Input: subject, newline, body; the first
--    256 tokens (the convention the demo model was trained with).
CACHE TABLE labelled AS
SELECT id, subject, label AS truth,
       gptneo_classify(concat(subject, '\n', body),
                       map('max_input_tokens', '256', 'truncation', 'right')) AS predicted
FROM emails;

-- 2. Completions. Greedy decoding loops on a model this small, so sample (seeded per row: the
--    same prompt gives the same completion however the data is partitioned).
CACHE TABLE completions AS
SELECT id, prompt,
       gptneo_generate(prompt, map('max_new_tokens', '20', 'temperature', '0.8', 'top_p', '0.95',
                                   'seed', '42')) AS completion
FROM prompts;

-- 3. The result: some labelled emails, accuracy and throughput, and the completions.
SELECT section, item, input, output FROM (
  SELECT 1 AS part, 'email' AS section, id AS item, substr(subject, 1, 60) AS input,
         IF(predicted = truth, predicted, concat(predicted, ' (labelled ', truth, ')')) AS output
  FROM (SELECT *, row_number() OVER (PARTITION BY truth ORDER BY id) AS n FROM labelled)
  WHERE n <= 4
  UNION ALL
  SELECT 2, 'summary', 'accuracy', concat(count(*), ' emails labelled'),
         format_number(avg(IF(predicted = truth, 1.0, 0.0)), 3)
  FROM labelled
  UNION ALL
  SELECT 2, 'summary', 'throughput', concat('statement ', statement, ': ', rows, ' rows in ',
         format_number(seconds, 1), ' s'), concat(format_number(rows_per_s, 1), ' rows/s')
  FROM gptneo_sql_stats
  UNION ALL
  SELECT 3, 'prompt', CAST(id AS STRING), prompt, completion FROM completions
) ORDER BY part, item;
