package dev.gptneo.engine.tasks;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.ops.SequenceCache;

/**
 * Runs a sequence into a cache the caller owns and reads no head: a shared prompt start, whose
 * rows continue from copies of the cache and compute their own next-token logits. Completes with
 * TRUE once every token is in the cache.
 */
public final class PrefillJob extends Job<Boolean> {
  /** Fills {@code cache} (empty, or holding a prefix of {@code sequence}) with the sequence's tokens. */
  public PrefillJob(SequenceCache cache, int[] sequence) {
    super(cache, sequence);
  }

  @Override
  public Head head() {
    return Head.LM; // never read: no row is wanted
  }

  @Override
  public boolean wantsRow(int position) {
    return false;
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    throw new AssertionError("a prefill job wants no head rows");
  }

  @Override
  public Boolean afterStep() {
    return pendingTokens() == 0 ? Boolean.TRUE : null;
  }
}
