package dev.gptneo.engine.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.gptneo.engine.api.ClassifyResult;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.tasks.ScoreJob;
import dev.gptneo.engine.testing.TinyCheckpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A call's rows reach the scheduler together (Scheduler.hold), so the steps they form depend on the
 * call, not on how fast its rows were submitted: on a GPU a row's bits depend on its step.
 */
class SchedulerHoldTest {
  @TempDir
  Path tmp;

  @Test
  void heldJobsWaitForTheHoldAndThenShareOneStep() throws Exception {
    Path dir = TinyCheckpoints.write(tmp.resolve("tiny"), TinyCheckpoints.spec().with(s -> s.scoreLabels = 2));
    try (Engine engine = Engine.open(dir, EngineOptions.builder().threads(1).build())) {
      Scheduler scheduler = engine.scheduler();
      long before = scheduler.steps.get();
      List<CompletableFuture<double[]>> futures = new ArrayList<>();
      try (Scheduler.Hold hold = scheduler.hold()) {
        futures.add(scheduler.submit(new ScoreJob(new int[] {3, 5, 7}, 1)));
        try (Scheduler.Hold inner = scheduler.hold()) { // joins the outer hold
          futures.add(scheduler.submit(new ScoreJob(new int[] {9, 2}, 1)));
        }
        Thread.sleep(50); // time enough for the loop to run a step, were the first jobs queued
        assertFalse(futures.get(0).isDone(), "a held job waits for the hold");
        futures.add(scheduler.submit(new ScoreJob(new int[] {4, 4, 4, 4}, 2)));
      }
      for (CompletableFuture<double[]> f : futures) {
        f.get();
      }
      assertEquals(1, scheduler.steps.get() - before, "three prompts of 9 tokens: one step");

      // an engine call: six rows, 62 tokens, one step, every time
      List<Input> rows = new ArrayList<>();
      for (int len : new int[] {1, 3, 17, 9, 30, 2}) {
        int[] ids = new int[len];
        for (int i = 0; i < len; i++) {
          ids[i] = (7 * i + len) % 63;
        }
        rows.add(Input.ids(ids));
      }
      for (int call = 0; call < 3; call++) {
        long from = scheduler.steps.get();
        for (ClassifyResult r : engine.classify(rows, InputPolicy.DEFAULT)) {
          assertNull(r.error);
        }
        assertEquals(1, scheduler.steps.get() - from, "call " + call);
      }
    }
  }
}
