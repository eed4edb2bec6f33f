package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Goldens;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Four caller threads on one engine: each gets exactly what it gets alone, their rows share the
 * engine's forward steps, and no compute threads are added (callers do not multiply threads).
 */
class SharedEngineThreadsTest {
  static long computeThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("gptneo-compute-")).count();
  }

  @Test
  void fourCallersShareOneEngineWithoutExtraThreads() throws Exception {
    try (Engine engine = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(2).build())) {
      List<List<Input>> perCaller = new ArrayList<>();
      String[] seeds = {"The jury said", "Subject: Re: your account", "Once upon a time", "FREE!!! Click here"};
      for (String s : seeds) {
        List<Input> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          rows.add(Input.text(s + " " + i));
        }
        perCaller.add(rows);
      }
      GenerationParams params = GenerationParams.builder().maxNewTokens(12).doSample(true).temperature(0.8)
          .topP(0.95).seed(17).build();
      List<List<GenerateResult>> alone = new ArrayList<>();
      for (List<Input> rows : perCaller) {
        alone.add(engine.generate(rows, params, InputPolicy.DEFAULT));
      }
      long threadsBefore = computeThreads();
      long stepsBefore = engine.scheduler().steps.get();
      ExecutorService callers = Executors.newFixedThreadPool(4);
      try {
        List<Future<List<GenerateResult>>> together = new ArrayList<>();
        for (List<Input> rows : perCaller) {
          together.add(callers.submit(() -> engine.generate(rows, params, InputPolicy.DEFAULT)));
        }
        long maxThreads = threadsBefore;
        for (int c = 0; c < 4; c++) {
          List<GenerateResult> got = together.get(c).get();
          maxThreads = Math.max(maxThreads, computeThreads());
          for (int i = 0; i < got.size(); i++) {
            assertArrayEquals(alone.get(c).get(i).completionIds, got.get(i).completionIds, "caller " + c + " row " + i);
          }
        }
        assertEquals(threadsBefore, maxThreads, "concurrent callers must not add compute threads");
        assertEquals(threadsBefore, computeThreads());
      } finally {
        callers.shutdownNow();
      }
      long stepsTogether = engine.scheduler().steps.get() - stepsBefore;
      // alone, each caller needs at least 12 steps (one per token); together they share steps
      assertTrue(stepsTogether < 4 * 12, "rows of different callers should share steps, took " + stepsTogether);
    }
  }
}
