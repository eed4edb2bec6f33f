package dev.gptneo.engine.tasks;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.batching.ScoresTokens;
import dev.gptneo.engine.generate.LogitsProcessors;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.TokenTargets;

/**
 * The log-probabilities of candidate next tokens after a sequence (zero-shot labels' first tokens
 * after a text): its last position's LM row, run into a cache the caller owns. On a backend that
 * scores tokens (the GPU) only the candidates' log-probabilities cross, not the logits.
 */
public final class NextTokenLogprobsJob extends Job<double[]> implements ScoresTokens {
  private final int[] candidates;
  private final double[] logProbs; // (candidates)

  /** Continues {@code sequence}, whose first cache.length() tokens the cache holds. */
  public NextTokenLogprobsJob(SequenceCache cache, int[] sequence, int[] candidates) {
    super(cache, sequence);
    this.candidates = candidates.clone();
    this.logProbs = new double[candidates.length];
  }

  @Override
  public Head head() {
    return Head.LM;
  }

  @Override
  public boolean wantsRow(int position) {
    return isLastKnown(position);
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    LogitsProcessors.logProbs(out, off, width, candidates, logProbs);
  }

  @Override
  public void describeTargets(int position, TokenTargets targets) {
    targets.addRow();
    for (int c : candidates) {
      targets.add(c);
    }
  }

  @Override
  public void acceptLogprobs(int position, double[] logprobs, int from, int to) {
    assert to - from == candidates.length;
    System.arraycopy(logprobs, from, logProbs, 0, candidates.length);
  }

  @Override
  public double[] afterStep() {
    return pendingTokens() == 0 ? logProbs : null;
  }
}
