package dev.gptneo.engine.batching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gptneo.engine.generate.LogitsProcessors;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.TokenTargets;
import dev.gptneo.engine.tasks.NextTokenLogprobsJob;
import dev.gptneo.engine.tasks.ScoreJob;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scoring jobs' two paths give the same bits: the host's log-probabilities from the logits
 * (accept), and the rows described as targets (describeTargets) with their log-probabilities given
 * back (acceptLogprobs), here computed by LogitsProcessors.logProb in the backend's place. So the
 * device's token_logprobs, compared with logProb elsewhere, is compared with the jobs themselves.
 */
class ScoresTokensTest {
  static final int VOCAB = 101;

  @Test
  void scoreJobAndNextTokenJobScoreAsTheHostPath() {
    Random random = new Random(7);
    int[] tokens = {5, 7, 9, 100, 0, 9};
    int[] candidates = {9, 0, 100, 9};
    Job<double[]>[] onHost = jobs(tokens, candidates);
    Job<double[]>[] described = jobs(tokens, candidates);
    TokenTargets targets = new TokenTargets(VOCAB);
    double[] backend = new double[16];
    for (int position = 0; position < tokens.length; position++) {
      float[] logits = new float[VOCAB];
      for (int i = 0; i < VOCAB; i++) {
        logits[i] = random.nextInt(9) == 0 ? Float.NEGATIVE_INFINITY : (float) (3 * random.nextGaussian());
      }
      for (int j = 0; j < onHost.length; j++) {
        assertEquals(onHost[j].wantsRow(position), described[j].wantsRow(position));
        if (!onHost[j].wantsRow(position)) {
          continue;
        }
        onHost[j].accept(position, logits, 0, VOCAB);
        targets.clear();
        ((ScoresTokens) described[j]).describeTargets(position, targets);
        assertEquals(1, targets.rows());
        for (int i = targets.from(0); i < targets.to(0); i++) {
          backend[i] = LogitsProcessors.logProb(logits, 0, VOCAB, targets.id(i));
        }
        ((ScoresTokens) described[j]).acceptLogprobs(position, backend, targets.from(0), targets.to(0));
      }
    }
    for (int j = 0; j < onHost.length; j++) {
      onHost[j].fed = onHost[j].length;
      described[j].fed = described[j].length;
      assertArrayEquals(onHost[j].afterStep(), described[j].afterStep(), "job " + j);
    }
  }

  @SuppressWarnings("unchecked")
  private static Job<double[]>[] jobs(int[] tokens, int[] candidates) {
    return new Job[] {new ScoreJob(tokens, 1), new ScoreJob(tokens, 4), new NextTokenLogprobsJob(empty(), tokens,
        candidates)};
  }

  private static SequenceCache empty() {
    return new SequenceCache() {
      @Override
      public int length() {
        return 0;
      }

      @Override
      public int capacity() {
        return 64;
      }

      @Override
      public void close() {}
    };
  }

  @Test
  void theTableKeepsEachRowsTargets() {
    TokenTargets t = new TokenTargets(10);
    t.addRow();
    t.add(3);
    t.add(3);
    t.addRow(); // none
    t.addRow();
    t.add(9);
    assertEquals(3, t.rows());
    assertEquals(3, t.count());
    assertEquals(0, t.from(0));
    assertEquals(2, t.to(0));
    assertEquals(t.to(1), t.from(1));
    assertEquals(9, t.id(t.from(2)));
    assertThrows(IllegalArgumentException.class, () -> t.add(10));
    t.truncate(1); // a job failed describing row 1: its row and those after it go
    assertEquals(1, t.rows());
    assertEquals(2, t.count());
    t.addRow();
    t.add(4);
    assertEquals(4, t.id(t.from(1)));
    t.clear();
    assertEquals(0, t.count());
    for (int r = 0; r < 100; r++) { // grows
      t.addRow();
      t.add(r % 10);
    }
    assertEquals(100, t.count());
    assertEquals(7, t.id(t.from(57)));
  }
}
