package dev.gptneo.spark.datasource;

import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/** The gptneo source's task metrics, by name (GenerationScan.supportedCustomMetrics lists them). */
final class GenerationMetrics {
  static final String PROMPT_TOKENS = "promptTokens";
  static final String GENERATED_TOKENS = "generatedTokens";
  static final String FAILED_ROWS = "failedRows";
  static final String ENGINE_MS = "engineMs";

  long promptTokens;
  long generatedTokens;
  long failedRows;
  long engineNanos;

  CustomTaskMetric[] values() {
    return new CustomTaskMetric[] {metric(PROMPT_TOKENS, promptTokens), metric(GENERATED_TOKENS, generatedTokens),
        metric(FAILED_ROWS, failedRows), metric(ENGINE_MS, engineNanos / 1_000_000)};
  }

  private static CustomTaskMetric metric(String name, long value) {
    return new CustomTaskMetric() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public long value() {
        return value;
      }
    };
  }
}
