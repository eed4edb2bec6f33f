package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.KeptCaches;
import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.generate.BeamCaches;
import dev.gptneo.engine.generate.BeamSearch;
import dev.gptneo.engine.generate.GenerateJob;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.tasks.HeadRowsJob;
import dev.gptneo.engine.tasks.ScoreJob;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.weights.Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The caches that callers keep on the GPU backend (beam search, zero-shot labels, shared prompt
 * starts), on {@link FakeGpu}: copied by one kv_copy launch a layer inside both blocks, and made,
 * copied and closed on the scheduler's thread only (the device is driven by one thread). What
 * kv_copy computes is tested by KernelEmulationTest (caches moved mid-run, then read by attention).
 */
class CudaKeptCachesPlumbingTest {
  private static final Path DEMO = Goldens.demoModel();

  @Test
  void aCopyLaunchesOneKvCopyALayerWithinBothBlocks() {
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps ops = new CudaOps(gpu, null);
    GptNeoConfig config = GptNeoConfig.load(DEMO);
    new GptNeoWeights(config, Checkpoint.open(DEMO), ops);
    assertTrue(ops.copiesCaches());
    assertFalse(ops.cachesFromAnyThread());
    CudaSequenceCache from = (CudaSequenceCache) ops.newSequenceCache(config, 40);
    CudaSequenceCache to = (CudaSequenceCache) ops.newSequenceCache(config, 300);
    from.length = 30;
    int before = gpu.launches.size();
    ops.copyCache(from, to);
    assertEquals(30, to.length);
    List<String> launched = gpu.launches.subList(before, gpu.launches.size());
    assertEquals(config.numLayers, launched.size(), launched.toString());
    assertTrue(launched.stream().allMatch(n -> n.equals("kv_copy_f16")), launched.toString());
    int heads = config.numHeads;
    for (int l = 0; l < config.numLayers; l++) {
      long[] args = gpu.launchArgs.get(before + l);
      assertEquals(List.of(from.address, 40L, to.address, 300L, 30L), List.of(args[0], args[1], args[2], args[3], args[4]));
      assertEquals(2 * heads, gpu.launchGridY.get(before + l), "keys and values of every head");
    }
    from.length = 0;
    before = gpu.launches.size();
    ops.copyCache(from, to);
    assertEquals(before, gpu.launches.size(), "nothing to copy: no launch");
    assertEquals(0, to.length);
    from.length = 30;
    SequenceCache small = ops.newSequenceCache(config, 20);
    assertThrows(IllegalArgumentException.class, () -> ops.copyCache(from, small));
    ops.close();
    assertEquals(0, gpu.liveAllocations());
  }

  @Test
  void copiesCanBeTurnedOff() {
    System.setProperty(CudaOps.COPY_CACHES_PROPERTY, "false");
    try {
      FakeGpu gpu = new FakeGpu(1L << 30);
      CudaOps ops = new CudaOps(gpu, null);
      assertFalse(ops.copiesCaches(), "beam search and the rest then run whole sequences");
      ops.close();
    } finally {
      System.clearProperty(CudaOps.COPY_CACHES_PROPERTY);
    }
  }

  /**
   * A caller thread makes a cache, fills it, copies it, continues the copy, starts a generation
   * from it and runs a beam search with copied beams; every device call happens on the scheduler's
   * thread.
   */
  @Test
  void keptCachesAreMadeCopiedAndClosedOnTheSchedulersThread() throws Exception {
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps ops = new CudaOps(gpu, null);
    GptNeoConfig config = GptNeoConfig.load(DEMO);
    GptNeoWeights weights = new GptNeoWeights(config, Checkpoint.open(DEMO), ops);
    GptNeoModel model = new GptNeoModel(config, weights, ops, 64, 8);
    int[] text = {11, 12, 13, 14, 15, 16, 17, 18};
    int[] eos = {config.eosTokenIds[0]};
    try (Scheduler scheduler = new Scheduler(model, 8, 1L << 30)) {
      gpu.oneThread();
      KeptCaches kept = scheduler.keptCaches();
      SequenceCache start = kept.create(20);
      scheduler.submit(new HeadRowsJob(start, text, Head.LM, config.vocabSize)).get(60, TimeUnit.SECONDS);
      int copies = kvCopies(gpu);
      SequenceCache label = kept.copyOf(start);
      assertEquals(copies + config.numLayers, kvCopies(gpu));
      assertEquals(text.length, label.length());
      int[] withLabel = Arrays.copyOf(text, text.length + 2);
      scheduler.submit(new ScoreJob(label, withLabel, text.length + 1)).get(60, TimeUnit.SECONDS);
      GenerateJob continued = new GenerateJob(Arrays.copyOf(text, text.length + 1), 14,
          GenerationParams.builder().maxNewTokens(3).build(), eos, null);
      continued.startFrom(start); // copied into the job's own cache as it is admitted
      scheduler.submit(continued).get(60, TimeUnit.SECONDS);
      kept.close(List.of(start, label));

      BeamSearch search = new BeamSearch(text, GenerationParams.builder().numBeams(3).maxNewTokens(3).build(), eos,
          config.vocabSize, config.maxPositionEmbeddings);
      copies = kvCopies(gpu);
      try (BeamCaches beams = BeamCaches.reserve(ops, scheduler, search)) {
        while (!search.done()) {
          List<float[]> logits = new ArrayList<>();
          for (int b : search.beamsToScore()) {
            logits.add(scheduler.submit(new HeadRowsJob(beams.of(b), search.sequence(b), Head.LM, config.vocabSize))
                .get(60, TimeUnit.SECONDS));
          }
          search.step(logits);
          if (!search.done()) {
            beams.follow(search);
          }
        }
      }
      assertTrue(kvCopies(gpu) > copies, "new beams start from copies of their parents' caches");
      assertEquals(List.of(), gpu.wrongThreadCalls);
    }
    Scheduler closed = new Scheduler(model, 8, 1L << 30);
    closed.close();
    assertEquals("the engine is closed",
        assertThrows(IllegalStateException.class, () -> closed.keptCaches().create(10)).getMessage());
    ops.close();
    assertEquals(0, gpu.liveAllocations());
  }

  private static int kvCopies(FakeGpu gpu) {
    return (int) gpu.launches.stream().filter(n -> n.startsWith("kv_copy")).count();
  }
}
