package dev.gptneo.engine.batching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.tasks.HeadRowsJob;
import dev.gptneo.engine.testing.TinyCheckpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the CPU the jobs take their head rows side by side on the compute pool: every job gets its own
 * rows (the bits it gets alone), and a job whose accept throws fails alone.
 */
class SchedulerAcceptTest {
  @TempDir static Path tmp;

  /** Throws on its second row. */
  static final class Failing extends Job<float[]> {
    final RuntimeException error = new IllegalStateException("bad row");
    int rows;

    Failing(int[] tokens) {
      super(tokens, tokens.length);
    }

    @Override
    public Head head() {
      return Head.LM;
    }

    @Override
    public boolean wantsRow(int position) {
      return true;
    }

    @Override
    public void accept(int position, float[] out, int off, int width) {
      if (++rows == 2) {
        throw error;
      }
    }

    @Override
    public float[] afterStep() {
      return pendingTokens() == 0 ? new float[0] : null;
    }
  }

  @Test
  void jobsTakeTheirRowsSideBySideAndFailAlone() throws Exception {
    Path dir = TinyCheckpoints.write(tmp.resolve("tiny"), TinyCheckpoints.spec());
    try (Engine e = Engine.open(dir, EngineOptions.builder().threads(3).build())) {
      Scheduler scheduler = e.scheduler();
      List<int[]> prompts = new ArrayList<>();
      for (int i = 0; i < 9; i++) {
        prompts.add(new int[] {1 + i, 7, 3 + 2 * i, 5});
      }
      List<float[]> alone = new ArrayList<>();
      for (int[] p : prompts) {
        alone.add(scheduler.submit(new HeadRowsJob(p, Head.LM, 64, false)).get(60, TimeUnit.SECONDS));
      }
      List<CompletableFuture<float[]>> together = new ArrayList<>();
      Failing failing = new Failing(new int[] {4, 4, 4});
      CompletableFuture<float[]> failed;
      try (Scheduler.Hold hold = scheduler.hold()) {
        for (int i = 0; i < prompts.size(); i++) {
          together.add(scheduler.submit(new HeadRowsJob(prompts.get(i), Head.LM, 64, false)));
        }
        failed = scheduler.submit(failing);
      }
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(alone.get(i), together.get(i).get(60, TimeUnit.SECONDS), "row " + i);
      }
      ExecutionException thrown = assertThrows(ExecutionException.class, () -> failed.get(60, TimeUnit.SECONDS));
      assertSame(failing.error, thrown.getCause());
      assertTrue(failing.rows == 2, "its rows after the failure are not delivered: " + failing.rows);
    }
  }
}
