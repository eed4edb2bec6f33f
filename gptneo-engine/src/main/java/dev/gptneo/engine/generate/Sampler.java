package dev.gptneo.engine.generate;

/**
 * Picks the next token from processed logits: argmax when greedy, else a draw from the softmax.
 * The draw for step i of a request uses a uniform number derived only from (seed, i), so a request
 * gives the same tokens in any batch, on any thread.
 */
public final class Sampler {
  private Sampler() {}

  /** A uniform double in [0, 1) from (seed, step): SplitMix64 finalizer over both. */
  public static double uniform(long seed, int step) {
    long z = seed * 0x9E3779B97F4A7C15L + (step + 1) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 11) * 0x1.0p-53;
  }

  /**
   * The seed of sample j of a row whose seed is {@code seed}: the seed itself for j = 0 (so the
   * first of several samples is the single one), else the first 8 bytes, big-endian, of
   * SHA-256(8-byte big-endian seed || 4-byte big-endian j).
   */
  public static long sequenceSeed(long seed, int j) {
    if (j == 0) {
      return seed;
    }
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      byte[] d = sha.digest(java.nio.ByteBuffer.allocate(12).putLong(seed).putInt(j).array());
      return java.nio.ByteBuffer.wrap(d).getLong();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  /** Draws from softmax(logits) with uniform u, walking token ids in order. */
  public static int sample(float[] logits, float[] probs, double u) {
    LogitsProcessors.softmax(logits, probs);
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < probs.length; i++) {
      if (probs[i] > 0) {
        cumulative += probs[i];
        last = i;
        if (u < cumulative) {
          return i;
        }
      }
    }
    return last; // u beyond the rounded total
  }
}
