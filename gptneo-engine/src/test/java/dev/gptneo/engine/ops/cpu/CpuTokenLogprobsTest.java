package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gptneo.engine.generate.LogitsProcessors;
import dev.gptneo.engine.ops.TokenTargets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The CPU backend's tokenLogprobs, a row a task on the pool, gives LogitsProcessors.logProb's bits. */
class CpuTokenLogprobsTest {
  @Test
  void everyTargetHasTheHostsBits() {
    int rows = 37;
    int vocab = 1009;
    Random random = new Random(5);
    try (CpuOps ops = CpuOps.scalar(3)) {
      CpuActivations logits = (CpuActivations) ops.activations(rows, vocab);
      for (int i = 0; i < logits.data.length; i++) {
        logits.data[i] = random.nextInt(11) == 0 ? Float.NEGATIVE_INFINITY : (float) (5 * random.nextGaussian());
      }
      TokenTargets targets = new TokenTargets(vocab);
      for (int r = 0; r < rows; r++) {
        targets.addRow();
        for (int k = 0; k < r % 4; k++) { // rows of none, one and several targets, repeats among them
          targets.add(random.nextInt(vocab / 8) * 8);
        }
      }
      double[] got = new double[targets.count()];
      ops.tokenLogprobs(logits, targets, got);
      for (int r = 0; r < rows; r++) {
        for (int i = targets.from(r); i < targets.to(r); i++) {
          double want = LogitsProcessors.logProb(logits.data, r * vocab, vocab, targets.id(i));
          assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(got[i]), "row " + r + " target " + i);
        }
      }
    }
  }
}
