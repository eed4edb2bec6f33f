package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Goldens;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replayed CUDA graphs run the recorded kernels with the recorded arguments, so generation with
 * graphs gives the very tokens of generation without them. One prompt at a time, so both runs
 * have the same steps. And kernels that merge other blocks' sums give the same bits every run. Needs
 * a GPU.
 */
class CudaGraphTest {
  @Test
  void graphsChangeNoToken() {
    String[] prompts = {"Subject: meeting moved to Friday", "WINNER!! Claim your free", "The weather today is"};
    GenerationParams greedy = GenerationParams.builder().maxNewTokens(40).minNewTokens(40).build();
    int[][] withGraphs = generate(prompts, greedy, "true");
    int[][] eager = generate(prompts, greedy, "false");
    for (int i = 0; i < prompts.length; i++) {
      assertArrayEquals(eager[i], withGraphs[i], prompts[i]);
    }
  }

  /**
   * Blocks that merge other blocks' partial sums (decode attention split over the keys, the gemv
   * split over k: tickets and fences) give the same bits run after run: a missing fence or a race
   * would show as a logprob that moves. Batch 1 with a long context, so decode attention splits,
   * through graph replays. The emulator cannot check memory order; this runs on the device.
   */
  @Test
  void mergedPartialSumsGiveTheSameBitsEveryRun() {
    GenerationParams longGreedy = GenerationParams.builder().maxNewTokens(300).minNewTokens(300).logprobs(true)
        .build();
    try (Engine e = CudaGoldenTest.engine(Goldens.demoModel(), "auto")) {
      GenerateResult first = null;
      for (int run = 0; run < 3; run++) {
        GenerateResult r = e.generate(List.of(Input.text("The weather today is")), longGreedy, InputPolicy.DEFAULT)
            .get(0);
        assertNull(r.error);
        if (first == null) {
          first = r;
        } else {
          assertArrayEquals(first.completionIds, r.completionIds, "run " + run);
          assertArrayEquals(first.tokenLogprobs, r.tokenLogprobs, "run " + run); // bit for bit
        }
      }
    }
  }

  private static int[][] generate(String[] prompts, GenerationParams params, String graphs) {
    System.setProperty(CudaOps.GRAPHS_PROPERTY, graphs);
    try (Engine e = CudaGoldenTest.engine(Goldens.demoModel(), "auto")) {
      int[][] out = new int[prompts.length][];
      for (int i = 0; i < prompts.length; i++) {
        GenerateResult r = e.generate(List.of(Input.text(prompts[i])), params, InputPolicy.DEFAULT).get(0);
        assertNull(r.error);
        out[i] = r.completionIds;
      }
      return out;
    } finally {
      System.clearProperty(CudaOps.GRAPHS_PROPERTY);
    }
  }
}
