package dev.gptneo.spark.sql;

import dev.gptneo.spark.execution.OperatorMetrics;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Throughput of each statement that ran gptneo functions: a line on stderr, and a row in the
 * temporary view {@code gptneo_sql_stats} that later statements of the script can select from
 * (statement, rows, seconds, rows_per_s, prompt_tokens, generated_tokens).
 */
final class StatementStats {
  static final String VIEW = "gptneo_sql_stats";
  private static final StructType SCHEMA = new StructType()
      .add("statement", DataTypes.IntegerType)
      .add("rows", DataTypes.LongType)
      .add("seconds", DataTypes.DoubleType)
      .add("rows_per_s", DataTypes.DoubleType)
      .add("prompt_tokens", DataTypes.LongType)
      .add("generated_tokens", DataTypes.LongType);

  private final SparkSession spark;
  private final List<Row> rows = new ArrayList<>();

  StatementStats(SparkSession spark) {
    this.spark = spark;
    publish();
  }

  void add(int statement, long nanos, List<OperatorMetrics> ran, PrintStream err) {
    if (ran.isEmpty()) {
      return;
    }
    long count = 0;
    long prompt = 0;
    long generated = 0;
    for (OperatorMetrics m : ran) {
      count += m.value(OperatorMetrics.ROWS);
      prompt += m.value(OperatorMetrics.PROMPT_TOKENS);
      generated += m.value(OperatorMetrics.GENERATED_TOKENS);
    }
    double seconds = nanos / 1e9;
    double rate = count / seconds;
    rows.add(RowFactory.create(statement, count, seconds, rate, prompt, generated));
    publish();
    err.println(String.format("[gptneo-sql] statement %d: %,d rows through gptneo in %.2f s (%.1f rows/s); "
        + "%,d prompt tokens, %,d generated tokens", statement, count, seconds, rate, prompt, generated));
  }

  private void publish() {
    spark.createDataFrame(new ArrayList<>(rows), SCHEMA).createOrReplaceTempView(VIEW);
  }
}
