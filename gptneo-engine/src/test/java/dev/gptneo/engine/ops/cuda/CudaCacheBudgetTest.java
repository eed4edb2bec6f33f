package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.generate.GenerateJob;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.weights.Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The GPU's KV cache on a fake device with room for two sequences' caches: requests wait for
 * space instead of failing, and a sequence that can never fit fails with a message naming the
 * KV cache. The budget itself comes from free device memory (EngineOptionsTest).
 */
class CudaCacheBudgetTest {
  private static final int PROMPT = 12;
  private static final int NEW_TOKENS = 4;

  @Test
  void requestsWaitForCacheSpaceWhenTheDeviceIsFull() throws Exception {
    Path dir = Goldens.demoModel();
    GptNeoConfig config = GptNeoConfig.load(dir);
    long perSequence = CudaSequenceCache.bytes(config, PROMPT + NEW_TOKENS, Precision.F16);
    FakeGpu gpu = new FakeGpu(1L << 32);
    try (CudaOps ops = new CudaOps(gpu, null)) {
      Scheduler scheduler = warmedUp(dir, config, ops);
      assertEquals(perSequence, scheduler.cacheBytes(PROMPT + NEW_TOKENS), "accounted in the cache's real precision");
      gpu.capacity = gpu.liveBytes() + perSequence + perSequence / 2; // one idle cache is live: room for 2.5
      List<CompletableFuture<GenerateJob.Output>> outs = new ArrayList<>();
      try (Scheduler.Hold hold = scheduler.hold()) { // all six reach the loop at once, so some must wait
        for (int i = 0; i < 6; i++) {
          outs.add(scheduler.submit(job(config, PROMPT + NEW_TOKENS)));
        }
      }
      for (CompletableFuture<GenerateJob.Output> f : outs) {
        assertEquals(NEW_TOKENS, f.get(60, TimeUnit.SECONDS).completionIds.length, "every request completes");
      }
      assertTrue(gpu.refusals > 0, "some requests found the device full and waited");
      scheduler.close();
    }
  }

  @Test
  void aSequenceThatCanNeverFitFailsAndNamesTheCache() throws Exception {
    Path dir = Goldens.demoModel();
    GptNeoConfig config = GptNeoConfig.load(dir);
    FakeGpu gpu = new FakeGpu(1L << 32);
    try (CudaOps ops = new CudaOps(gpu, null)) {
      Scheduler scheduler = warmedUp(dir, config, ops);
      gpu.capacity = gpu.liveBytes() + 1024;
      int capacity = config.maxPositionEmbeddings; // megabytes of cache: more than is left
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> scheduler.submit(job(config, capacity)).get(60, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().contains("KV cache"), e.getCause().getMessage());
      scheduler.close();
    }
  }

  /** A scheduler that has run one request, so the backend's lazily made buffers exist before memory gets tight. */
  private static Scheduler warmedUp(Path dir, GptNeoConfig config, CudaOps ops) throws Exception {
    Scheduler scheduler = scheduler(dir, config, ops);
    scheduler.submit(job(config, PROMPT + NEW_TOKENS)).get(60, TimeUnit.SECONDS);
    return scheduler;
  }

  private static Scheduler scheduler(Path dir, GptNeoConfig config, CudaOps ops) {
    GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(dir), ops), ops, 64, 8);
    return new Scheduler(model, 8, Long.MAX_VALUE / 4); // the device, not the budget, is the limit here
  }

  private static GenerateJob job(GptNeoConfig config, int capacity) {
    int[] prompt = new int[PROMPT];
    for (int i = 0; i < PROMPT; i++) {
      prompt[i] = 100 + i;
    }
    GenerationParams p = GenerationParams.builder().maxNewTokens(NEW_TOKENS).minNewTokens(NEW_TOKENS).build();
    return new GenerateJob(prompt, capacity, p, config.eosTokenIds, null);
  }
}
