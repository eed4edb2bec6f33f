package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.Result;
import dev.gptneo.engine.api.Truncation;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Goldens;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The whole engine with device cuda on {@link FakeGpu} (nothing computes: logits read as zeros):
 * every task completes, alone and from three threads at once (an executor's Spark tasks), the work
 * that continues from cache copies launches kv_copy, every device call after loading comes from the
 * scheduler's thread, and closing the engine frees the device.
 */
class CudaEnginePlumbingTest {
  @Test
  void everyTaskDrivesTheDeviceFromTheSchedulersThreadOnly() throws Exception {
    FakeGpu gpu = new FakeGpu(4L << 30);
    CudaSupport.Status status = CudaSupport.status();
    IntFunction<Gpu> devices = CudaBackend.devices;
    CudaSupport.status = new CudaSupport.Status(true, "fake GPU", 1);
    CudaBackend.devices = device -> gpu;
    try (Engine e = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(1).device("cuda").build())) {
      assertTrue(e.scheduler() != null && gpu.describe().equals("fake GPU"));
      gpu.oneThread(); // loading ran on this thread; from here on only the scheduler's
      String template = "Label this email as spam or ham. Reply with a single word and nothing more. Email: ";
      List<Input> emails = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        emails.add(Input.text(template + "meeting at " + (i + 2) + " pm tomorrow, bring the slides"));
      }
      InputPolicy policy = new InputPolicy(128, Truncation.RIGHT);
      List<Result> results = new ArrayList<>();
      results.addAll(e.generate(emails, GenerationParams.builder().maxNewTokens(3).build(), policy));
      // greedy beams: only each beam's continuations come back (beam_candidates), not its logits
      int beforeBeams = gpu.downloads.size();
      results.addAll(e.generate(emails.subList(0, 2), GenerationParams.builder().numBeams(3).maxNewTokens(3).build(),
          policy));
      assertTrue(gpu.launches.contains("beam_candidates"));
      for (long bytes : gpu.downloads.subList(beforeBeams, gpu.downloads.size())) {
        assertTrue(bytes < 4L * 50257, "beams read no logits back: a download of " + bytes + " bytes");
      }
      // beam sampling draws over every beam's softmax on the host: those beams read their logits back
      results.addAll(e.generate(emails.subList(0, 2), GenerationParams.builder().numBeams(2).doSample(true).seed(3)
          .maxNewTokens(3).build(), policy));
      results.addAll(e.generate(emails.subList(0, 2),
          GenerationParams.builder().doSample(true).seed(5).maxNewTokens(3).build(), policy));
      // logprobs come back with the ids (the fake device reads back zeros), not with the logits
      int downloadsBefore = gpu.downloads.size();
      List<dev.gptneo.engine.api.GenerateResult> withLogprobs = e.generate(emails.subList(0, 2),
          GenerationParams.builder().maxNewTokens(2).logprobs(true).build(), policy);
      for (dev.gptneo.engine.api.GenerateResult r : withLogprobs) {
        assertEquals(2, r.tokenLogprobs.length, String.valueOf(r.error));
        assertEquals(0.0, r.tokenLogprobs[0], "the device's log-probability, as downloaded");
      }
      for (long bytes : gpu.downloads.subList(downloadsBefore, gpu.downloads.size())) {
        assertTrue(bytes < 4L * 50257, "logprobs read no logits back: a download of " + bytes + " bytes");
      }
      results.addAll(withLogprobs);
      // a typical_p whose float is 1 chooses on the host (zero logits read back: all kept, so a draw
      // over the vocabulary); suppressed ids and bad words go to the device as bans
      List<dev.gptneo.engine.api.GenerateResult> hostChosen = e.generate(emails.subList(0, 2),
          GenerationParams.builder().doSample(true).topK(0).minP(0.1).typicalP(1 - 1e-9)
              .sequenceBias(new int[][] {{5}}, new double[] {100}).maxNewTokens(2).build(), policy);
      for (dev.gptneo.engine.api.GenerateResult r : hostChosen) {
        assertEquals(5, r.completionIds[0], "the +100 bias leaves only id 5 after min_p: chosen on the host");
      }
      results.addAll(hostChosen);
      results.addAll(e.generate(emails.subList(0, 2), GenerationParams.builder().suppressTokens(0)
          .badWordsIds(new int[] {1}).maxNewTokens(2).build(), policy));
      int scoringDownloads = gpu.downloads.size();
      results.addAll(e.classifyZeroShot(emails, List.of("spam", "a note from a colleague"), policy));
      results.addAll(e.score(emails, policy));
      for (long bytes : gpu.downloads.subList(scoringDownloads, gpu.downloads.size())) {
        assertTrue(bytes < 4L * 50257, "zero-shot labels and scores read only log-probabilities: " + bytes + " bytes");
      }
      results.addAll(e.classify(emails, policy));
      results.addAll(e.embed(emails, policy));
      // Spark tasks share an executor's engine: three threads at once, each beams, labels and a template
      List<java.util.concurrent.Future<List<? extends Result>>> calls = new ArrayList<>();
      java.util.concurrent.ExecutorService tasks = java.util.concurrent.Executors.newFixedThreadPool(3);
      try {
        for (int t = 0; t < 3; t++) {
          calls.add(tasks.submit(() -> e.generate(emails, GenerationParams.builder().numBeams(2).maxNewTokens(2)
              .build(), policy)));
          calls.add(tasks.submit(() -> e.classifyZeroShot(emails, List.of("spam", "a note from a colleague"),
              policy)));
          calls.add(tasks.submit(() -> e.generate(emails, GenerationParams.builder().maxNewTokens(2).build(),
              policy)));
        }
        for (java.util.concurrent.Future<List<? extends Result>> call : calls) {
          results.addAll(call.get(120, java.util.concurrent.TimeUnit.SECONDS));
        }
      } finally {
        tasks.shutdownNow();
      }
      for (Result r : results) {
        assertNull(r.error);
      }
      assertTrue(gpu.launches.contains("kv_copy_f16"), "shared starts, beams and labels continue from copies");
      assertEquals(List.of(), gpu.wrongThreadCalls);
    } finally {
      CudaSupport.status = status;
      CudaBackend.devices = devices;
    }
    assertTrue(gpu.closed);
    assertEquals(0, gpu.liveAllocations(), "closing the engine frees the device");
  }

  /** A KV budget that holds one search's beam caches at a time: the other searches wait, none fails. */
  @Test
  void keptCachesWaitForRoomInASmallBudget() {
    FakeGpu gpu = new FakeGpu(4L << 30);
    CudaSupport.Status status = CudaSupport.status();
    IntFunction<Gpu> devices = CudaBackend.devices;
    CudaSupport.status = new CudaSupport.Status(true, "fake GPU", 1);
    CudaBackend.devices = device -> gpu;
    try (Engine e = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(1).device("cuda")
        .kvCacheBytes(400_000).build())) {
      List<Input> rows = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        rows.add(Input.text("Dear team, the invoice number " + i + " is attached, please pay it by Friday. Our bank"
            + " details have not changed since the last order, and the amount is the same.")); // 34 tokens
      }
      long oneSearch = 3 * e.scheduler().cacheBytes(34 + 3);
      assertTrue(oneSearch <= 400_000 && 2 * oneSearch > 400_000, "the budget holds one search: " + oneSearch);
      for (Result r : e.generate(rows, GenerationParams.builder().numBeams(3).maxNewTokens(3).build(),
          InputPolicy.DEFAULT)) {
        assertNull(r.error);
      }
      for (Result r : e.classifyZeroShot(rows, List.of("an invoice to pay", "a note from a colleague"),
          InputPolicy.DEFAULT)) {
        assertNull(r.error);
      }
    } finally {
      CudaSupport.status = status;
      CudaBackend.devices = devices;
    }
    assertEquals(0, gpu.liveAllocations());
  }
}
