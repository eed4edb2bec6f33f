package dev.gptneo.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * HF's min_p, typical_p, epsilon_cutoff and eta_cutoff warpers and suppress_tokens against a plain double
 * precision reference of HF's definitions (transformers' MinPLogitsWarper, TypicalLogitsWarper, EpsilonLogitsWarper,
 * EtaLogitsWarper with min_tokens_to_keep 1), on random rows with a fixed seed. Rows whose
 * probabilities lie within float rounding of a cutoff are skipped: there fp32 rounding decides.
 */
class SamplingWarpersTest {
  static final float NEG_INF = Float.NEGATIVE_INFINITY;

  interface Warper {
    void apply(float[] logits, double value, int minKeep, float[] probs);
  }

  /** The reference: softmax in double over the finite logits. */
  static double[] probs(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = logits[i] == NEG_INF ? 0 : Math.exp(logits[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  static float[] randomRow(Random rnd) {
    int n = 2 + rnd.nextInt(200);
    float[] logits = new float[n];
    for (int i = 0; i < n; i++) {
      logits[i] = rnd.nextInt(10) == 0 ? NEG_INF : (float) (rnd.nextGaussian() * 2.5);
    }
    logits[rnd.nextInt(n)] = 1f; // at least one finite
    return logits;
  }

  /** Checks the warper against keep = !(p < cutoff) || isTop over random rows; returns rows checked. */
  static int check(Warper warper, java.util.function.BiFunction<double[], Double, Double> cutoff, boolean keepTop,
      long seed) {
    Random rnd = new Random(seed);
    int checked = 0;
    for (int trial = 0; trial < 500; trial++) {
      float[] logits = randomRow(rnd);
      double value = rnd.nextDouble() * 0.5;
      double[] p = probs(logits);
      double threshold = cutoff.apply(p, value);
      boolean nearBoundary = false;
      for (double q : p) {
        nearBoundary |= q > 0 && Math.abs(q - threshold) <= 1e-6 * Math.max(threshold, 1e-30);
      }
      if (nearBoundary) {
        continue;
      }
      float max = NEG_INF;
      for (float l : logits) {
        max = Math.max(max, l);
      }
      float[] got = logits.clone();
      warper.apply(got, value, 1, new float[logits.length]);
      for (int i = 0; i < logits.length; i++) {
        boolean keep = logits[i] != NEG_INF && (p[i] >= threshold || (keepTop && logits[i] == max));
        assertEquals(keep, got[i] != NEG_INF, "trial " + trial + " token " + i + " p " + p[i] + " cut " + threshold);
        if (keep) {
          assertEquals(logits[i], got[i], "kept logits are unchanged");
        }
      }
      checked++;
    }
    return checked;
  }

  @Test
  void minPDropsTokensBelowMinPTimesTheTopProbability() {
    int checked = check(LogitsProcessors::minP, (p, v) -> {
      double top = 0;
      for (double q : p) {
        top = Math.max(top, q);
      }
      return v * top;
    }, false, 1);
    assertTrue(checked > 400, "rows checked: " + checked);
  }

  @Test
  void epsilonCutoffDropsImprobableTokensButNeverTheTop() {
    assertTrue(check(LogitsProcessors::epsilonCutoff, (p, v) -> v, true, 2) > 400);
  }

  @Test
  void etaCutoffScalesWithTheEntropy() {
    assertTrue(check(LogitsProcessors::etaCutoff, (p, v) -> {
      double entropy = 0;
      for (double q : p) {
        entropy -= q > 0 ? q * Math.log(q) : 0;
      }
      return Math.min(v, Math.sqrt(v) * Math.exp(-entropy));
    }, true, 3) > 400);
  }

  /**
   * typical_p against a plain reference: double precision, boxed indices sorted by |-log p - H|, the
   * first cumulative sum >= mass marks the cut, and every token ranked at or before the cut's score stays.
   */
  @Test
  void typicalPKeepsTheTokensNearestTheEntropyUpToTheMass() {
    Random rnd = new Random(4);
    int checked = 0;
    for (int trial = 0; trial < 500; trial++) {
      float[] logits = randomRow(rnd);
      if (trial % 5 == 0) {
        logits[rnd.nextInt(logits.length)] = logits[rnd.nextInt(logits.length)]; // ties
      }
      double mass = 0.05 + 0.9 * rnd.nextDouble();
      double[] p = probs(logits);
      double entropy = 0;
      for (double q : p) {
        entropy -= q > 0 ? q * Math.log(q) : 0;
      }
      double[] shifted = new double[logits.length];
      for (int i = 0; i < logits.length; i++) {
        shifted[i] = p[i] > 0 ? Math.abs(-Math.log(p[i]) - entropy) : Double.POSITIVE_INFINITY;
      }
      Integer[] order = IntStream.range(0, logits.length).boxed()
          .sorted(Comparator.comparingDouble((Integer i) -> shifted[i]).thenComparing(i -> i)).toArray(Integer[]::new);
      double cumulative = 0;
      int cut = order.length - 1;
      boolean nearBoundary = false;
      for (int j = 0; j < order.length; j++) {
        cumulative += p[order[j]];
        nearBoundary |= Math.abs(cumulative - mass) < 1e-5;
        if (cumulative >= mass) {
          cut = j;
          break;
        }
      }
      double threshold = shifted[order[cut]];
      for (double v : shifted) {
        nearBoundary |= v != threshold && Math.abs(v - threshold) < 1e-4;
      }
      if (nearBoundary) {
        continue;
      }
      float[] got = logits.clone();
      LogitsProcessors.typicalP(got, mass, 1, new long[logits.length], new float[logits.length]);
      for (int i = 0; i < logits.length; i++) {
        boolean keep = p[i] > 0 && shifted[i] <= threshold;
        assertEquals(keep, got[i] != NEG_INF, "trial " + trial + " token " + i);
      }
      checked++;
    }
    assertTrue(checked > 350, "rows checked: " + checked);
  }

  @Test
  void zeroTurnsEachOffAndMinPOneKeepsOnlyTheMostLikely() {
    float[] logits = {1f, 3f, 2f, NEG_INF, 3f};
    for (Warper w : new Warper[] {LogitsProcessors::minP, LogitsProcessors::epsilonCutoff,
        LogitsProcessors::etaCutoff}) {
      float[] row = logits.clone();
      w.apply(row, 0, 1, new float[5]);
      assertEquals(java.util.Arrays.toString(logits), java.util.Arrays.toString(row));
    }
    float[] typical = logits.clone();
    LogitsProcessors.typicalP(typical, 1.0, 1, new long[5], new float[5]);
    assertEquals(java.util.Arrays.toString(logits), java.util.Arrays.toString(typical), "typical_p 1 is off");
    float[] row = logits.clone();
    LogitsProcessors.minP(row, 1.0, 1, new float[5]);
    assertEquals("[-Infinity, 3.0, -Infinity, -Infinity, 3.0]", java.util.Arrays.toString(row), "ties at the top stay");
  }

  @Test
  void badWordsBanOneTokenWordsAlwaysAndLongerOnesAfterTheirPrefix() {
    int[] seq = {4, 8, 15, 16, 23, 42, 0, 0}; // 6 tokens used
    int[][] words = {{7}, {50256}, {23, 42, 99}, {42, 5}, {16, 42, 6}, {4, 8, 15, 16, 23, 42, 3},
        {8, 15, 16, 23, 42, 9}};
    java.util.List<Integer> banned = new java.util.ArrayList<>();
    LogitsProcessors.badWordBans(seq, 6, words, new int[] {50256}, banned::add);
    // 7 alone; not the eos word (HF drops it); 99 after 23 42; 5 after 42; not 6 (16 42 is no suffix);
    // a word longer than the sequence is skipped (as HF); 9 after the five before it
    assertEquals(java.util.List.of(7, 99, 5, 9), banned);
  }

  @Test
  void sequenceBiasAddsEachTokensSummedBiasWhereItsPrefixEnds() {
    int[] seq = {4, 8, 15, 16};
    float[] row = {0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f};
    int[][] sequences = {{1}, {16, 1}, {15, 16, 2}, {8, 3}, {4, 8, 15, 16, 5}, {9}};
    double[] biases = {0.5, 0.25, -1.0, 100.0, 7.0, -9.5};
    LogitsProcessors.sequenceBias(row, seq, 4, sequences, biases);
    // 1: 0.5 + 0.25 (16 ends the sequence); 2: -1 (15 16 ends it); 3: no (8 is not last); 5: longer than
    // the sequence; 9: -9.5
    assertEquals("[0.0, 1.75, 1.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, -0.5]", java.util.Arrays.toString(row));
  }

  @Test
  void exponentialDecayGrowsEosLogitsAfterItsStart() {
    float[] row = {-2f, 3f, 1f};
    LogitsProcessors.exponentialDecay(row, new int[] {0, 1}, 0, 1.5);
    assertEquals("[-2.0, 3.0, 1.0]", java.util.Arrays.toString(row), "not before its start");
    LogitsProcessors.exponentialDecay(row, new int[] {0, 1}, 2, 1.5); // x (1.5^2 - 1) = 1.25
    assertEquals("[0.5, 6.75, 1.0]", java.util.Arrays.toString(row));
  }

  @Test
  void suppressBansIdsInTheVocabularyAndIgnoresOthers() {
    float[] row = {1f, 2f, 3f};
    LogitsProcessors.suppress(row, new int[] {2, 7, 0});
    assertEquals("[-Infinity, 2.0, -Infinity]", java.util.Arrays.toString(row));
  }

  /**
   * HF 5's top_h against a double reference of TopHLogitsWarper: the 100 largest logits (here vocabularies
   * of up to 300, so both sides of 100), most likely first, their own softmax, keep while the cumulative
   * -p log p <= top_h x their entropy (the first always). Rows with a cumulative sum within 1e-5 of the bound,
   * or with ties among the top 100, are skipped: there float rounding or torch's tie order decides.
   */
  @Test
  void topHKeepsTheLikeliestWithinTheEntropyBound() {
    Random rnd = new Random(23);
    int checked = 0;
    for (int trial = 0; trial < 500; trial++) {
      int n = 2 + rnd.nextInt(300);
      float[] logits = new float[n];
      for (int i = 0; i < n; i++) {
        logits[i] = rnd.nextInt(10) == 0 ? NEG_INF : (float) (rnd.nextGaussian() * 2.5);
      }
      logits[rnd.nextInt(n)] = 1f;
      double topH = 0.05 + rnd.nextDouble() * 0.95;
      Integer[] order = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble(i -> -logits[i]))
          .toArray(Integer[]::new);
      int top = Math.min(100, n);
      double max = logits[order[0]];
      double sum = 0;
      for (int j = 0; j < top; j++) {
        sum += logits[order[j]] == NEG_INF ? 0 : Math.exp(logits[order[j]] - max);
      }
      double entropy = 0;
      double[] terms = new double[top];
      for (int j = 0; j < top; j++) {
        double p = logits[order[j]] == NEG_INF ? 0 : Math.exp(logits[order[j]] - max) / sum;
        terms[j] = p == 0 ? Double.NaN : -p * Math.log(p);
        entropy += p == 0 ? 0 : terms[j];
      }
      double tau = entropy * topH;
      boolean skip = top < n && logits[order[top - 1]] == logits[order[top]];
      double cumulative = 0;
      boolean[] keep = new boolean[n];
      for (int j = 0; j < top; j++) {
        cumulative += terms[j];
        skip |= Math.abs(cumulative - tau) < 1e-5 || j > 0 && logits[order[j]] == logits[order[j - 1]];
        keep[order[j]] = j == 0 || cumulative <= tau;
      }
      if (skip) {
        continue;
      }
      float[] got = logits.clone();
      LogitsProcessors.topH(got, topH, new long[n], new float[n]);
      for (int i = 0; i < n; i++) {
        assertEquals(keep[i], got[i] != NEG_INF, "trial " + trial + " token " + i);
      }
      checked++;
    }
    assertTrue(checked > 300, "rows checked: " + checked);
    float[] off = {1f, 2f, 3f};
    LogitsProcessors.topH(off, 0, new long[3], new float[3]);
    assertEquals("[1.0, 2.0, 3.0]", java.util.Arrays.toString(off), "0 turns it off");
  }
}
