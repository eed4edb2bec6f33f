package dev.gptneo.spark.execution;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.spark.GptNeoConf;
import dev.gptneo.spark.distribution.GpuAssignment;
import dev.gptneo.spark.distribution.LocalModels;
import dev.gptneo.spark.distribution.ModelHandle;
import dev.gptneo.spark.functions.GptNeoCall;
import dev.gptneo.spark.internal.Scala;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;

/**
 * One partition through the operator, as an iterator: read a batch of rows, fill the Arrow inputs,
 * submit; keep up to {@code spark.gptneo.batch.inFlight} batches at the engine; hand out the oldest
 * batch's rows, each joined with its call results, in input order. Everything it holds is freed
 * when the task ends, however it ends.
 */
final class PartitionRun extends scala.collection.AbstractIterator<InternalRow> {

  private final EvalPartitions plan;
  private final scala.collection.Iterator<InternalRow> input;
  private final TaskContext task;
  private final BufferAllocator allocator;
  private final UnsafeProjection inputProjection;
  private final UnsafeProjection outputProjection;
  private final JoinedRow joined = new JoinedRow();
  private final ArrayDeque<RowBatch> inFlight = new ArrayDeque<>();
  private final Map<String, LocalModels.Lease> leases = new HashMap<>();
  private Engine[] engines;

  private RowBatch current;
  private ResultReader[] readers;
  private int next;
  private boolean closed;

  PartitionRun(EvalPartitions plan, scala.collection.Iterator<InternalRow> input, TaskContext task) {
    this.plan = plan;
    this.input = input;
    this.task = task;
    this.allocator = ArrowMemory.forTask(task == null ? -1 : task.taskAttemptId());
    this.inputProjection = UnsafeProjection.create(Scala.seq(plan.layout.inputs), plan.childOutput);
    this.outputProjection = UnsafeProjection.create(Scala.<org.apache.spark.sql.catalyst.expressions.Expression>widen(plan.output), plan.output);
    ProgressLog.intervalNanos = plan.conf.progressIntervalMs * 1_000_000L;
  }

  @Override
  public boolean hasNext() {
    while (true) {
      if (current != null && next < current.size()) {
        return true;
      }
      if (current != null) {
        current.close();
        current = null;
      }
      fillPipeline();
      if (inFlight.isEmpty()) {
        return false;
      }
      current = inFlight.poll();
      current.await();
      plan.metrics.recordBatch(current);
      readers = new ResultReader[current.groups.length];
      for (int g = 0; g < readers.length; g++) {
        readers[g] = new ResultReader(current.groups[g].result);
      }
      next = 0;
    }
  }

  @Override
  public InternalRow next() {
    if (!hasNext()) {
      throw new java.util.NoSuchElementException();
    }
    int row = next++;
    Object[] values = new Object[plan.layout.calls.size()];
    for (int c = 0; c < values.length; c++) {
      int g = plan.layout.callGroup[c];
      int entry = row * plan.layout.groups.get(g).slots() + plan.layout.callSlot[c];
      GptNeoCall call = plan.layout.calls.get(c);
      try {
        GroupBatch group = current.groups[g];
        values[c] = readers[g].read(call, entry, group.nullInputs.get(entry), group.emptyInputs.get(entry));
      } catch (ResultReader.RowFailure e) {
        throw new GptNeoRowException(call, e.getMessage(), inputPreview(current.rows.get(row), g, entry));
      }
    }
    return outputProjection.apply(joined.apply(current.rows.get(row), new GenericInternalRow(values)));
  }

  /** Reads rows until the pipeline holds batchesInFlight batches or the input ends. */
  private void fillPipeline() {
    GptNeoConf conf = plan.conf;
    while (inFlight.size() < conf.batchesInFlight && input.hasNext()) {
      RowBatch batch = new RowBatch(plan.layout, allocator, conf.batchRows);
      inFlight.add(batch); // closed by close() even if filling fails
      while (batch.size() < conf.batchRows && batch.estimatedTokens() < conf.batchTokens && input.hasNext()) {
        InternalRow row = input.next();
        batch.add(row, inputProjection.apply(row));
      }
      batch.submit(engines(), allocator);
    }
  }

  /** The engine of each group, loading models on first use (so an empty partition loads nothing). */
  private Engine[] engines() {
    if (engines == null) {
      engines = new Engine[plan.layout.groups.size()];
      EngineOptions options = GpuAssignment.engineOptions(plan.conf, task); // the GPU Spark assigned, if any
      for (int g = 0; g < engines.length; g++) {
        String ref = plan.layout.groups.get(g).modelRef();
        LocalModels.Lease lease = leases.computeIfAbsent(EvalPartitions.modelKey(ref), k -> {
          ModelHandle handle = plan.models.get(k);
          LocalModels.Lease l = LocalModels.acquire(handle, options, plan.conf.localDir, plan.conf.verifyPath,
              task == null ? -1 : task.taskAttemptId());
          plan.metrics.recordLoad(l);
          return l;
        });
        engines[g] = lease.engine();
      }
    }
    return engines;
  }

  private String inputPreview(InternalRow row, int group, int entry) {
    InternalRow projected = inputProjection.apply(row);
    int[] slot = plan.layout.groups.get(group).slotInputs.get(entry % plan.layout.groups.get(group).slots());
    StringBuilder s = new StringBuilder();
    for (int index : slot) {
      String text = projected.isNullAt(index) ? "NULL" : projected.getUTF8String(index).toString();
      s.append(s.length() == 0 ? "" : " | ").append(text.length() > 80 ? text.substring(0, 80) + "..." : text);
    }
    return s.toString();
  }

  /** Frees batches, model leases and the task's Arrow allocator (fails loudly on a leak). */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (current != null) {
      current.close();
    }
    for (RowBatch b : inFlight) {
      b.close();
    }
    inFlight.clear();
    leases.values().forEach(LocalModels.Lease::close);
    allocator.close();
  }
}
