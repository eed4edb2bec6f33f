package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.weights.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CUDA graphs for decode steps, on a fake device that re-checks every recorded launch against
 * the memory live at each replay and refuses copies, allocations and waits while recording: a
 * shape runs eagerly once, is recorded the second time and replayed after, with the same launches
 * as the eager step; the caches still advance; prompt steps and new shapes run eagerly. That a
 * replay computes what the eager step computes is checked on a GPU (CudaGoldenTest, graphs on).
 */
class CudaGraphPlumbingTest {
  @Test
  void decodeStepsAreRecordedOnceAndReplayed() {
    Path dir = Goldens.demoModel();
    GptNeoConfig config = GptNeoConfig.load(dir);
    FakeGpu gpu = new FakeGpu(1L << 30);
    try (CudaOps ops = new CudaOps(gpu, null)) {
      GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(dir), ops), ops, 128, 8);
      int[] ids = new int[600];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = (11 * i + 5) % config.vocabSize;
      }
      SequenceCache[] caches = {ops.newSequenceCache(config, 300), ops.newSequenceCache(config, 300),
          ops.newSequenceCache(config, 300)};
      Step step = new Step(128, 4);
      // prompts: 250 tokens for the first sequence (four steps), 5 for the others
      for (int fed = 0; fed < 250; fed += 64) {
        step.clear();
        step.add(caches[0], ids, fed, Math.min(64, 250 - fed));
        if (fed == 0) {
          step.add(caches[1], ids, 0, 5);
          step.add(caches[2], ids, 0, 5);
        }
        model.forward(step);
      }
      assertEquals(0, gpu.recorded, "prompt steps run eagerly");

      int before = gpu.launches.size();
      decode(model, step, caches, ids);
      List<String> eager = List.copyOf(gpu.launches.subList(before, gpu.launches.size()));
      assertEquals(0, gpu.recorded, "a shape's first step runs eagerly");

      before = gpu.launches.size();
      decode(model, step, caches, ids);
      assertEquals(1, gpu.recorded, "its second step is recorded");
      assertEquals(1, gpu.replays);
      assertEquals(eager, gpu.launches.subList(before, gpu.launches.size()), "the replay launches what the eager step did");

      decode(model, step, caches, ids);
      decode(model, step, caches, ids);
      assertEquals(1, gpu.recorded);
      assertEquals(3, gpu.replays, "later steps of the shape replay");
      assertEquals(254, caches[0].length(), "replayed steps still advance the caches");

      decode(model, step, caches, ids); // past 254, 255: up to 256 keys, the same shape
      decode(model, step, caches, ids);
      assertEquals(5, gpu.replays);
      decode(model, step, caches, ids); // past 256: 257 keys, bound 512, a new shape: eager
      assertEquals(1, gpu.recorded);
      assertEquals(5, gpu.replays);
      decode(model, step, caches, ids);
      assertEquals(2, gpu.recorded, "the new shape is recorded on its second step");
      // its decode attention runs in twice the parts (head size 32 splits), in buffers sized for any split
      assertEquals(0, gpu.discarded, "no buffer moved: the first shape's recording stays valid");

      step.clear();
      step.add(caches[1], ids, caches[1].length(), 1);
      model.forward(step); // one sequence: another shape, eager
      assertEquals(2, gpu.recorded);
      for (SequenceCache c : caches) {
        c.close();
      }
    }
  }

  @Test
  void theSwitchTurnsGraphsOff() {
    Path dir = Goldens.demoModel();
    GptNeoConfig config = GptNeoConfig.load(dir);
    FakeGpu gpu = new FakeGpu(1L << 30);
    System.setProperty(CudaOps.GRAPHS_PROPERTY, "false");
    try (CudaOps ops = new CudaOps(gpu, null)) {
      GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(dir), ops), ops, 64, 8);
      int[] ids = {1, 2, 3, 4, 5, 6, 7, 8};
      SequenceCache[] caches = {ops.newSequenceCache(config, 20)};
      Step step = new Step(64, 4);
      step.add(caches[0], ids, 0, 3);
      model.forward(step);
      for (int i = 0; i < 4; i++) {
        decode(model, step, caches, ids);
      }
      assertEquals(0, gpu.recorded);
      assertTrue(gpu.launches.size() > 0);
      caches[0].close();
    } finally {
      System.clearProperty(CudaOps.GRAPHS_PROPERTY);
    }
  }

  /** One decode step: every sequence's next token. */
  private static void decode(GptNeoModel model, Step step, SequenceCache[] caches, int[] ids) {
    step.clear();
    for (SequenceCache c : caches) {
      step.add(c, ids, c.length(), 1);
    }
    model.forward(step);
  }
}
