package dev.gptneo.engine.tasks;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.batching.SumsRows;

/**
 * Mean-pooled and last-token final hidden states (after ln_f). Result: {mean, last}. On the CPU
 * every row arrives and is added here; on a GPU the backend sums each step's rows and only the
 * sums and the last row arrive.
 */
public final class EmbedJob extends Job<float[][]> implements SumsRows {
  private final double[] sum; // (hidden)
  private final float[] last; // (hidden)
  private boolean summedElsewhere;

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
    return !summedElsewhere || isLastKnown(position);
  }

  @Override
  public void sumsArrive() {
    summedElsewhere = true;
  }

  @Override
  public void acceptSum(double[] sums, int off, int width) {
    for (int i = 0; i < width; i++) {
      sum[i] += sums[off + i];
    }
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    if (!summedElsewhere) {
      for (int i = 0; i < width; i++) {
        sum[i] += out[off + i];
      }
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
