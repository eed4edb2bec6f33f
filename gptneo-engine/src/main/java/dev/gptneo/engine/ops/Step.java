package dev.gptneo.engine.ops;

/**
 * One forward step over a ragged batch: each sequence contributes some new tokens (a prompt chunk
 * or one decode token). Tokens of all sequences are concatenated, so padding costs nothing.
 * Filled by the scheduler; read by the backend. Arrays are sized for the step's limits once.
 */
public final class Step {
  public int numSeqs;
  public int numTokens;
  public final int[] tokenIds;    // (maxTokens)
  public final int[] positions;   // (maxTokens) position of each token within its own sequence
  public final int[] seqStart;    // (maxSeqs + 1) first token row of each sequence; seqStart[numSeqs] = numTokens
  public final int[] pastLen;     // (maxSeqs) tokens of each sequence already in its KV cache
  public final SequenceCache[] caches; // (maxSeqs)

  public Step(int maxTokens, int maxSeqs) {
    tokenIds = new int[maxTokens];
    positions = new int[maxTokens];
    seqStart = new int[maxSeqs + 1];
    pastLen = new int[maxSeqs];
    caches = new SequenceCache[maxSeqs];
  }

  public void clear() {
    numSeqs = 0;
    numTokens = 0;
    seqStart[0] = 0;
  }

  /** Appends a sequence's next {@code count} tokens, {@code ids[from..from+count)}. */
  public void add(SequenceCache cache, int[] ids, int from, int count) {
    assert count > 0 && numTokens + count <= tokenIds.length && numSeqs < pastLen.length;
    int past = cache.length();
    for (int i = 0; i < count; i++) {
      tokenIds[numTokens + i] = ids[from + i];
      positions[numTokens + i] = past + i;
    }
    caches[numSeqs] = cache;
    pastLen[numSeqs] = past;
    numTokens += count;
    numSeqs++;
    seqStart[numSeqs] = numTokens;
  }

  public int maxTokens() {
    return tokenIds.length;
  }

  public int maxSeqs() {
    return pastLen.length;
  }

  public int newTokens(int seq) {
    return seqStart[seq + 1] - seqStart[seq];
  }

  /** Row of the last new token of a sequence. */
  public int lastRow(int seq) {
    return seqStart[seq + 1] - 1;
  }
}
