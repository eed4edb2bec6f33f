package dev.gptneo.spark.execution;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * This JVM's Arrow memory for gptneo batches: one root, one child allocator per task. Closing a
 * task's allocator fails if any of its buffers are still open, so a leak cannot go unnoticed.
 */
public final class ArrowMemory {
  private static final RootAllocator ROOT = new RootAllocator(Long.MAX_VALUE);

  private ArrowMemory() {}

  public static BufferAllocator forTask(long taskAttemptId) {
    return ROOT.newChildAllocator("gptneo-task-" + taskAttemptId, 0, Long.MAX_VALUE);
  }

  /** Bytes currently allocated by gptneo batches in this JVM (0 when no query runs). */
  public static long allocatedBytes() {
    return ROOT.getAllocatedMemory();
  }
}
