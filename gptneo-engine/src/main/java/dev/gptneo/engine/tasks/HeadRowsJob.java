package dev.gptneo.engine.tasks;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.ops.SequenceCache;

/**
 * Collects a head's output for every token (token classification, question answering) or only
 * for the last one (sequence classification). Result: (rows, width) row-major.
 */
public final class HeadRowsJob extends Job<float[]> {
  private final Head head;
  private final boolean lastOnly;
  private final int width;
  private final float[] rows; // (lastOnly ? 1 : length, width)

  public HeadRowsJob(int[] tokens, Head head, int width, boolean lastOnly) {
    super(tokens, tokens.length);
    this.head = head;
    this.width = width;
    this.lastOnly = lastOnly;
    this.rows = new float[(lastOnly ? 1 : tokens.length) * width];
  }

  /** The head's output for the last token of {@code sequence}, whose first cache.length() tokens the cache holds. */
  public HeadRowsJob(SequenceCache cache, int[] sequence, Head head, int width) {
    super(cache, sequence);
    this.head = head;
    this.width = width;
    this.lastOnly = true;
    this.rows = new float[width];
  }

  @Override
  public Head head() {
    return head;
  }

  @Override
  public boolean wantsRow(int position) {
    return !lastOnly || isLastKnown(position);
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    assert width == this.width;
    System.arraycopy(out, off, rows, lastOnly ? 0 : position * width, width);
  }

  @Override
  public float[] afterStep() {
    return pendingTokens() == 0 ? rows : null;
  }
}
