package dev.gptneo.engine.batching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.api.AnswerResult;
import dev.gptneo.engine.api.ClassifyResult;
import dev.gptneo.engine.api.EmbedResult;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.QaInput;
import dev.gptneo.engine.api.ScoreResult;
import dev.gptneo.engine.api.TokenClassifyResult;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.TinyCheckpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler's limits change how rows are batched, never the results: one token per step,
 * one sequence per step, one head row per call, and a KV budget that admits one sequence at a
 * time all give what the default limits give.
 */
class SchedulerLimitsTest {
  @TempDir static Path tmp;
  static Path dir;
  static final List<Input> ROWS = new ArrayList<>();

  @BeforeAll
  static void model() {
    dir = TinyCheckpoints.write(tmp.resolve("all-heads"), TinyCheckpoints.spec().with(s -> {
      s.scoreLabels = 2;
      s.tokenLabels = 3;
      s.qa = true;
    }));
    Random rnd = new Random(5);
    for (int len : new int[] {1, 3, 17, 9, 30, 2}) {
      int[] ids = new int[len];
      for (int i = 0; i < len; i++) {
        ids[i] = rnd.nextInt(63);
      }
      ROWS.add(Input.ids(ids));
    }
  }

  /** Everything an engine computes for ROWS. */
  static List<Object> everything(EngineOptions options) {
    List<Object> out = new ArrayList<>();
    try (Engine e = Engine.open(dir, options)) {
      List<GenerationParams> params = new ArrayList<>();
      for (int i = 0; i < ROWS.size(); i++) {
        params.add(i % 2 == 0 ? GenerationParams.builder().maxNewTokens(5 + i).build()
            : GenerationParams.builder().maxNewTokens(6).doSample(true).seed(i).build());
      }
      for (GenerateResult r : e.generate(ROWS, params, InputPolicy.DEFAULT)) {
        assertNull(r.error);
        out.add(r.completionIds);
      }
      for (ClassifyResult r : e.classify(ROWS, InputPolicy.DEFAULT)) {
        out.add(r.logits);
      }
      for (TokenClassifyResult r : e.tokenClassify(ROWS, InputPolicy.DEFAULT)) {
        for (float[] row : r.logits) {
          out.add(row);
        }
      }
      for (EmbedResult r : e.embed(ROWS, InputPolicy.DEFAULT)) {
        out.add(r.mean);
        out.add(r.lastToken);
      }
      for (ScoreResult r : e.score(ROWS, InputPolicy.DEFAULT)) {
        out.add(r.tokenLogprobs);
      }
      List<QaInput> qa = new ArrayList<>();
      for (Input in : ROWS) {
        qa.add(QaInput.ids(in.ids()));
      }
      for (AnswerResult r : e.answer(qa, 4, InputPolicy.DEFAULT)) {
        out.add(r.startLogits);
        out.add(new int[] {r.startToken, r.endToken});
      }
      assertTrue(e.scheduler().steps.get() > 0);
      assertEquals(0, e.scheduler().queued());
    }
    return out;
  }

  static void assertSame(List<Object> expected, List<Object> got, String what) {
    assertEquals(expected.size(), got.size(), what);
    for (int i = 0; i < expected.size(); i++) {
      Object x = expected.get(i);
      Object y = got.get(i);
      if (x instanceof int[]) {
        assertArrayEquals((int[]) x, (int[]) y, what + " item " + i);
      } else if (x instanceof float[]) {
        assertArrayEquals((float[]) x, (float[]) y, 1e-5f, what + " item " + i);
      } else {
        assertArrayEquals((double[]) x, (double[]) y, 1e-5, what + " item " + i);
      }
    }
  }

  @Test
  void limitsChangeBatchingNotResults() {
    EngineOptions base = EngineOptions.builder().threads(1).build();
    List<Object> expected = everything(base);
    assertSame(expected, everything(base.toBuilder().maxBatchTokens(1).build()), "one token per step");
    assertSame(expected, everything(base.toBuilder().maxBatchSequences(1).build()), "one sequence per step");
    assertSame(expected, everything(base.toBuilder().maxHeadRows(1).build()), "one head row per call");
    assertSame(expected, everything(base.toBuilder().kvCacheBytes(1).build()), "one sequence's cache at a time");
    assertSame(expected, everything(base.toBuilder().maxBatchTokens(7).maxBatchSequences(3).maxHeadRows(2).threads(2)
        .build()), "odd limits");
  }

  @Test
  void optionsValidation() {
    String[] bad = {"threads", "batch", "kv", "device", "kernels"};
    for (String b : bad) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> {
        EngineOptions.Builder builder = EngineOptions.builder();
        switch (b) {
          case "threads": builder.threads(0); break;
          case "batch": builder.maxBatchTokens(0); break;
          case "kv": builder.kvCacheBytes(0); break;
          case "device": builder.device("tpu"); break;
          default: builder.kernels("fast");
        }
        builder.build();
      });
      assertTrue(e.getMessage().length() > 10, e.getMessage());
    }
  }

  /** Closing while callers keep submitting: every call returns (rows fail with "closed"), none hangs. */
  @Test
  void closingUnderLoadLeavesNoCallerWaiting() throws Exception {
    for (int round = 0; round < 5; round++) {
      Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build());
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
      List<java.util.concurrent.Future<Integer>> calls = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        calls.add(pool.submit(() -> {
          int n = 0;
          while (true) {
            GenerateResult r = e.generate(List.of(ROWS.get(2)), GenerationParams.builder().maxNewTokens(3).build(),
                InputPolicy.DEFAULT).get(0);
            n++;
            if (r.error != null) {
              assertTrue(r.error.contains("closed"), r.error);
              return n;
            }
          }
        }));
      }
      Thread.sleep(20 + 10 * round);
      e.close();
      for (java.util.concurrent.Future<Integer> c : calls) {
        assertTrue(c.get(30, java.util.concurrent.TimeUnit.SECONDS) > 0);
      }
      pool.shutdownNow();
    }
  }

  @Test
  void aClosedEngineFailsRowsNotCallers() {
    Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build());
    e.close();
    GenerateResult r = e.generate(List.of(ROWS.get(1)), GenerationParams.builder().maxNewTokens(2).build(),
        InputPolicy.DEFAULT).get(0);
    assertTrue(r.error.contains("closed"), r.error);
  }
}
