package dev.gptneo.spark.datasource;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.spark.distribution.GpuAssignment;
import dev.gptneo.spark.distribution.LocalModels;
import dev.gptneo.spark.execution.ArrowMemory;
import dev.gptneo.spark.execution.RowSeeds;
import dev.gptneo.spark.functions.CallOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * One partition's rows, spark.gptneo.batch.rows at a time: each batch is one call of the engine
 * (rows of one prompt, seeds per row id), its results written into Arrow vectors that Spark reads
 * as a ColumnarBatch without copying. The model is leased from this JVM's LocalModels on the first
 * batch; everything is freed on close, however the task ends.
 */
final class GenerationReader implements PartitionReader<ColumnarBatch> {
  private final GenerationReaderFactory factory;
  private final TaskContext task;
  private final long end;
  private final byte[] promptUtf8;
  private final BufferAllocator allocator;
  private final List<ValueVector> vectors = new ArrayList<>(); // the current batch's columns
  private LocalModels.Lease lease;
  private ColumnarBatch batch;
  private long nextId;
  private final GenerationMetrics metrics = new GenerationMetrics();

  GenerationReader(GenerationScan.GenerationPartition partition, GenerationReaderFactory factory, TaskContext task) {
    this.factory = factory;
    this.task = task;
    this.nextId = partition.from;
    this.end = partition.to;
    this.promptUtf8 = factory.options.prompt.getBytes(StandardCharsets.UTF_8);
    this.allocator = ArrowMemory.forTask(task == null ? -1 : task.taskAttemptId());
  }

  @Override
  public boolean next() {
    if (nextId >= end) {
      return false;
    }
    int n = (int) Math.min(factory.conf.batchRows, end - nextId);
    GenerationOptions options = factory.options;
    long userSeed = options.call.seed();
    Engine engine = lease().engine();
    GenerationParams base = options.call.generationParams(engine.generationDefaults()); // over the model's defaults
    List<GenerationParams> params = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      params.add(base.toBuilder().seed(RowSeeds.seed(userSeed, nextId + i, promptUtf8)).build());
    }
    long t0 = System.nanoTime();
    List<GenerateResult> results = engine.generate(Collections.nCopies(n, Input.text(options.prompt)), params,
        options.call.inputPolicy());
    metrics.engineNanos += System.nanoTime() - t0;
    fill(results, n);
    nextId += n;
    return true;
  }

  @Override
  public ColumnarBatch get() {
    return batch;
  }

  private LocalModels.Lease lease() {
    if (lease == null) {
      lease = LocalModels.acquire(factory.model, GpuAssignment.engineOptions(factory.conf, task), factory.conf.localDir,
          factory.conf.verifyPath, task == null ? -1 : task.taskAttemptId());
    }
    return lease;
  }

  /** Columns of SCHEMA for n results; a failed row fails the read unless on_error = null. */
  private void fill(List<GenerateResult> results, int n) {
    closeVectors();
    BigIntVector id = add(new BigIntVector("id", allocator));
    VarCharVector text = add(new VarCharVector("text", allocator));
    VarCharVector finish = add(new VarCharVector("finish_reason", allocator));
    IntVector promptTokens = add(new IntVector("prompt_tokens", allocator));
    IntVector completionTokens = add(new IntVector("completion_tokens", allocator));
    VarCharVector error = add(new VarCharVector("error", allocator));
    vectors.forEach(ValueVector::allocateNew);
    for (int i = 0; i < n; i++) {
      GenerateResult r = results.get(i);
      id.setSafe(i, nextId + i);
      if (r.error != null) {
        if (factory.options.call.onError == CallOptions.OnError.FAIL) {
          throw new IllegalStateException("the gptneo source failed on row " + (nextId + i) + ": " + r.error
              + ". Fix the options (e.g. 'max_input_tokens', 'truncation'), or add option on_error = 'null' to keep"
              + " such rows with their error column set");
        }
        error.setSafe(i, r.error.getBytes(StandardCharsets.UTF_8));
        metrics.failedRows++;
        continue;
      }
      if (r.text != null) {
        text.setSafe(i, r.text.getBytes(StandardCharsets.UTF_8));
      }
      finish.setSafe(i, r.finishReason.json.getBytes(StandardCharsets.UTF_8));
      promptTokens.setSafe(i, r.promptTokens);
      completionTokens.setSafe(i, r.completionTokens);
      metrics.promptTokens += r.promptTokens;
      metrics.generatedTokens += r.completionTokens;
    }
    ColumnVector[] columns = new ColumnVector[vectors.size()];
    for (int c = 0; c < columns.length; c++) {
      vectors.get(c).setValueCount(n);
      columns[c] = new ArrowColumnVector(vectors.get(c));
    }
    batch = new ColumnarBatch(columns, n);
  }

  private <V extends ValueVector> V add(V vector) {
    vectors.add(vector);
    return vector;
  }

  private void closeVectors() {
    vectors.forEach(ValueVector::close);
    vectors.clear();
    batch = null;
  }

  @Override
  public org.apache.spark.sql.connector.metric.CustomTaskMetric[] currentMetricsValues() {
    return metrics.values();
  }

  @Override
  public void close() {
    closeVectors();
    if (lease != null) {
      lease.close();
      lease = null;
    }
    allocator.close();
  }
}
