package dev.gptneo.engine.batching;

/**
 * A job that needs only the sum of its final hidden states (mean pooling) plus a few single rows.
 * When the backend sums rows itself ({@code Ops.sumsRows()}, the GPU), the scheduler tells the job
 * once, then hands it each step's sum of its rows and asks {@link Job#wantsRow} only for the rest;
 * otherwise every row arrives through {@link Job#accept}, as for any job.
 */
public interface SumsRows {
  /** From now on sums arrive through {@link #acceptSum}; {@link Job#wantsRow} should want only the other rows. */
  void sumsArrive();

  /** The double sum, in row order, of this step's rows of the job: sums[off .. off + width). */
  void acceptSum(double[] sums, int off, int width);
}
