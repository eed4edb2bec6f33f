package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Step;
import java.util.Arrays;

/**
 * GPT-Neo attention for one (sequence, head) of a step: scores without 1/sqrt(d) scaling, an
 * fp32 softmax, then the weighted sum of values. Keys before the step come from the sequence's
 * cache, the step's own keys from the fresh qkv rows. A local layer visits only the keys inside
 * its window: the rest are skipped, not masked. Every sum runs over keys in position order, so a
 * token's result does not depend on how its prompt was split into steps or what else was batched.
 */
final class CpuAttention {
  /** Queries that share each key and value load. */
  private static final int QUERY_BLOCK = 4;

  /** Per-thread scratch: scores of a block of queries, and the step's own keys transposed. */
  private static final class Scratch {
    float[] scores = new float[0];  // (QUERY_BLOCK, rowStride): keys from the block's first key
    float[] freshKt = new float[0]; // (headDim, newTokens)
    final int[] qOffs = new int[QUERY_BLOCK];
    final int[] outOffs = new int[QUERY_BLOCK];
    final int[] runSlot = new int[2]; // a range of cached positions is at most two ring runs
    final int[] runLength = new int[2];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private CpuAttention() {}

  /**
   * qkv: (tokens, 3 * hidden) as [q | k | v]; out: (tokens, hidden). Cache keys are stored
   * transposed per head, (head, headDim, slots); values per head, (head, slots, headDim), so a
   * head's keys and values are each one contiguous block. Queries go in blocks of four over the
   * union of their key ranges; keys outside a query's own range get weight zero, which leaves its
   * sums exactly as if it ran alone.
   */
  static void attendHead(CpuKernels kernels, Step step, int seq, int head, int layer, boolean local, int window,
      int headDim, int hidden, float[] qkv, float[] out) {
    CpuSequenceCache cache = (CpuSequenceCache) step.caches[seq];
    int past = step.pastLen[seq];
    int firstRow = step.seqStart[seq];
    int n = step.seqStart[seq + 1] - firstRow;
    Scratch s = scratch(past + n, headDim * n);
    if (n == 1) {
      decode(kernels, cache, layer, local, window, head, headDim, hidden, past, firstRow, qkv, out, s);
      return;
    }
    float[] cacheKt = cache.keys[layer];  // (heads, headDim, slots)
    float[] cacheV = cache.values[layer]; // (heads, slots, headDim)
    int slots = cache.slots[layer];
    int stride = 3 * hidden;
    int hOff = head * headDim;
    int rowStride = past + n + CpuKernels.PAD;
    float[] scores = s.scores;
    float[] freshKt = s.freshKt;          // (headDim, n)
    for (int i = 0; i < n; i++) {
      int src = (firstRow + i) * stride + hidden + hOff;
      for (int d = 0; d < headDim; d++) {
        freshKt[d * n + i] = qkv[src + d];
      }
    }
    for (int t0 = 0; t0 < n; t0 += QUERY_BLOCK) {
      int nq = Math.min(QUERY_BLOCK, n - t0);
      int lo = local ? Math.max(0, past + t0 - window + 1) : 0; // the block's first key
      int hi = past + t0 + nq - 1;                               // and last
      for (int r = 0; r < nq; r++) {
        s.qOffs[r] = (firstRow + t0 + r) * stride + hOff;
        s.outOffs[r] = (firstRow + t0 + r) * hidden + hOff;
      }
      // keys [lo, past) from the cache, then the step's own [max(lo, past), hi]
      int runs = ringRuns(lo, past, slots, s);
      int k = 0;
      for (int r = 0; r < runs; r++) {
        kernels.scores(qkv, s.qOffs, nq, headDim, cacheKt, hOff * slots + s.runSlot[r], slots, s.runLength[r], scores,
            k, rowStride);
        k += s.runLength[r];
      }
      int f0 = Math.max(lo, past) - past;
      int freshCount = hi - past - f0 + 1;
      kernels.scores(qkv, s.qOffs, nq, headDim, freshKt, f0, n, freshCount, scores, k, rowStride);
      int width = hi - lo + 1;
      for (int r = 0; r < nq; r++) {
        int pos = past + t0 + r;
        int from = (local ? Math.max(0, pos - window + 1) : 0) - lo;
        int row = r * rowStride;
        toWeights(kernels, scores, row + from, pos - lo - from + 1);
        Arrays.fill(scores, row, row + from, 0f);                   // before this query's window
        Arrays.fill(scores, row + pos - lo + 1, row + width, 0f);   // after it (causal)
        Arrays.fill(out, s.outOffs[r], s.outOffs[r] + headDim, 0f);
      }
      k = 0;
      for (int r = 0; r < runs; r++) {
        kernels.weightedSum(scores, k, rowStride, nq, s.runLength[r], cacheV, (head * slots + s.runSlot[r]) * headDim,
            headDim, headDim, out, s.outOffs);
        k += s.runLength[r];
      }
      kernels.weightedSum(scores, k, rowStride, nq, freshCount, qkv,
          (firstRow + f0) * stride + 2 * hidden + hOff, stride, headDim, out, s.outOffs);
    }
  }

  /**
   * One new token: its key and value go into the cache first (its ring slot held a position outside
   * its window), then it attends to cached keys only, in one or two ring runs, in position order.
   */
  private static void decode(CpuKernels kernels, CpuSequenceCache cache, int layer, boolean local, int window,
      int head, int headDim, int hidden, int past, int row, float[] qkv, float[] out, Scratch s) {
    float[] cacheKt = cache.keys[layer];
    float[] cacheV = cache.values[layer];
    int slots = cache.slots[layer];
    int hOff = head * headDim;
    int src = row * 3 * hidden;
    int slot = past % slots;
    for (int d = 0; d < headDim; d++) {
      cacheKt[(hOff + d) * slots + slot] = qkv[src + hidden + hOff + d];
    }
    System.arraycopy(qkv, src + 2 * hidden + hOff, cacheV, (head * slots + slot) * headDim, headDim);
    s.qOffs[0] = src + hOff;
    s.outOffs[0] = row * hidden + hOff;
    int lo = local ? Math.max(0, past - window + 1) : 0;
    int runs = ringRuns(lo, past + 1, slots, s);
    float[] scores = s.scores;
    int k = 0;
    for (int r = 0; r < runs; r++) {
      kernels.scores(qkv, s.qOffs, 1, headDim, cacheKt, hOff * slots + s.runSlot[r], slots, s.runLength[r], scores, k,
          0);
      k += s.runLength[r];
    }
    toWeights(kernels, scores, 0, k);
    Arrays.fill(out, s.outOffs[0], s.outOffs[0] + headDim, 0f);
    k = 0;
    for (int r = 0; r < runs; r++) {
      kernels.weightedSum(scores, k, 0, 1, s.runLength[r], cacheV, (head * slots + s.runSlot[r]) * headDim, headDim,
          headDim, out, s.outOffs);
      k += s.runLength[r];
    }
  }

  /** Positions [from, to) of a ring of {@code slots}: up to two runs of consecutive slots. */
  private static int ringRuns(int from, int to, int slots, Scratch s) {
    int runs = 0;
    for (int j = from; j < to; runs++) {
      int first = j % slots;
      int length = Math.min(to - j, slots - first);
      s.runSlot[runs] = first;
      s.runLength[runs] = length;
      j += length;
    }
    assert runs <= 2 : "a key range longer than the ring";
    return runs;
  }

  /** scores[off .. off + keys) become softmax weights. */
  private static void toWeights(CpuKernels kernels, float[] scores, int off, int keys) {
    float inv = 1f / kernels.softmaxNumerators(scores, off, keys);
    for (int i = off; i < off + keys; i++) {
      scores[i] *= inv;
    }
  }

  private static Scratch scratch(int keys, int freshKeyFloats) {
    Scratch s = SCRATCH.get();
    int scoreFloats = QUERY_BLOCK * (keys + CpuKernels.PAD);
    if (s.scores.length < scoreFloats) {
      s.scores = new float[Math.max(scoreFloats, 2 * s.scores.length)];
    }
    if (s.freshKt.length < freshKeyFloats + CpuKernels.PAD) {
      s.freshKt = new float[Math.max(freshKeyFloats + CpuKernels.PAD, 2 * s.freshKt.length)];
    }
    return s;
  }

  /**
   * Stores the step's new keys and values of one sequence; a ring keeps only the last
   * {@code slots}. A one-token step stored its own during attention.
   */
  static void store(Step step, int seq, int layer, int hidden, int headDim, float[] qkv) {
    CpuSequenceCache cache = (CpuSequenceCache) step.caches[seq];
    int slots = cache.slots[layer];
    float[] kt = cache.keys[layer];
    int past = step.pastLen[seq];
    int firstRow = step.seqStart[seq];
    int end = past + step.seqStart[seq + 1] - firstRow;
    if (end - past == 1) {
      return;
    }
    for (int pos = Math.max(past, end - slots); pos < end; pos++) {
      int src = (firstRow + pos - past) * 3 * hidden;
      int slot = pos % slots;
      for (int c = 0; c < hidden; c++) { // c = head * headDim + d
        kt[c * slots + slot] = qkv[src + hidden + c];
      }
      for (int h = 0; h < hidden / headDim; h++) {
        System.arraycopy(qkv, src + 2 * hidden + h * headDim, cache.values[layer], (h * slots + slot) * headDim, headDim);
      }
    }
  }
}
