package dev.gptneo.spark.execution;

import dev.gptneo.spark.distribution.LocalModels;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.execution.metric.SQLMetrics;

/**
 * The operator's SQL metrics (Spark UI, and {@code executedPlan.metrics} in tests). Updated only
 * on task threads: Spark sends a task's metric values when the task ends.
 */
public final class OperatorMetrics implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String ROWS = "numInputRows";
  public static final String BATCHES = "numBatches";
  public static final String PROMPT_TOKENS = "promptTokens";
  public static final String GENERATED_TOKENS = "generatedTokens";
  public static final String MODEL_LOAD_TIME = "modelLoadTime";
  public static final String MODEL_LOADS = "modelLoads";
  public static final String INFERENCE_TIME = "inferenceTime";

  private final Map<String, SQLMetric> metrics = new LinkedHashMap<>();

  OperatorMetrics(SparkContext sc) {
    metrics.put(ROWS, SQLMetrics.createMetric(sc, "number of rows"));
    metrics.put(BATCHES, SQLMetrics.createMetric(sc, "number of batches"));
    metrics.put(PROMPT_TOKENS, SQLMetrics.createMetric(sc, "prompt tokens"));
    metrics.put(GENERATED_TOKENS, SQLMetrics.createMetric(sc, "generated tokens"));
    metrics.put(MODEL_LOADS, SQLMetrics.createMetric(sc, "model loads"));
    metrics.put(MODEL_LOAD_TIME, SQLMetrics.createNanoTimingMetric(sc, "model load time", -1));
    metrics.put(INFERENCE_TIME, SQLMetrics.createNanoTimingMetric(sc, "inference time", -1));
  }

  public Map<String, SQLMetric> asMap() {
    return metrics;
  }

  void recordBatch(RowBatch batch) {
    long prompt = 0;
    long generated = 0;
    long nanos = 0;
    for (GroupBatch g : batch.groups) {
      prompt += g.promptTokens;
      generated += g.generatedTokens;
      nanos += g.engineNanos;
    }
    metrics.get(ROWS).add(batch.size());
    metrics.get(BATCHES).add(1);
    metrics.get(PROMPT_TOKENS).add(prompt);
    metrics.get(GENERATED_TOKENS).add(generated);
    metrics.get(INFERENCE_TIME).add(nanos);
    ProgressLog.record(batch.size(), prompt + generated);
  }

  void recordLoad(LocalModels.Lease lease) {
    metrics.get(MODEL_LOAD_TIME).add(lease.loadNanos);
    if (lease.loadedHere) {
      metrics.get(MODEL_LOADS).add(1);
    }
  }

  /** The driver-side values after a query (for the CLI's summary line). */
  public long value(String key) {
    return Math.max(0, metrics.get(key).value());
  }
}
