package dev.gptneo.engine.tasks;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;

/** Mean-pooled and last-token final hidden states (after ln_f). Result: {mean, last}. */
public final class EmbedJob extends Job<float[][]> {
  private final double[] sum; // (hidden)
  private final float[] last; // (hidden)

  public EmbedJob(int[] tokens, int hidden) {
    super(tokens, tokens.length);
    sum = new double[hidden];
    last = new float[hidden];
  }

  @Override
  public Head head() {
    return Head.HIDDEN;
  }

  @Override
  public boolean wantsRow(int position) {
    return true;
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    for (int i = 0; i < width; i++) {
      sum[i] += out[off + i];
    }
    if (isLastKnown(position)) {
      System.arraycopy(out, off, last, 0, width);
    }
  }

  @Override
  public float[][] afterStep() {
    if (pendingTokens() != 0) {
      return null;
    }
    float[] mean = new float[sum.length];
    for (int i = 0; i < mean.length; i++) {
      mean[i] = (float) (sum[i] / length);
    }
    return new float[][] {mean, last};
  }
}
