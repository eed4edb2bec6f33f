package dev.gptneo.spark.datasource;

import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.distribution.ModelHandle;
import dev.gptneo.spark.distribution.ModelShipper;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;

/**
 * Scan, builder and batch in one, as the scan has nothing to push down: row ids 0 .. rows-1 in
 * contiguous ranges, one per partition. The model is resolved on the driver once per scan
 * (broadcast or path, as for the SQL functions).
 */
final class GenerationScan implements ScanBuilder, Scan, Batch {
  private final GenerationOptions options;

  GenerationScan(GenerationOptions options) {
    this.options = options;
  }

  @Override
  public Scan build() {
    return this;
  }

  @Override
  public StructType readSchema() {
    return GenerationTable.SCHEMA;
  }

  @Override
  public String description() {
    String p = options.prompt.length() > 40 ? options.prompt.substring(0, 40) + "..." : options.prompt;
    return "gptneo generate '" + p + "' x " + options.rows + " " + options.call.generation;
  }

  @Override
  public Batch toBatch() {
    return this;
  }

  /** Shown on the scan in the Spark UI and in the executed plan's metrics, summed over tasks. */
  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return new CustomMetric[] {new Sum(GenerationMetrics.PROMPT_TOKENS, "prompt tokens"),
        new Sum(GenerationMetrics.GENERATED_TOKENS, "generated tokens"),
        new Sum(GenerationMetrics.FAILED_ROWS, "failed rows"),
        new Sum(GenerationMetrics.ENGINE_MS, "engine time (ms)")};
  }

  /** A metric summed over tasks (Spark instantiates it by its no-argument constructor on the driver). */
  public static final class Sum extends CustomSumMetric {
    private final String name;
    private final String description;

    public Sum() {
      this("", "");
    }

    Sum(String name, String description) {
      this.name = name;
      this.description = description;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String description() {
      return description;
    }
  }

  /** One range of row ids per partition, sizes differing by at most one. */
  @Override
  public InputPartition[] planInputPartitions() {
    SparkSession session = SparkSession.active();
    long parts = options.partitions > 0 ? options.partitions : session.sparkContext().defaultParallelism();
    parts = Math.max(1, Math.min(parts, options.rows));
    InputPartition[] out = new InputPartition[(int) parts];
    for (int i = 0; i < parts; i++) {
      out[i] = new GenerationPartition(options.rows * i / parts, options.rows * (i + 1) / parts);
    }
    return out;
  }

  @Override
  public PartitionReaderFactory createReaderFactory() {
    SparkSession session = SparkSession.active();
    GptNeoConf conf = GptNeoConf.from(session.sessionState().conf());
    ModelHandle model = ModelShipper.prepare(session.sparkContext(), session.sessionState().newHadoopConf(), conf,
        options.call.model);
    return new GenerationReaderFactory(options, model, conf);
  }

  /** Row ids from (inclusive) to (exclusive). */
  static final class GenerationPartition implements InputPartition {
    private static final long serialVersionUID = 1L;
    final long from;
    final long to;

    GenerationPartition(long from, long to) {
      this.from = from;
      this.to = to;
    }
  }
}
