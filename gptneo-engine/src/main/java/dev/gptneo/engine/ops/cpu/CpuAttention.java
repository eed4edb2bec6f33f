package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Step;

/**
 * GPT-Neo attention for one (sequence, head) of a step: scores without 1/sqrt(d) scaling, an
 * fp32 softmax, then the weighted sum of values. Keys before the step come from the sequence's
 * cache, the step's own keys from the fresh k/v rows. A local layer visits only the keys inside
 * its window: the rest are skipped, not masked. Keys are visited in position order, so a token's
 * result does not depend on how its prompt was split into steps.
 */
final class CpuAttention {
  private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[256]);

  private CpuAttention() {}

  static void attendHead(CpuKernels kernels, Step step, int seq, int head, int layer, boolean local, int window,
      int headDim, int hidden, float[] q, float[] k, float[] v, float[] out) {
    CpuSequenceCache cache = (CpuSequenceCache) step.caches[seq];
    float[] cacheK = cache.keys[layer];   // (slots, hidden)
    float[] cacheV = cache.values[layer]; // (slots, hidden)
    int slots = cache.slots[layer];
    int past = step.pastLen[seq];
    int firstRow = step.seqStart[seq];
    int newTokens = step.seqStart[seq + 1] - firstRow;
    int hOff = head * headDim;
    float[] scores = SCORES.get();
    if (scores.length < past + newTokens) {
      scores = new float[Math.max(past + newTokens, 2 * scores.length)];
      SCORES.set(scores);
    }
    for (int t = 0; t < newTokens; t++) {
      int pos = past + t;
      int row = firstRow + t;
      int lo = local ? Math.max(0, pos - window + 1) : 0;
      int qOff = row * hidden + hOff;
      float max = Float.NEGATIVE_INFINITY;
      for (int j = lo; j <= pos; j++) {
        float s = j < past
            ? kernels.dot(q, qOff, cacheK, (j % slots) * hidden + hOff, headDim)
            : kernels.dot(q, qOff, k, (firstRow + j - past) * hidden + hOff, headDim);
        scores[j - lo] = s;
        max = Math.max(max, s);
      }
      float sum = 0f;
      for (int j = lo; j <= pos; j++) {
        float e = (float) Math.exp(scores[j - lo] - max);
        scores[j - lo] = e;
        sum += e;
      }
      float inv = 1f / sum;
      int oOff = row * hidden + hOff;
      java.util.Arrays.fill(out, oOff, oOff + headDim, 0f);
      for (int j = lo; j <= pos; j++) {
        float w = scores[j - lo] * inv;
        if (j < past) {
          kernels.axpy(w, cacheV, (j % slots) * hidden + hOff, out, oOff, headDim);
        } else {
          kernels.axpy(w, v, (firstRow + j - past) * hidden + hOff, out, oOff, headDim);
        }
      }
    }
  }

  /** Stores the step's new keys and values of one sequence; a ring keeps only the last {@code slots}. */
  static void store(Step step, int seq, int layer, int hidden, float[] k, float[] v) {
    CpuSequenceCache cache = (CpuSequenceCache) step.caches[seq];
    int slots = cache.slots[layer];
    int past = step.pastLen[seq];
    int firstRow = step.seqStart[seq];
    int end = past + step.seqStart[seq + 1] - firstRow;
    for (int pos = Math.max(past, end - slots); pos < end; pos++) {
      int src = (firstRow + pos - past) * hidden;
      int dst = (pos % slots) * hidden;
      System.arraycopy(k, src, cache.keys[layer], dst, hidden);
      System.arraycopy(v, src, cache.values[layer], dst, hidden);
    }
  }
}
