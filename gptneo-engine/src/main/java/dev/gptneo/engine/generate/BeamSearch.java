package dev.gptneo.engine.generate;

import dev.gptneo.engine.ops.LogSoftmax;
import dev.gptneo.engine.ops.TokenChoice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search for one prompt, with the semantics of HF transformers' {@code _beam_search}
 * (num_beams, length_penalty, early_stopping; with do_sample, HF's beam sampling):
 * <ul>
 *   <li>each step turns every running beam's next-token logits into log-probabilities (fp32
 *       log-softmax), applies the logits processors to them, adds the beam's score, and keeps the
 *       top 2 x num_beams continuations over all beams (sampling: the warpers run too, keeping at
 *       least eos ids + 1 tokens a beam, and the continuations are drawn without replacement from the
 *       softmax over all beams, in draw order, as HF's torch.multinomial);
 *   <li>a continuation that ends in eos, or reaches the maximum length, is a finished hypothesis if
 *       it ranks among the first num_beams: its score divided by (generated length) ^ length_penalty
 *       competes with the finished ones kept so far for num_beams places;
 *   <li>the best num_beams unfinished continuations run on; the search ends when no running beam
 *       can beat the worst kept hypothesis (HF's heuristic for early_stopping false, or the
 *       maximum length for "never"), when every place is finished and early_stopping is true, or
 *       when every continuation hit the maximum length.
 * </ul>
 * The result is the best finished hypothesis. Each step needs a row for each running beam's sequence
 * ({@link #beamsToScore}, {@link BeamJob}): its logits, or for greedy beams on a backend that ranks
 * tokens (the GPU) its best continuations ({@link #describeRanking}); where the
 * backend copies KV caches, {@link BeamCaches} keeps one per beam, so only the new token goes
 * through the model.
 * Not thread-safe; one search per prompt.
 */
public final class BeamSearch {
  private static final float NEG = -1.0e9f; // HF's "never choose this" score
  private final int[] prompt;
  private final GenerationParams params;
  private final int[] eosIds;
  private final int vocab;
  private final int maxLength;   // prompt + new tokens, at most one past the model's positions
  private final int beams;       // num_beams
  private final int candidates;  // beams_to_keep = max(2, 1 + eos ids) * num_beams
  private final float[] logProbs;
  private final LogitsPipeline pipeline;
  private final int minKeep;     // HF's min_tokens_to_keep for beam sampling: eos ids + 1 (2 without eos)

  private int[][] running;         // (beams) prompt + generated, all of length cur
  private float[] runningScores;   // (beams) summed log-probs; beams 1.. start at NEG
  private final int[] parents;     // (beams) the beam each running beam continued at the last step
  private int[][] finished;        // (beams) kept hypotheses, best first; null when none yet
  private float[] finishedScores;  // (beams) length-penalized
  private boolean[] finishedFlag;
  private boolean improvable = true; // HF's is_early_stop_heuristic_unsatisfied
  private boolean done;
  private int cur;                 // length of the running sequences

  /** The settings this search runs with. */
  public GenerationParams params() {
    return params;
  }

  public BeamSearch(int[] prompt, GenerationParams params, int[] eosIds, int vocab, int maxPositions) {
    this.prompt = prompt.clone();
    this.params = params;
    this.eosIds = eosIds.clone();
    this.vocab = vocab;
    // the last token is never fed, so a sequence may hold one token past the positions (as HF)
    this.maxLength = (int) Math.min(maxPositions + 1L, (long) prompt.length + params.maxNewTokens);
    this.beams = params.numBeams;
    this.candidates = Math.max(2, 1 + eosIds.length) * beams;
    this.logProbs = new float[vocab];
    this.pipeline = new LogitsPipeline(vocab);
    this.minKeep = eosIds.length > 0 ? eosIds.length + 1 : 2;
    running = new int[beams][];
    runningScores = new float[beams];
    parents = new int[beams];
    finished = new int[beams][];
    finishedScores = new float[beams];
    finishedFlag = new boolean[beams];
    for (int b = 0; b < beams; b++) {
      running[b] = this.prompt;
      runningScores[b] = b == 0 ? 0f : NEG;
      finishedScores[b] = NEG;
    }
    cur = prompt.length;
    done = cur >= maxLength;
  }

  public boolean done() {
    return done;
  }

  /**
   * The running beams whose next-token logits the next {@link #step} needs, in order: those that can
   * still contribute (at the first step only beam 0: the others are copies scored NEG).
   */
  public int[] beamsToScore() {
    int[] out = new int[beams];
    int n = 0;
    for (int b = 0; b < beams; b++) {
      if (runningScores[b] > NEG / 2) {
        out[n++] = b;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** Running beam b: the prompt and its tokens so far. Not to be changed. */
  public int[] sequence(int beam) {
    return running[beam];
  }

  /** The beam that running beam b continued at the last step (its sequence without the last token). */
  public int parent(int beam) {
    return parents[beam];
  }

  /** num_beams. */
  public int beams() {
    return beams;
  }

  /** The longest sequence: prompt plus max_new_tokens, within the model's positions. */
  public int maxLength() {
    return maxLength;
  }

  /** One step, given the logits (vocab) of each beam {@link #beamsToScore} returned, in that order. */
  public void step(List<float[]> logits) {
    List<BeamRow> rows = new ArrayList<>(logits.size());
    for (float[] l : logits) {
      rows.add(BeamRow.ofLogits(l));
    }
    stepRows(rows);
  }

  /**
   * One step, given a row for each beam {@link #beamsToScore} returned, in that order: its logits, or
   * (greedy beams, {@link #ranksOnBackend}) its best continuations ranked on the backend.
   */
  public void stepRows(List<BeamRow> rows) {
    assert !done;
    advance(params.doSample ? sampleCandidates(rows) : mergeRanked(rankedRows(rows), vocab, candidates));
  }

  /**
   * The k best of every beam's continuations, as topIndices over the (beams, vocab) scores would
   * rank them: each beam's list holds its own k best (or all of them), so the k best overall are
   * among them, and laid out beam after beam, each list best first with equal scores in id order,
   * equal scores still break in (beam, token) order. Returns their scores, and as ids their flat
   * indices beam * vocab + token.
   */
  static BeamRow mergeRanked(BeamRow[] ranked, int vocab, int k) {
    int total = 0;
    for (BeamRow r : ranked) {
      total += r.ids.length;
    }
    float[] merged = new float[total]; // (total) the lists' scores, beam after beam
    int[] flat = new int[total];
    int at = 0;
    for (int b = 0; b < ranked.length; b++) {
      for (int j = 0; j < ranked[b].ids.length; j++) {
        merged[at] = ranked[b].scores[j];
        flat[at++] = b * vocab + ranked[b].ids[j];
      }
    }
    BeamRow top = best(merged, k);
    for (int c = 0; c < top.ids.length; c++) {
      top.ids[c] = flat[top.ids[c]];
    }
    return top;
  }

  /** Greedy beams: whether the backend may rank this step's continuations (settings it can carry as lists). */
  public boolean ranksOnBackend() {
    return !params.doSample && !params.needsHostChoice(cur, cur - prompt.length);
  }

  /** Adds running beam b's row to a backend's ranking table: what {@link #rankOnHost} does, as lists. */
  public void describeRanking(int beam, TokenChoice choice) {
    choice.addRanked(candidates, runningScores[beam]);
    int[] seq = running[beam];
    int[] distinct = params.repetitionPenalty != 1.0 ? ChoiceEdits.distinct(seq, vocab) : new int[0];
    ChoiceEdits.describe(choice, seq, seq.length, prompt.length, params, eosIds, distinct, distinct.length);
    if (params.renormalizeLogits) {
      choice.renormalize();
    }
  }

  /**
   * Each beam's best continuations (min(candidates, vocab) of them): ranked on the host from the
   * logits, or as the backend ranked them; the beams not scored get -inf at their first ids, as
   * their (beams, vocab) row of -inf would give.
   */
  private BeamRow[] rankedRows(List<BeamRow> rows) {
    int each = Math.min(candidates, vocab);
    BeamRow[] out = new BeamRow[beams];
    int next = 0;
    for (int b = 0; b < beams; b++) {
      if (runningScores[b] <= NEG / 2) {
        float[] none = new float[each];
        Arrays.fill(none, Float.NEGATIVE_INFINITY);
        int[] first = new int[each];
        Arrays.setAll(first, j -> j);
        out[b] = BeamRow.ofRanked(none, first);
        continue;
      }
      BeamRow row = rows.get(next++);
      out[b] = row.logits != null ? rankOnHost(row.logits, b) : row;
      if (out[b].ids.length != each) {
        throw new IllegalStateException("beam " + b + " got " + out[b].ids.length + " continuations, not " + each);
      }
    }
    return out;
  }

  /** Beam b's continuations from its logits: log-softmax, the processors, + its score, the best first. */
  BeamRow rankOnHost(float[] logits, int b) {
    logSoftmax(logits, logProbs);
    pipeline.process(logProbs, running[b], running[b].length, prompt.length, params, eosIds, minKeep);
    for (int v = 0; v < vocab; v++) {
      logProbs[v] += runningScores[b];
    }
    return best(logProbs, candidates);
  }

  /** The k largest of values with their indices as ids, largest first, equal values in index order. */
  static BeamRow best(float[] values, int k) {
    return picked(values, topIndices(values, k));
  }

  /** values[indices[j]] with indices as ids. */
  private static BeamRow picked(float[] values, int[] indices) {
    float[] scores = new float[indices.length];
    for (int j = 0; j < indices.length; j++) {
      scores[j] = values[indices[j]];
    }
    return BeamRow.ofRanked(scores, indices);
  }

  /**
   * Beam sampling: candidates drawn from the processed, warped log-probabilities plus each beam's
   * score; ids as flat indices beam * vocab + token, as {@link #mergeRanked}.
   */
  private BeamRow sampleCandidates(List<BeamRow> rows) {
    float[] acc = new float[beams * vocab]; // (beams, vocab) accumulated log-probs
    Arrays.fill(acc, Float.NEGATIVE_INFINITY);
    int next = 0;
    for (int b = 0; b < beams; b++) {
      if (runningScores[b] <= NEG / 2) {
        continue; // never among the top candidates: its scores would be about NEG
      }
      float[] logits = rows.get(next++).logits;
      if (logits == null) {
        throw new IllegalStateException("beam sampling needs every beam's logits");
      }
      logSoftmax(logits, logProbs);
      pipeline.process(logProbs, running[b], running[b].length, prompt.length, params, eosIds, minKeep);
      for (int v = 0; v < vocab; v++) {
        acc[b * vocab + v] = logProbs[v] + runningScores[b];
      }
    }
    return picked(acc, sampleIndices(acc, candidates));
  }

  /**
   * The step's candidates (best first; ids flat, beam * vocab + token) become the running beams and
   * the finished hypotheses.
   */
  private void advance(BeamRow top) {
    int k = top.ids.length;
    int[] candBeam = new int[k];
    int[] candToken = new int[k];
    float[] candScore = top.scores;
    for (int c = 0; c < k; c++) {
      candBeam[c] = top.ids[c] / vocab;
      candToken[c] = top.ids[c] % vocab;
    }
    int[][] candidateSeq = new int[k][];
    boolean[] hits = new boolean[k];
    boolean allHit = true;
    for (int c = 0; c < k; c++) {
      candidateSeq[c] = Arrays.copyOf(running[candBeam[c]], cur + 1);
      candidateSeq[c][cur] = candToken[c];
      hits[c] = isEos(candToken[c]) || cur + 1 >= maxLength;
      allHit &= hits[c];
    }
    // the best unfinished continuations run on
    float[] runOn = new float[k];
    for (int c = 0; c < k; c++) {
      runOn[c] = candScore[c] + (hits[c] ? NEG : 0f);
    }
    int[] keep = topIndices(runOn, beams);
    int[][] nextRunning = new int[beams][];
    float[] nextScores = new float[beams];
    for (int b = 0; b < beams; b++) {
      nextRunning[b] = candidateSeq[keep[b]];
      nextScores[b] = runOn[keep[b]];
      parents[b] = candBeam[keep[b]];
    }
    updateFinished(candidateSeq, candScore, hits);
    running = nextRunning;
    runningScores = nextScores;
    cur++;
    improvable = improvable && canImprove();
    boolean allFinished = allTrue(finishedFlag);
    done = !improvable || (allFinished && params.earlyStopping.equals("true")) || allHit;
  }

  /** The best hypothesis' new tokens (eos included when it ended on one). */
  public int[] completion() {
    return completion(0);
  }

  /**
   * The new tokens of the hypothesis ranked {@code rank} (0 = best), as HF's num_return_sequences;
   * empty for a place no hypothesis finished in (HF returns the prompt and padding there: a search that
   * stopped early, as a very negative length_penalty makes it).
   */
  public int[] completion(int rank) {
    assert rank < beams;
    return finished[rank] == null ? new int[0] : Arrays.copyOfRange(finished[rank], prompt.length,
        finished[rank].length);
  }

  /** The first num_beams continuations that hit a stop compete, length-penalized, with the kept hypotheses. */
  private void updateFinished(int[][] seqs, float[] scores, boolean[] hits) {
    int k = seqs.length;
    float divisor = (float) Math.pow(cur + 1 - prompt.length, params.lengthPenalty);
    boolean full = allTrue(finishedFlag) && params.earlyStopping.equals("true");
    float[] merged = new float[beams + k];
    System.arraycopy(finishedScores, 0, merged, 0, beams);
    for (int c = 0; c < k; c++) {
      boolean justFinished = hits[c] && c < beams;
      float s = scores[c] / divisor;
      s += full ? NEG : 0f;
      s += improvable ? 0f : NEG;
      s += justFinished ? 0f : NEG;
      merged[beams + c] = s;
    }
    int[] best = topIndices(merged, beams);
    int[][] seqOut = new int[beams][];
    float[] scoreOut = new float[beams];
    boolean[] flagOut = new boolean[beams];
    for (int b = 0; b < beams; b++) {
      int i = best[b];
      seqOut[b] = i < beams ? finished[i] : seqs[i - beams];
      scoreOut[b] = merged[i];
      flagOut[b] = i < beams ? finishedFlag[i] : hits[i - beams] && i - beams < beams;
    }
    finished = seqOut;
    finishedScores = scoreOut;
    finishedFlag = flagOut;
  }

  /** HF's heuristic: can the best running beam still beat the worst kept hypothesis? */
  private boolean canImprove() {
    int bestLength = params.earlyStopping.equals("never") && params.lengthPenalty > 0
        ? maxLength - prompt.length : cur - prompt.length;
    float bestPossible = runningScores[0] / (float) Math.pow(bestLength, params.lengthPenalty);
    float worst = Float.POSITIVE_INFINITY;
    for (float s : finishedScores) {
      worst = Math.min(worst, s);
    }
    for (int b = 0; b < beams; b++) {
      if (bestPossible > (finishedFlag[b] ? worst : NEG)) {
        return true;
      }
    }
    return false;
  }

  /**
   * k indices drawn without replacement from softmax(values), in draw order (HF's multinomial over
   * the accumulated scores of all beams). The draws of step s use Sampler.uniform(seed, s * k + j), so
   * a row gives the same beams in any batch. Where fewer than k have any probability (HF's
   * multinomial would raise), the rest are the best of those left.
   */
  private int[] sampleIndices(float[] values, int k) {
    float max = Float.NEGATIVE_INFINITY;
    for (float v : values) {
      max = Math.max(max, v);
    }
    double[] weights = new double[values.length]; // (beams * vocab)
    double total = 0;
    for (int i = 0; i < values.length; i++) {
      weights[i] = values[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(values[i] - max);
      total += weights[i];
    }
    int[] out = new int[k];
    int step = cur - prompt.length;
    for (int j = 0; j < k; j++) {
      double target = Sampler.uniform(params.seed, step * k + j) * total;
      int pick = -1;
      int lastPositive = -1; // taken when rounding leaves the target past the sum
      double cumulative = 0;
      for (int i = 0; i < weights.length && pick < 0; i++) {
        if (weights[i] > 0) {
          lastPositive = i;
          cumulative += weights[i];
          pick = target < cumulative ? i : -1;
        }
      }
      pick = pick >= 0 ? pick : lastPositive;
      if (pick < 0) { // nothing left with any probability: the best of the rest
        float[] rest = values.clone();
        for (int d = 0; d < j; d++) {
          rest[out[d]] = Float.NEGATIVE_INFINITY;
        }
        System.arraycopy(topIndices(rest, k - j), 0, out, j, k - j);
        return out;
      }
      out[j] = pick;
      total -= weights[pick];
      weights[pick] = 0;
    }
    return out;
  }

  /** out = log_softmax(x) in fp32: x - max - log(sum exp(x - max)). */
  static void logSoftmax(float[] x, float[] out) {
    float max = LogSoftmax.max(x, 0, x.length);
    float logSum = (float) Math.log(LogSoftmax.sumExp(x, 0, x.length, max));
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] - max - logSum;
    }
  }

  /** Indices of the k largest values, largest first; equal values in index order. */
  static int[] topIndices(float[] values, int k) {
    k = Math.min(k, values.length);
    int[] idx = new int[k];
    float[] val = new float[k];
    int size = 0;
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (size == k && !(v > val[k - 1])) {
        continue;
      }
      int at = size < k ? size++ : k - 1;
      while (at > 0 && v > val[at - 1]) { // strictly greater: earlier indices stay ahead of equal ones
        val[at] = val[at - 1];
        idx[at] = idx[at - 1];
        at--;
      }
      val[at] = v;
      idx[at] = i;
    }
    return idx;
  }

  private boolean isEos(int token) {
    for (int e : eosIds) {
      if (e == token) {
        return true;
      }
    }
    return false;
  }

  private static boolean allTrue(boolean[] flags) {
    for (boolean f : flags) {
      if (!f) {
        return false;
      }
    }
    return true;
  }
}
