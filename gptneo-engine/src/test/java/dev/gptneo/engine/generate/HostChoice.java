package dev.gptneo.engine.generate;

import dev.gptneo.engine.ops.TokenChoice;
import java.util.Arrays;

/**
 * The host's token for one row of a {@link TokenChoice}: the processors and sampler GenerateJob
 * runs on the host, in its order, on a copy of the logits; and a ranked row's continuations
 * ({@link #rank}). The reference the device's
 * choose_tokens is compared with (emulator and GPU tests); ChoiceDescriptionTest checks that it
 * gives GenerateJob's own tokens and log-probabilities.
 */
public final class HostChoice {
  private final int vocab;
  private final float[] row;
  private final float[] probs;
  private final float[] select;
  private final long[] keys;
  private final boolean[] seen;
  private int[] ids = new int[16];
  private double logprob = Double.NaN;

  public HostChoice(int vocab) {
    this.vocab = vocab;
    row = new float[vocab];
    probs = new float[vocab];
    select = new float[vocab];
    keys = new long[vocab];
    seen = new boolean[vocab];
  }

  /** The token for row r of c, from logits[off..off + vocab) (left unchanged). */
  public int choose(TokenChoice c, int r, float[] logits, int off) {
    int token = chooseOnRow(c, r, logits, off);
    logprob = token >= 0 ? LogitsProcessors.logProb(row, 0, vocab, token) : Double.NaN;
    return token;
  }

  /** The last chosen token's log-probability over the processed logits, as GenerateJob's logprobs. */
  public double logprob() {
    return logprob;
  }

  /**
   * Ranked row r of c (a running beam, as BeamSearch.describeRanking adds it) over
   * logits[off..off + vocab): log-softmax, the row's edits, a log-softmax again if it renormalizes, plus
   * its beam score, then its top_k. The
   * reference the device's beam_candidates is compared with; BeamRankingTest checks that it gives
   * the search's own ranking.
   */
  public BeamRow rank(TokenChoice c, int r, float[] logits, int off) {
    BeamSearch.logSoftmax(Arrays.copyOfRange(logits, off, off + vocab), row);
    edit(c, r);
    if (c.renormalize(r)) {
      LogitsProcessors.renormalize(row);
    }
    for (int v = 0; v < vocab; v++) {
      row[v] += c.beamScore(r);
    }
    return BeamSearch.best(row, c.topK(r));
  }

  private int chooseOnRow(TokenChoice c, int r, float[] logits, int off) {
    System.arraycopy(logits, off, row, 0, vocab);
    edit(c, r);
    if (!c.sample(r)) {
      return LogitsProcessors.argmax(row, 0, vocab);
    }
    LogitsProcessors.temperature(row, c.temperature(r));
    LogitsProcessors.topH(row, c.topH(r), keys, probs);
    LogitsProcessors.topK(row, c.topK(r), 1, select);
    LogitsProcessors.topP(row, c.topP(r), 1, keys, probs);
    LogitsProcessors.minP(row, c.minP(r), 1, probs);
    LogitsProcessors.typicalP(row, c.typical(r) > 0 ? c.typical(r) : 1.0, 1, keys, probs);
    LogitsProcessors.epsilonCutoff(row, c.epsilon(r), 1, probs);
    LogitsProcessors.etaCutoff(row, c.eta(r), 1, probs);
    return Sampler.sample(row, probs, c.uniform(r));
  }

  /** Row r's biases, penalty and bans on {@code row}, in the processors' order. */
  private void edit(TokenChoice c, int r) {
    for (int i = c.biasFrom(r); i < c.biasTo(r); i++) {
      row[c.biasId(i)] += c.biasValue(i); // what sequenceBias adds
    }
    int n = c.penaltyTo(r) - c.penaltyFrom(r);
    if (n > 0) {
      if (n > ids.length) {
        ids = new int[n];
      }
      for (int i = 0; i < n; i++) {
        ids[i] = c.penaltyId(c.penaltyFrom(r) + i);
      }
      LogitsProcessors.repetitionPenalty(row, ids, n, c.penalty(r), seen);
    }
    for (int i = c.banFrom(r); i < c.banTo(r); i++) {
      row[c.banId(i)] = Float.NEGATIVE_INFINITY; // what noRepeatNgram and suppressEos write
    }
  }
}
