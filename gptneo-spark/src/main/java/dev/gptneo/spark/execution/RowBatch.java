package dev.gptneo.spark.execution;

import dev.gptneo.engine.api.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * A batch of input rows (copied: Spark reuses row objects) and, per group, its Arrow inputs and
 * results. Submitted, its groups run concurrently on caller threads, so different calls of one
 * SELECT share the engine's forward steps; the task thread meanwhile reads the next batch.
 */
final class RowBatch implements AutoCloseable {
  /** Threads that wait on the engine on behalf of tasks (the engine owns the compute threads). */
  private static final ExecutorService CALLERS = Executors.newCachedThreadPool(new ThreadFactory() {
    private final AtomicInteger n = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "gptneo-batch-caller-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  });

  final List<InternalRow> rows = new ArrayList<>();
  final GroupBatch[] groups;
  private CompletableFuture<Void> done;

  RowBatch(CallLayout layout, BufferAllocator allocator, int expectedRows) {
    groups = new GroupBatch[layout.groups.size()];
    try {
      for (int g = 0; g < groups.length; g++) {
        CallLayout.Group group = layout.groups.get(g);
        groups[g] = new GroupBatch(group, allocator, expectedRows * group.slots());
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  void add(InternalRow row, InternalRow projectedInputs) {
    rows.add(row.copy());
    for (GroupBatch g : groups) {
      g.add(projectedInputs);
    }
  }

  int size() {
    return rows.size();
  }

  long estimatedTokens() {
    long total = 0;
    for (GroupBatch g : groups) {
      total += g.estimatedTokens;
    }
    return total;
  }

  /** Starts every group's engine call; engines[g] is the engine of group g. */
  void submit(Engine[] engines, BufferAllocator allocator) {
    CompletableFuture<?>[] calls = new CompletableFuture<?>[groups.length];
    for (int g = 0; g < groups.length; g++) {
      GroupBatch group = groups[g];
      Engine engine = engines[g];
      calls[g] = CompletableFuture.runAsync(() -> group.run(engine, allocator), CALLERS);
    }
    done = CompletableFuture.allOf(calls);
  }

  /** Waits for the engine; rethrows its failure (e.g. a model without the head a function needs). */
  void await() {
    try {
      done.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof RuntimeException) {
        throw (RuntimeException) cause;
      }
      throw new IllegalStateException(cause.getMessage(), cause);
    }
  }

  /** Frees the batch's Arrow memory, after its engine calls finished (even if the task was cancelled). */
  @Override
  public void close() {
    if (done != null) {
      try {
        done.join();
      } catch (CompletionException e) {
        // already reported through await(), or the task is failing anyway
      }
    }
    for (GroupBatch g : groups) {
      if (g != null) {
        g.close();
      }
    }
  }
}
