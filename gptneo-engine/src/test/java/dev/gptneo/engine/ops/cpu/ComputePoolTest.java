package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ComputePoolTest {
  @Test
  void everyTaskRunsExactlyOnceAcrossManyJobs() {
    try (ComputePool pool = new ComputePool(3)) {
      for (int job = 0; job < 2000; job++) {
        int tasks = 1 + job % 17;
        AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
        pool.parallelFor(tasks, hits::incrementAndGet);
        for (int t = 0; t < tasks; t++) {
          assertEquals(1, hits.get(t), "job " + job + " task " + t);
        }
      }
    }
  }

  @Test
  void aFailingTaskFailsTheCallAndThePoolGoesOn() {
    try (ComputePool pool = new ComputePool(2)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(8, t -> {
        if (t == 5) {
          throw new IllegalStateException("task 5");
        }
      }));
      assertEquals("task 5", e.getMessage());
      AtomicIntegerArray hits = new AtomicIntegerArray(4);
      pool.parallelFor(4, hits::incrementAndGet);
      assertEquals(4, hits.get(0) + hits.get(1) + hits.get(2) + hits.get(3));
    }
  }
}
