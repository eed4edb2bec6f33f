package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Four threads calling one Engine at once each get exactly what they get alone. */
class EngineConcurrencyTest {
  static final String[] PROMPTS = {
      "Once upon a time", "FREE!!! Click here to claim your prize", "The president of the United States",
      "Hi all,\nI have a question about the new kernel"};

  /** What one caller does: several tasks, some rows bad, sampled and greedy generation. */
  static List<Object> work(Engine e, int who) {
    String p = PROMPTS[who];
    List<Object> out = new ArrayList<>();
    GenerationParams greedy = GenerationParams.builder().maxNewTokens(6 + who).build();
    GenerationParams sampled = GenerationParams.builder().maxNewTokens(8).doSample(true).temperature(0.8).topP(0.9)
        .seed(1000 + who).build();
    List<Input> rows = List.of(Input.text(p), Input.text(""), Input.text(p + " and more"));
    for (GenerateResult r : e.generate(rows, List.of(greedy, greedy, sampled), InputPolicy.DEFAULT)) {
      out.add(r.error != null ? r.error : r.completionIds);
    }
    for (ClassifyResult r : e.classify(rows, InputPolicy.DEFAULT)) {
      out.add(r.error != null ? r.error : r.logits);
    }
    for (EmbedResult r : e.embed(rows, InputPolicy.DEFAULT)) {
      out.add(r.error != null ? r.error : r.mean);
    }
    for (ScoreResult r : e.score(rows, InputPolicy.DEFAULT)) {
      out.add(r.error != null ? r.error : r.tokenLogprobs);
    }
    return out;
  }

  @Test
  void fourThreadsGetTheirSoloResults() throws Exception {
    Engine e = Engines.get(Goldens.demoModel(), EngineOptions.Kernels.AUTO);
    List<List<Object>> alone = new ArrayList<>();
    for (int who = 0; who < 4; who++) {
      alone.add(work(e, who));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 3; round++) {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<Object>>> futures = new ArrayList<>();
        for (int who = 0; who < 4; who++) {
          int w = who;
          futures.add(pool.submit(() -> {
            start.await();
            return work(e, w);
          }));
        }
        start.countDown();
        for (int who = 0; who < 4; who++) {
          List<Object> got = futures.get(who).get(120, TimeUnit.SECONDS);
          List<Object> expected = alone.get(who);
          assertEquals(expected.size(), got.size());
          for (int i = 0; i < expected.size(); i++) {
            String what = "round " + round + " thread " + who + " item " + i;
            Object x = expected.get(i);
            Object y = got.get(i);
            if (x instanceof int[]) {
              assertArrayEquals((int[]) x, (int[]) y, what);
            } else if (x instanceof float[]) {
              assertArrayEquals((float[]) x, (float[]) y, 1e-5f, what);
            } else if (x instanceof double[]) {
              assertArrayEquals((double[]) x, (double[]) y, 1e-5, what);
            } else {
              assertEquals(x, y, what);
            }
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
