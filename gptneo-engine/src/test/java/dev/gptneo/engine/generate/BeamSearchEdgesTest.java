package dev.gptneo.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Beam search edges where transformers 5.17's _beam_search returns placeholders. */
class BeamSearchEdgesTest {
  /**
   * A very negative length_penalty makes every running beam's best possible score fall below HF's
   * -1e9 placeholder, so the search stops with no hypothesis finished: HF returns the prompt and
   * padding in each place, gptneo an empty completion.
   */
  @Test
  void placesNoHypothesisFinishedInAreEmpty() {
    GenerationParams p = GenerationParams.builder().maxNewTokens(8).numBeams(3).numReturnSequences(3)
        .lengthPenalty(-12).build();
    BeamSearch search = new BeamSearch(new int[] {1, 2}, p, new int[0], 10, 100);
    Random random = new Random(1);
    int steps = 0;
    while (!search.done()) {
      List<float[]> logits = new ArrayList<>();
      for (int b : search.beamsToScore()) {
        float[] row = new float[10];
        for (int v = 0; v < row.length; v++) {
          row[v] = (float) random.nextGaussian();
        }
        logits.add(row);
      }
      search.step(logits);
      steps++;
    }
    assertTrue(steps < 8, "stopped early: " + steps);
    for (int rank = 0; rank < 3; rank++) {
      assertArrayEquals(new int[0], search.completion(rank));
    }
  }
}
