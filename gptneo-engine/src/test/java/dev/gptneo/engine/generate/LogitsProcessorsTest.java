package dev.gptneo.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** HF's logits processors and warpers, the sampler, and stop-string matching, on small hand-made rows. */
class LogitsProcessorsTest {
  static final float NEG_INF = Float.NEGATIVE_INFINITY;

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfEverySeenToken() {
    float[] logits = {2f, -2f, 1f, 0.5f, 0f, 3f};
    int[] seq = {0, 1, 0, 4, 99}; // the prompt counts too; a repeat is penalized once; 99 is outside the row
    LogitsProcessors.repetitionPenalty(logits, seq, seq.length, 2f, new boolean[6]);
    assertArrayEquals(new float[] {1f, -4f, 1f, 0.5f, 0f, 3f}, logits);
    float[] onlyPrefix = {2f, 2f};
    LogitsProcessors.repetitionPenalty(onlyPrefix, new int[] {0, 1}, 1, 4f, new boolean[2]);
    assertArrayEquals(new float[] {0.5f, 2f}, onlyPrefix, "only seq[0..len) counts");
    float[] reward = {2f, -2f};
    LogitsProcessors.repetitionPenalty(reward, new int[] {0, 1}, 2, 0.5f, new boolean[2]);
    assertArrayEquals(new float[] {4f, -1f}, reward, "a penalty below 1 rewards repeats, as in HF");
  }

  @Test
  void noRepeatNgramBansTokensThatWouldRepeatAnNgram() {
    float[] logits = new float[10];
    // trigrams so far: (1,2,3) (2,3,1) (3,1,2); the last two tokens (1,2) were followed by 3
    LogitsProcessors.noRepeatNgram(logits, new int[] {1, 2, 3, 1, 2}, 5, 3);
    for (int t = 0; t < 10; t++) {
      assertEquals(t == 3 ? NEG_INF : 0f, logits[t], "token " + t);
    }
    float[] bigram = new float[10];
    LogitsProcessors.noRepeatNgram(bigram, new int[] {4, 5, 4, 6, 4}, 5, 2); // 4 was followed by 5 and 6
    assertEquals(NEG_INF, bigram[5]);
    assertEquals(NEG_INF, bigram[6]);
    assertEquals(0f, bigram[4]);
    float[] unigram = new float[10];
    LogitsProcessors.noRepeatNgram(unigram, new int[] {7, 8}, 2, 1); // n = 1: every seen token
    assertEquals(NEG_INF, unigram[7]);
    assertEquals(NEG_INF, unigram[8]);
    assertEquals(0f, unigram[0]);
    float[] tooShort = new float[10];
    LogitsProcessors.noRepeatNgram(tooShort, new int[] {1, 2}, 2, 4);
    assertArrayEquals(new float[10], tooShort);
  }

  @Test
  void suppressEosBansEveryEosId() {
    float[] logits = {1f, 2f, 3f};
    LogitsProcessors.suppressEos(logits, new int[] {2, 0, 7});
    assertArrayEquals(new float[] {NEG_INF, 2f, NEG_INF}, logits);
  }

  @Test
  void temperatureDividesLogits() {
    float[] logits = {1f, -2f, 4f};
    LogitsProcessors.temperature(logits, 0.5f);
    assertArrayEquals(new float[] {2f, -4f, 8f}, logits);
  }

  @Test
  void topKKeepsTiesAtTheKthLogit() {
    float[] logits = {1f, 3f, 3f, 2f, 3f, 0f};
    LogitsProcessors.topK(logits, 2, 1, new float[6]);
    assertArrayEquals(new float[] {NEG_INF, 3f, 3f, NEG_INF, 3f, NEG_INF}, logits);
    float[] four = {1f, 3f, 3f, 2f, 3f, 0f};
    LogitsProcessors.topK(four, 4, 1, new float[6]);
    assertArrayEquals(new float[] {NEG_INF, 3f, 3f, 2f, 3f, NEG_INF}, four);
    float[] all = {1f, 2f};
    LogitsProcessors.topK(all, 0, 1, new float[2]);
    LogitsProcessors.topK(all, 5, 1, new float[2]);
    assertArrayEquals(new float[] {1f, 2f}, all, "0 or k >= vocab keeps everything");
  }

  @Test
  void kthLargestMatchesSorting() {
    Random rnd = new Random(3);
    for (int trial = 0; trial < 300; trial++) {
      int n = 1 + rnd.nextInt(60);
      float[] a = new float[n];
      for (int i = 0; i < n; i++) {
        a[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(5) : (float) rnd.nextGaussian(); // many ties
      }
      float[] sorted = a.clone();
      Arrays.sort(sorted);
      int k = 1 + rnd.nextInt(n);
      assertEquals(sorted[n - k], LogitsProcessors.kthLargest(a.clone(), n, k), "n=" + n + " k=" + k);
    }
  }

  @Test
  void topPKeepsTheSmallestSetAboveP() {
    float[] logits = logs(0.5, 0.3, 0.15, 0.05);
    LogitsProcessors.topP(logits, 0.75, 1, new long[4], new float[4]);
    assertTrue(logits[0] > NEG_INF && logits[1] > NEG_INF);
    assertEquals(NEG_INF, logits[2]);
    assertEquals(NEG_INF, logits[3]);
    float[] tiny = logs(0.5, 0.3, 0.15, 0.05);
    LogitsProcessors.topP(tiny, 0.01, 1, new long[4], new float[4]);
    assertEquals(1, IntStream.range(0, 4).filter(i -> tiny[i] > NEG_INF).count(), "the best token always stays");
    assertTrue(tiny[0] > NEG_INF);
    float[] one = logs(0.5, 0.3, 0.15, 0.05);
    LogitsProcessors.topP(one, 1.0, 1, new long[4], new float[4]);
    assertArrayEquals(logs(0.5, 0.3, 0.15, 0.05), one, "top_p 1 keeps all");
  }

  /** HF's TopPLogitsWarper, written the way HF writes it (sort ascending, cumsum, remove <= 1 - p). */
  static boolean[] hfTopPKeep(float[] logits, double p) {
    int n = logits.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble(i -> logits[i]));
    double max = Arrays.stream(order).mapToDouble(i -> logits[i]).max().orElse(0);
    double sum = 0;
    for (float l : logits) {
      sum += Math.exp(l - max);
    }
    boolean[] keep = new boolean[n];
    double cum = 0;
    for (int r = 0; r < n; r++) {
      cum += Math.exp(logits[order[r]] - max) / sum;
      keep[order[r]] = cum > 1 - p || r == n - 1;
    }
    return keep;
  }

  @Test
  void topPMatchesHfOnRandomRows() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      int n = 2 + rnd.nextInt(100);
      float[] logits = new float[n];
      for (int i = 0; i < n; i++) {
        logits[i] = (float) (rnd.nextGaussian() * 3);
      }
      double p = 0.05 + 0.9 * rnd.nextDouble();
      boolean[] expected = hfTopPKeep(logits, p);
      float[] got = logits.clone();
      LogitsProcessors.topP(got, p, 1, new long[n], new float[n]);
      for (int i = 0; i < n; i++) {
        assertEquals(expected[i], got[i] > NEG_INF, "trial " + trial + " token " + i);
        if (expected[i]) {
          assertEquals(logits[i], got[i], "kept logits are unchanged");
        }
      }
    }
  }

  /** HF compares in fp32: cumulative sums that equal the bound in float are removed (these were checked in torch). */
  @Test
  void topPAndTypicalPCompareInFp32AsHf() {
    float[] equal = new float[10]; // ten tokens of 0.1: the first cumulative sum is 0.1f, <= (float) (1 - 0.9)
    LogitsProcessors.topP(equal, 0.9, 1, new long[10], new float[10]);
    assertEquals(9, IntStream.range(0, 10).filter(i -> equal[i] != Float.NEGATIVE_INFINITY).count());
    float[] three = {(float) Math.log(0.2), (float) Math.log(0.6), (float) Math.log(0.2)};
    LogitsProcessors.topP(three, 0.6, 1, new long[3], new float[3]);
    assertEquals("[-Infinity, " + (float) Math.log(0.6) + ", -Infinity]", Arrays.toString(three));
    float[] typical = {(float) Math.log(0.1), (float) Math.log(0.4), (float) Math.log(0.5)};
    LogitsProcessors.typicalP(typical, 0.9, 1, new long[3], new float[3]);
    assertEquals(2, IntStream.range(0, 3).filter(i -> typical[i] != Float.NEGATIVE_INFINITY).count());
  }

  @Test
  void topPAfterTopKSeesOnlyTheSurvivors() {
    float[] logits = logs(0.4, 0.3, 0.2, 0.1);
    LogitsProcessors.topK(logits, 2, 1, new float[4]); // renormalized: 4/7, 3/7
    LogitsProcessors.topP(logits, 0.5, 1, new long[4], new float[4]);
    assertTrue(logits[0] > NEG_INF);
    assertEquals(NEG_INF, logits[1], "3/7 <= 1 - 0.5 is removed");
  }

  @Test
  void softmaxLogProbAndArgmax() {
    float[] logits = {1f, 2f, NEG_INF, 2f};
    float[] probs = new float[4];
    LogitsProcessors.softmax(logits, probs);
    assertEquals(1.0, probs[0] + probs[1] + probs[2] + probs[3], 1e-6);
    assertEquals(0f, probs[2]);
    assertEquals(probs[1], probs[3]);
    double lp = LogitsProcessors.logProb(new float[] {9f, 1f, 2f, 3f}, 1, 3, 2);
    assertEquals(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), lp, 1e-6);
    assertEquals(1, LogitsProcessors.argmax(logits, 0, 4), "first index on ties, like torch.argmax");
  }

  @Test
  void samplerIsAPureFunctionOfSeedAndStep() {
    for (int step = 0; step < 5; step++) {
      double u = Sampler.uniform(42, step);
      assertEquals(u, Sampler.uniform(42, step));
      assertTrue(u >= 0 && u < 1);
    }
    assertTrue(Sampler.uniform(42, 0) != Sampler.uniform(43, 0));
    assertTrue(Sampler.uniform(42, 0) != Sampler.uniform(42, 1));
    float[] logits = logs(0.2, 0, 0.8);
    logits[1] = NEG_INF;
    float[] probs = new float[3];
    assertEquals(0, Sampler.sample(logits, probs, 0.1));
    assertEquals(2, Sampler.sample(logits, probs, 0.3));
    assertEquals(2, Sampler.sample(logits, probs, 0.999999));
    // the draw follows the distribution
    int[] counts = new int[3];
    for (int step = 0; step < 20_000; step++) {
      counts[Sampler.sample(logits, probs, Sampler.uniform(7, step))]++;
    }
    assertEquals(0, counts[1]);
    assertEquals(0.2, counts[0] / 20_000.0, 0.015);
  }

  @Test
  void stopStringsMatchOnlyWhereTheyEndInTheNewestBytes() {
    StopStrings s = new StopStrings(List.of("ab", "xyz"));
    byte[] text = "..ab..xyz".getBytes(StandardCharsets.UTF_8);
    assertTrue(s.endsIn(text, 4, 3), "'ab' ends in the new byte 'b'");
    assertTrue(s.endsIn(text, 4, 2), "'ab' wholly new");
    assertFalse(s.endsIn(text, 6, 4), "'ab' ended before the new bytes: already seen");
    assertTrue(s.endsIn(text, 9, 7), "'xyz' spans old and new bytes");
    assertFalse(s.endsIn(text, 8, 7), "'xy' is not a stop");
    assertEquals(3, s.longest());
    assertTrue(new StopStrings(List.of()).isEmpty());
    StopStrings utf8 = new StopStrings(List.of("é"));
    byte[] e = "café".getBytes(StandardCharsets.UTF_8);
    assertFalse(utf8.endsIn(e, e.length - 1, 3), "half of a UTF-8 character is no match");
    assertTrue(utf8.endsIn(e, e.length, e.length - 1));
  }

  static float[] logs(double... p) {
    float[] out = new float[p.length];
    for (int i = 0; i < p.length; i++) {
      out[i] = (float) Math.log(p[i]);
    }
    return out;
  }

  /** logProbs takes the max and the sum once and gives logProb's bits for each token. */
  @Test
  void logProbsAreLogProbsBits() {
    Random random = new Random(3);
    float[] logits = new float[300];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = i % 17 == 0 ? Float.NEGATIVE_INFINITY : (float) (4 * random.nextGaussian());
    }
    int[] tokens = {0, 5, 199, 5, 50}; // of the slice logits[100..300)
    double[] got = new double[tokens.length];
    LogitsProcessors.logProbs(logits, 100, 200, tokens, got);
    for (int i = 0; i < tokens.length; i++) {
      assertEquals(Double.doubleToLongBits(LogitsProcessors.logProb(logits, 100, 200, tokens[i])),
          Double.doubleToLongBits(got[i]));
    }
  }
}
