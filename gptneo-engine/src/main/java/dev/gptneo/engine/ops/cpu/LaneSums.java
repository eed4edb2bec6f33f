package dev.gptneo.engine.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The lane sums of many vector accumulators at once, each in exactly the tree of {@link VectorMath#sum}
 * (lane i plus lane i + L/2, then i + L/4, ...), L accumulators per pass instead of one.
 *
 * <p>A pass halves the vectors at each level: two vectors X and Y, each holding segments of width w
 * (the first w partial lanes of one accumulator), become one with segments of width w/2, X's half
 * sums in each segment's low half and Y's in its high half. So a tree level is two rearranges, two
 * blends and one add per pair, and after log2(L) levels one vector holds L sums in the order
 * {@link #SLOT}. Float addition is commutative, so every sum is bit for bit the one of
 * {@link VectorMath#sum}.
 */
final class LaneSums {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = F.length();
  private static final int LEVELS = Integer.numberOfTrailingZeros(L);
  // Per level (segment width L >> level; levels past log2(L) are null): UP moves each lane half a segment
  // up (for Y), DOWN half a segment down (for X), HIGH is the high half of each segment. Fields, not
  // arrays, so that C2 sees constants.
  private static final VectorShuffle<Float> UP0 = shuffle(0, -1), DOWN0 = shuffle(0, 1);
  private static final VectorShuffle<Float> UP1 = shuffle(1, -1), DOWN1 = shuffle(1, 1);
  private static final VectorShuffle<Float> UP2 = shuffle(2, -1), DOWN2 = shuffle(2, 1);
  private static final VectorShuffle<Float> UP3 = shuffle(3, -1), DOWN3 = shuffle(3, 1);
  private static final VectorMask<Float> HIGH0 = highHalves(0), HIGH1 = highHalves(1);
  private static final VectorMask<Float> HIGH2 = highHalves(2), HIGH3 = highHalves(3);
  /** SLOT[a] = the lane of the last level that holds accumulator a's sum. */
  private static final int[] SLOT = slots();

  private LaneSums() {}

  /**
   * sums[a] = the tree sum of the lanes of acc[a * L, a * L + L), for a &lt; count (a multiple of L).
   * Overwrites acc.
   */
  static void sum(float[] acc, int count, float[] sums) {
    assert count % L == 0 && LEVELS <= 4;
    for (int group = 0; group < count; group += L) {
      int base = group * L;
      if (LEVELS > 0) {
        level(acc, base, L, UP0, DOWN0, HIGH0);
      }
      if (LEVELS > 1) {
        level(acc, base, L / 2, UP1, DOWN1, HIGH1);
      }
      if (LEVELS > 2) {
        level(acc, base, L / 4, UP2, DOWN2, HIGH2);
      }
      if (LEVELS > 3) {
        level(acc, base, L / 8, UP3, DOWN3, HIGH3);
      }
      for (int a = 0; a < L; a++) {
        sums[group + a] = acc[base + SLOT[a]];
      }
    }
  }

  /** One tree level: vectors (X, Y) pairs at acc[base..] become vectors / 2 at the front. */
  private static void level(float[] acc, int base, int vectors, VectorShuffle<Float> up, VectorShuffle<Float> down,
      VectorMask<Float> high) {
    for (int p = 0; p < vectors / 2; p++) {
      FloatVector x = FloatVector.fromArray(F, acc, base + 2 * p * L);
      FloatVector y = FloatVector.fromArray(F, acc, base + (2 * p + 1) * L);
      FloatVector low = x.blend(y.rearrange(up), high);
      FloatVector top = x.rearrange(down).blend(y, high);
      low.add(top).intoArray(acc, base + p * L);
    }
  }

  private static VectorShuffle<Float> shuffle(int level, int direction) {
    if (level >= LEVELS) {
      return null;
    }
    int half = (L >> level) / 2;
    int[] from = new int[L];
    for (int lane = 0; lane < L; lane++) {
      boolean high = lane % (2 * half) >= half;
      from[lane] = direction < 0 ? (high ? lane - half : lane) : (high ? lane : lane + half);
    }
    return VectorShuffle.fromArray(F, from, 0);
  }

  private static VectorMask<Float> highHalves(int level) {
    if (level >= LEVELS) {
      return null;
    }
    int half = (L >> level) / 2;
    boolean[] bits = new boolean[L];
    for (int lane = 0; lane < L; lane++) {
      bits[lane] = lane % (2 * half) >= half;
    }
    return VectorMask.fromArray(F, bits, 0);
  }

  /** Follows the accumulators through the levels: which lane of the last vector holds which sum. */
  private static int[] slots() {
    int[][] owner = new int[L][L]; // owner[v][lane]: the accumulator whose partial sum vector v's lane holds
    for (int v = 0; v < L; v++) {
      java.util.Arrays.fill(owner[v], v);
    }
    for (int level = 0, vectors = L; level < LEVELS; level++, vectors /= 2) {
      int half = (L >> level) / 2;
      for (int p = 0; p < vectors / 2; p++) {
        int[] merged = new int[L];
        for (int lane = 0; lane < L; lane++) {
          boolean high = lane % (2 * half) >= half;
          merged[lane] = high ? owner[2 * p + 1][lane - half] : owner[2 * p][lane];
        }
        owner[p] = merged;
      }
    }
    int[] slot = new int[L];
    for (int lane = 0; lane < L; lane++) {
      slot[owner[0][lane]] = lane;
    }
    return slot;
  }
}
