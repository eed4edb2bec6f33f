package dev.gptneo.engine.generate;

import dev.gptneo.engine.ops.LogSoftmax;
import dev.gptneo.engine.ops.TokenChoice;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Hugging Face's logits processors and warpers, in HF's order: repetition penalty, no-repeat
 * n-gram, min-new-tokens (eos suppression), suppressed tokens; then, when sampling, temperature,
 * top-k, top-p, min-p, typical-p, epsilon and eta cutoffs. Each works in place on one row of logits,
 * {@code logits[0..vocab)}.
 */
public final class LogitsProcessors {
  private LogitsProcessors() {}

  /**
   * HF RepetitionPenaltyLogitsProcessor: every token already in the sequence (prompt included)
   * has its logit divided by the penalty when positive, multiplied when negative.
   */
  public static void repetitionPenalty(float[] logits, int[] seq, int len, float penalty, boolean[] seen) {
    Arrays.fill(seen, false);
    for (int i = 0; i < len; i++) {
      int t = seq[i];
      if (t >= 0 && t < logits.length && !seen[t]) {
        seen[t] = true;
        float s = logits[t];
        logits[t] = s < 0 ? s * penalty : s / penalty;
      }
    }
  }

  /**
   * HF NoRepeatNGramLogitsProcessor: bans every token that would complete an n-gram already
   * present in the sequence (prompt included).
   */
  public static void noRepeatNgram(float[] logits, int[] seq, int len, int n) {
    if (n <= 0 || len + 1 < n) {
      return;
    }
    int prefixStart = len - (n - 1); // the last n-1 tokens
    for (int start = 0; start + n <= len; start++) {
      boolean match = true;
      for (int i = 0; i < n - 1 && match; i++) {
        match = seq[start + i] == seq[prefixStart + i];
      }
      if (match) {
        int banned = seq[start + n - 1];
        if (banned >= 0 && banned < logits.length) {
          logits[banned] = Float.NEGATIVE_INFINITY;
        }
      }
    }
  }

  /** The ids {@link #noRepeatNgram} sets to -inf, as bans of the choice table's last row (repeats possible). */
  public static void noRepeatNgramBans(int[] seq, int len, int n, TokenChoice choice) {
    if (n <= 0 || len + 1 < n) {
      return;
    }
    int prefixStart = len - (n - 1);
    for (int start = 0; start + n <= len; start++) {
      boolean match = true;
      for (int i = 0; i < n - 1 && match; i++) {
        match = seq[start + i] == seq[prefixStart + i];
      }
      if (match) {
        choice.ban(seq[start + n - 1]); // ids outside the vocab are dropped, as above
      }
    }
  }

  /**
   * The new token HF's SuppressTokensAtBeginLogitsProcessor bans begin_suppress_tokens at: the first,
   * or the second when a one-token prompt gets a forced bos first (HF's begin_index + 1).
   */
  public static int beginSuppressStep(int promptLength, int forcedBosTokenId) {
    return promptLength == 1 && forcedBosTokenId >= 0 ? 1 : 0;
  }

  /** HF MinNewTokensLengthLogitsProcessor: eos cannot be chosen before min_new_tokens. */
  public static void suppressEos(float[] logits, int[] eosIds) {
    for (int e : eosIds) {
      if (e >= 0 && e < logits.length) {
        logits[e] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  public static void temperature(float[] logits, float temperature) {
    if (temperature == 1f) {
      return;
    }
    for (int i = 0; i < logits.length; i++) {
      logits[i] = logits[i] / temperature;
    }
  }

  /**
   * HF TopHLogitsWarper (transformers 5): of the 100 largest logits (fewer in a smaller vocabulary),
   * most likely first (lower id first on ties), p their softmax among themselves, keeps those whose
   * cumulative -p log p is within top_h x their entropy, the first always; every other token goes.
   * {@code keys} and {@code probs} are scratch of vocab size; 0 turns it off.
   */
  public static void topH(float[] logits, double topH, long[] keys, float[] probs) {
    if (topH <= 0) {
      return;
    }
    int top = Math.min(100, logits.length);
    System.arraycopy(logits, 0, probs, 0, logits.length);
    float kth = kthLargest(probs, logits.length, top);
    int n = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] >= kth || kth == Float.NEGATIVE_INFINITY) { // ascending: larger logits, then lower ids, last
        keys[n++] = rankKey(logits[i], i);
      }
    }
    Arrays.sort(keys, 0, n);
    float max = logits[rankId(keys[n - 1])];
    double sum = 0;
    for (int j = n - 1; j >= n - top; j--) {
      float l = logits[rankId(keys[j])];
      sum += l == Float.NEGATIVE_INFINITY ? 0 : Math.exp(l - max);
    }
    double logSum = Math.log(sum);
    double entropy = 0;
    for (int j = 0; j < top; j++) {
      double term = entropyTerm(logits[rankId(keys[n - 1 - j])], max, logSum);
      entropy += Double.isNaN(term) ? 0 : term;
    }
    float tau = (float) (entropy * topH);
    int kept = 1; // the likeliest always; then while the cumulative entropy stays within tau (NaN: never)
    double cumulative = entropyTerm(max, max, logSum);
    for (int j = 1; j < top; j++) {
      cumulative += entropyTerm(logits[rankId(keys[n - 1 - j])], max, logSum);
      if (!((float) cumulative <= tau)) {
        break;
      }
      kept++;
    }
    long cut = keys[n - kept]; // the kept are the largest keys
    for (int i = 0; i < logits.length; i++) {
      if (rankKey(logits[i], i) < cut) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /** -p log p of a logit whose log-probability is {@code l - max - logSum}, in fp32 as torch; NaN for p = 0. */
  private static double entropyTerm(float l, float max, double logSum) {
    float logP = (float) (l - max - logSum);
    float p = (float) Math.exp(logP);
    return p == 0 ? Double.NaN : -(double) p * logP;
  }

  /**
   * HF TopKLogitsWarper: keeps logits >= the k-th largest (ties at the k-th are kept); k is at least
   * {@code minKeep}, HF's min_tokens_to_keep (1; beam sampling keeps eos ids + 1).
   */
  public static void topK(float[] logits, int topK, int minKeep, float[] scratch) {
    int k = topK <= 0 ? 0 : Math.max(topK, minKeep);
    if (k <= 0 || k >= logits.length) {
      return;
    }
    System.arraycopy(logits, 0, scratch, 0, logits.length);
    float kth = kthLargest(scratch, logits.length, k);
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < kth) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * HF TopPLogitsWarper: sorts ascending, removes tokens whose cumulative probability is
   * &lt;= 1 - top_p, always keeping the most likely one. Only finite logits are sorted (after
   * top-k there are few), and at least the {@code minKeep} most likely. {@code keys} and {@code
   * probs} are scratch of vocab size.
   */
  public static void topP(float[] logits, double topP, int minKeep, long[] keys, float[] probs) {
    if (topP >= 1.0) {
      return;
    }
    softmax(logits, probs);
    int n = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] != Float.NEGATIVE_INFINITY) {
        // ascending by logit; on ties the higher id sorts first, so lower ids rank as more likely
        keys[n++] = rankKey(logits[i], i);
      }
    }
    Arrays.sort(keys, 0, n);
    double cumulative = 0;
    float threshold = (float) (1.0 - topP); // HF compares fp32 cumulative sums with the fp32-cast bound
    for (int i = 0; i < n - minKeep; i++) { // the last (most likely) minKeep are always kept
      int t = rankId(keys[i]);
      cumulative += probs[t];
      if ((float) cumulative > threshold) {
        break;
      }
      logits[t] = Float.NEGATIVE_INFINITY;
    }
  }

  /**
   * HF MinPLogitsWarper: drops tokens whose probability is below {@code minP} times the most likely
   * token's (in float, as HF's fp32 tensors); the {@code minKeep} most likely stay. {@code probs} is
   * scratch.
   */
  public static void minP(float[] logits, double minP, int minKeep, float[] probs) {
    if (minP <= 0) {
      return;
    }
    softmax(logits, probs);
    float top = 0;
    for (float p : probs) {
      top = Math.max(top, p);
    }
    cutBelow(logits, probs, (float) minP * top, minKeep); // the top tokens' probability is never below it
  }

  /**
   * HF TypicalLogitsWarper (locally typical sampling): ranks tokens by |-log p - entropy| and keeps
   * the best-ranked ones whose probabilities first reach {@code mass}, ties at the cut included.
   * At least the {@code minKeep} best-ranked stay. {@code keys} and {@code probs} are scratch of
   * vocab size.
   */
  public static void typicalP(float[] logits, double mass, int minKeep, long[] keys, float[] probs) {
    if (mass >= 1.0) {
      return;
    }
    softmax(logits, probs);
    float max = Float.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    for (float l : logits) {
      sum += l == Float.NEGATIVE_INFINITY ? 0 : Math.exp(l - max);
    }
    double logSum = Math.log(sum);
    double entropy = 0;
    for (float l : logits) {
      if (l != Float.NEGATIVE_INFINITY) {
        float logP = (float) (l - max - logSum);
        entropy -= logP * (float) Math.exp(logP);
      }
    }
    float ent = (float) entropy;
    int n = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] != Float.NEGATIVE_INFINITY) {
        float shifted = Math.abs(-(float) (logits[i] - max - logSum) - ent); // >= 0: its bits sort as floats
        keys[n++] = ((long) Float.floatToIntBits(shifted) << 32) | i;
      }
    }
    Arrays.sort(keys, 0, n);
    double cumulative = 0;
    int last = 0; // how many sorted tokens have a cumulative probability below mass
    while (last < n - 1) {
      cumulative += probs[(int) keys[last]];
      if ((float) cumulative >= (float) mass) { // in fp32, as HF's cumsum < mass
        break;
      }
      last++;
    }
    last = Math.max(last, Math.min(minKeep, n) - 1);
    long cut = keys[last] >>> 32;
    for (int j = last + 1; j < n; j++) {
      if (keys[j] >>> 32 > cut) {
        logits[(int) keys[j]] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * HF EpsilonLogitsWarper: drops tokens of probability below epsilon, except the {@code minKeep}
   * most likely.
   */
  public static void epsilonCutoff(float[] logits, double epsilon, int minKeep, float[] probs) {
    if (epsilon <= 0) {
      return;
    }
    softmax(logits, probs);
    cutBelow(logits, probs, (float) epsilon, minKeep);
  }

  /**
   * HF EtaLogitsWarper: drops tokens of probability below min(eta, sqrt(eta) * exp(-entropy)), the
   * entropy of the current distribution, except the {@code minKeep} most likely.
   */
  public static void etaCutoff(float[] logits, double eta, int minKeep, float[] probs) {
    if (eta <= 0) {
      return;
    }
    softmax(logits, probs);
    double entropy = 0;
    for (float p : probs) {
      if (p > 0) {
        entropy -= p * Math.log(p);
      }
    }
    float e = (float) eta;
    cutBelow(logits, probs, Math.min(e, (float) (Math.sqrt(e) * Math.exp(-entropy))), minKeep);
  }

  /** Sets logits[i] = -inf where probs[i] < cutoff and logits[i] is below the minKeep-th largest logit. */
  private static void cutBelow(float[] logits, float[] probs, float cutoff, int minKeep) {
    float max = Float.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    if (minKeep > 1) {
      max = kthLargest(logits.clone(), logits.length, Math.min(minKeep, logits.length));
    }
    for (int i = 0; i < logits.length; i++) {
      if (probs[i] < cutoff && logits[i] < max) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * HF SequenceBiasLogitsProcessor: adds {@code biases[i]} to the last token of {@code sequences[i]}
   * where {@code seq[0..len)} ends with the rest of it (one-token sequences always; sequences longer
   * than {@code len} never). Each token's biases are summed first, in float, then added, as HF's
   * bias tensor. Ids outside the vocabulary were refused before.
   */
  public static void sequenceBias(float[] logits, int[] seq, int len, int[][] sequences, double[] biases) {
    sequenceBiasEntries(seq, len, sequences, biases, (t, sum) -> logits[t] += sum);
  }

  /** The (token, summed bias) pairs {@link #sequenceBias} adds, one per token, to {@code entry}. */
  public static void sequenceBiasEntries(int[] seq, int len, int[][] sequences, double[] biases, BiasEntry entry) {
    int[] tokens = new int[sequences.length];
    float[] sums = new float[sequences.length];
    int n = 0;
    for (int pass = 0; pass < 2; pass++) { // HF: the one-token biases first, then the longer ones
      for (int i = 0; i < sequences.length; i++) {
        int[] s = sequences[i];
        if ((s.length == 1) != (pass == 0) || s.length > len || !endsWith(seq, len, s)) {
          continue;
        }
        int t = s[s.length - 1];
        int at = 0;
        while (at < n && tokens[at] != t) {
          at++;
        }
        if (at == n) {
          tokens[n++] = t;
        }
        sums[at] += (float) biases[i];
      }
    }
    for (int i = 0; i < n; i++) {
      entry.accept(tokens[i], sums[i]);
    }
  }

  /** A token's summed sequence bias. */
  @FunctionalInterface
  public interface BiasEntry {
    void accept(int token, float bias);
  }

  /** Whether seq[0..len) ends with all of {@code word} but its last token. */
  private static boolean endsWith(int[] seq, int len, int[] word) {
    int prefix = word.length - 1;
    for (int i = 0; i < prefix; i++) {
      if (seq[len - prefix + i] != word[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * HF ExponentialDecayLengthPenalty: {@code steps} new tokens past its start, each eos logit s
   * becomes s + |s| x (factor^steps - 1).
   */
  public static void exponentialDecay(float[] logits, int[] eosIds, int steps, double factor) {
    if (steps <= 0) {
      return;
    }
    float grow = (float) (Math.pow(factor, steps) - 1);
    for (int e : eosIds) {
      if (e >= 0 && e < logits.length) {
        logits[e] += Math.abs(logits[e]) * grow;
      }
    }
  }

  /**
   * HF NoBadWordsLogitsProcessor: the ids to ban after {@code seq[0..len)}: each one-token word that is
   * not an eos id, and each longer word's last token where the sequence ends with the rest of it.
   */
  public static void badWordBans(int[] seq, int len, int[][] words, int[] eosIds, IntConsumer ban) {
    for (int[] word : words) {
      int prefix = word.length - 1;
      if (prefix == 0) {
        boolean eos = false;
        for (int e : eosIds) {
          eos |= e == word[0];
        }
        if (!eos) {
          ban.accept(word[0]);
        }
      } else if (word.length <= len && endsWith(seq, len, word)) {
        ban.accept(word[prefix]);
      }
    }
  }

  /** HF ForcedBOS/EOSTokenLogitsProcessor: every logit -inf but these ids', which become 0. */
  public static void force(float[] logits, int... ids) {
    Arrays.fill(logits, Float.NEGATIVE_INFINITY);
    for (int t : ids) {
      if (t >= 0 && t < logits.length) {
        logits[t] = 0f;
      }
    }
  }

  /** HF LogitNormalization: logits = log_softmax(logits), in place (fp32, as BeamSearch's). */
  public static void renormalize(float[] logits) {
    BeamSearch.logSoftmax(logits, logits);
  }

  /** HF SuppressTokensLogitsProcessor (and, at the first new token, SuppressTokensAtBegin): bans ids. */
  public static void suppress(float[] logits, int[] ids) {
    for (int t : ids) {
      if (t >= 0 && t < logits.length) {
        logits[t] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /** Float bits mapped so that signed int order equals float order. */
  /** Ascending by logit, and on equal logits the higher id first: lower ids rank as more likely. */
  private static long rankKey(float logit, int id) {
    return ((long) sortableBits(logit) << 32) | (Integer.MAX_VALUE - id);
  }

  private static int rankId(long rankKey) {
    return Integer.MAX_VALUE - (int) (rankKey & 0xffffffffL);
  }

  private static int sortableBits(float f) {
    int b = Float.floatToIntBits(f);
    return b >= 0 ? b : b ^ 0x7fffffff;
  }

  /** probs = softmax(logits), computed in double for a stable sum. */
  public static void softmax(float[] logits, float[] probs) {
    float max = Float.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      double e = logits[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
      probs[i] = (float) e;
      sum += e;
    }
    float inv = (float) (1.0 / sum);
    for (int i = 0; i < logits.length; i++) {
      probs[i] *= inv;
    }
  }

  /** log(softmax(logits)[token]) for a slice, in double ({@link LogSoftmax}). */
  public static double logProb(float[] logits, int off, int vocab, int token) {
    return LogSoftmax.logProb(logits, off, vocab, token);
  }

  /** {@link #logProb} of each of tokens into dst (the same bits), the max and the sum taken once. */
  public static void logProbs(float[] logits, int off, int vocab, int[] tokens, double[] dst) {
    LogSoftmax.logProbs(logits, off, vocab, tokens, dst);
  }

  /** Index of the largest value; the first one on ties, like torch.argmax. */
  public static int argmax(float[] logits, int off, int n) {
    int best = 0;
    float bestValue = logits[off];
    for (int i = 1; i < n; i++) {
      if (logits[off + i] > bestValue) {
        bestValue = logits[off + i];
        best = i;
      }
    }
    return best;
  }

  /** The k-th largest of a[0..n) (1-based k), by quickselect; reorders a. */
  static float kthLargest(float[] a, int n, int k) {
    int lo = 0;
    int hi = n - 1;
    int target = k - 1; // index in descending order
    while (lo < hi) {
      float pivot = a[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] > pivot) {
          i++;
        }
        while (a[j] < pivot) {
          j--;
        }
        if (i <= j) {
          float t = a[i];
          a[i] = a[j];
          a[j] = t;
          i++;
          j--;
        }
      }
      if (target <= j) {
        hi = j;
      } else if (target >= i) {
        lo = i;
      } else {
        return a[target];
      }
    }
    return a[target];
  }
}
