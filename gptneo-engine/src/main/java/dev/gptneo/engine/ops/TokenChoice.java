package dev.gptneo.engine.ops;

import java.util.Arrays;

/**
 * How to choose one token from each row of LM-head logits, for {@link Ops#chooseTokens}: per row,
 * the host's processing in HF's order (generate.LogitsProcessors, generate.Sampler): biases at
 * listed ids (sequence_bias), repetition penalty at the listed distinct earlier tokens, -inf at the
 * banned ids (no-repeat n-gram bans, eos before min_new_tokens), then greedy, or temperature,
 * top-h, top-k, top-p, the min-p, typical-p, epsilon and eta filters and a draw with the given
 * uniform. A row may also ask for the chosen token's log-probability under the distribution it was
 * drawn from ({@link #wantLogprob}). A ranked row ({@link #addRanked}, for {@link Ops#rankTokens})
 * is a beam: the same edits on its log-probabilities (then, if asked, a log-softmax again), and its
 * best continuations instead of one token. Jobs add one row each per
 * step; the table is reused (it allocates only to grow). Ids outside [0, vocab) are dropped, as
 * the host's processors skip them.
 */
public final class TokenChoice {
  private final int vocab;
  private int rows;
  // per row (capacity grows)
  private boolean[] sample = new boolean[0];
  private float[] temperature = new float[0];
  private int[] topK = new int[0];
  private double[] topP = new double[0];
  private double[] uniform = new double[0];
  private float[] penalty = new float[0];  // 1: none
  private int[] penaltyFrom = new int[0]; // into penaltyIds; the row's run ends where the next row's starts
  private int[] banFrom = new int[0];     // into banIds
  private boolean[] logprob = new boolean[0];
  private float[] minP = new float[0];    // 0: off
  private float[] typical = new float[0]; // typical_p's mass, 0: off
  private double[] topH = new double[0];  // 0: off
  private float[] epsilon = new float[0]; // 0: off
  private float[] eta = new float[0];     // 0: off
  private float[] beamScore = new float[0]; // ranked rows: the beam's running score
  private boolean[] renormalize = new boolean[0]; // ranked rows: log-softmax again after the edits
  private int[] penaltyIds = new int[64];
  private int penaltyCount;
  private int[] banIds = new int[64];
  private int banCount;
  private int[] biasFrom = new int[0];    // into biasIds and biasValues
  private int[] biasIds = new int[16];
  private float[] biasValues = new float[16];
  private int biasCount;

  public TokenChoice(int vocab, int initialRows) {
    this.vocab = vocab;
    grow(Math.max(1, initialRows));
  }

  public int vocab() {
    return vocab;
  }

  public int rows() {
    return rows;
  }

  /** Empties the table for the next chunk of rows. */
  public void clear() {
    rows = 0;
    penaltyCount = 0;
    banCount = 0;
    biasCount = 0;
  }

  /** Drops the rows from {@code row} on (a job that failed while describing its row). */
  public void truncate(int row) {
    if (row < rows) {
      penaltyCount = penaltyFrom[row];
      banCount = banFrom[row];
      biasCount = biasFrom[row];
      rows = row;
    }
  }

  /** Starts a greedy row (argmax after the biases, penalty and bans). Returns its index. */
  public int addGreedy() {
    return add(false, 1f, 0, 1.0, 0);
  }

  /**
   * Starts a sampled row: temperature (as the host: skipped at 1), top-k (0: off), top-p (1: off),
   * then a draw with {@code uniform} in [0, 1). Returns its index.
   */
  public int addSampled(float temperature, int topK, double topP, double uniform) {
    return add(true, temperature, topK, topP, uniform);
  }

  /**
   * Starts a ranked row (a running beam, Ops.rankTokens): log-softmax, then the biases, penalty and bans on
   * the log-probabilities, plus {@code beamScore}; its k best continuations, k clamped to the vocab.
   * Returns its index.
   */
  public int addRanked(int k, float beamScore) {
    int r = add(false, 1f, Math.max(1, Math.min(k, vocab)), 1.0, 0);
    this.beamScore[r] = beamScore;
    return r;
  }

  /** A ranked row's beam score (0 for the other rows). */
  public float beamScore(int row) {
    return beamScore[row];
  }

  /**
   * The last (ranked) row's log-probabilities become log-probabilities again after its edits, before
   * its beam score is added (HF's renormalize_logits, LogitsProcessors.renormalize).
   */
  public void renormalize() {
    renormalize[rows - 1] = true;
  }

  public boolean renormalize(int row) {
    return renormalize[row];
  }

  /** The largest top_k of the rows: the stride of Ops.rankTokens' output. */
  public int maxTopK() {
    int k = 0;
    for (int r = 0; r < rows; r++) {
      k = Math.max(k, topK[r]);
    }
    return k;
  }

  private int add(boolean sampled, float t, int k, double p, double u) {
    if (rows == sample.length) {
      grow(2 * rows);
    }
    int r = rows++;
    sample[r] = sampled;
    temperature[r] = t;
    topK[r] = k;
    topP[r] = p;
    uniform[r] = u;
    penalty[r] = 1f;
    penaltyFrom[r] = penaltyCount;
    banFrom[r] = banCount;
    biasFrom[r] = biasCount;
    logprob[r] = false;
    minP[r] = 0f;
    typical[r] = 0f;
    topH[r] = 0;
    epsilon[r] = 0f;
    eta[r] = 0f;
    beamScore[r] = 0f;
    renormalize[r] = false;
    return r;
  }

  /**
   * The last row's repetition penalty at ids[0..n), which must be distinct (each logit is
   * penalized once): logit / penalty when positive, times penalty when negative.
   */
  public void penalize(float penalty, int[] ids, int n) {
    int r = rows - 1;
    this.penalty[r] = penalty;
    if (penaltyCount + n > penaltyIds.length) {
      penaltyIds = Arrays.copyOf(penaltyIds, Math.max(2 * penaltyIds.length, penaltyCount + n));
    }
    for (int i = 0; i < n; i++) {
      int t = ids[i];
      if (t >= 0 && t < vocab) {
        penaltyIds[penaltyCount++] = t;
      }
    }
  }

  /**
   * The last row also gives its token's log-probability over its processed logits (penalty, bans,
   * temperature, top-k, top-p: GenerateJob's logprobs, HF's normalized scores).
   */
  public void wantLogprob() {
    logprob[rows - 1] = true;
  }

  public boolean logprob(int row) {
    return logprob[row];
  }

  /**
   * The last (sampled) row's filters after its top-p, in HF's order, each 0 when off: min_p,
   * typical_p's mass, the epsilon and the eta cutoff (LogitsProcessors.minP, typicalP,
   * epsilonCutoff, etaCutoff, which take the same floats).
   */
  public void filters(float minP, float typical, float epsilon, float eta) {
    this.minP[rows - 1] = minP;
    this.typical[rows - 1] = typical;
    this.epsilon[rows - 1] = epsilon;
    this.eta[rows - 1] = eta;
  }

  public float minP(int row) {
    return minP[row];
  }

  public float typical(int row) {
    return typical[row];
  }

  public float epsilon(int row) {
    return epsilon[row];
  }

  public float eta(int row) {
    return eta[row];
  }

  /** The last (sampled) row's top_h, after its temperature and before its top-k (LogitsProcessors.topH). */
  public void topH(double topH) {
    this.topH[rows - 1] = topH;
  }

  public double topH(int row) {
    return topH[row];
  }

  /** Whether any row wants its log-probability. */
  public boolean anyLogprob() {
    for (int r = 0; r < rows; r++) {
      if (logprob[r]) {
        return true;
      }
    }
    return false;
  }

  /**
   * Adds {@code value} to the last row's logit at {@code id} before its penalty (HF's sequence_bias,
   * LogitsProcessors.sequenceBias: one entry per id, its biases already summed in float).
   */
  public void bias(int id, float value) {
    if (id < 0 || id >= vocab) {
      return;
    }
    if (biasCount == biasIds.length) {
      biasIds = Arrays.copyOf(biasIds, 2 * biasIds.length);
      biasValues = Arrays.copyOf(biasValues, biasIds.length);
    }
    biasIds[biasCount] = id;
    biasValues[biasCount++] = value;
  }

  /** The row's biases: biasId(i) and biasValue(i) for i in [biasFrom(row), biasTo(row)). */
  public int biasFrom(int row) {
    return biasFrom[row];
  }

  public int biasTo(int row) {
    return row + 1 < rows ? biasFrom[row + 1] : biasCount;
  }

  public int biasId(int i) {
    return biasIds[i];
  }

  public float biasValue(int i) {
    return biasValues[i];
  }

  /** All rows' biases. */
  public int biasCount() {
    return biasCount;
  }

  /** Bans a token in the last row (its logit becomes -inf); repeats are harmless. */
  public void ban(int id) {
    if (id < 0 || id >= vocab) {
      return;
    }
    if (banCount == banIds.length) {
      banIds = Arrays.copyOf(banIds, 2 * banIds.length);
    }
    banIds[banCount++] = id;
  }

  public boolean sample(int row) {
    return sample[row];
  }

  public float temperature(int row) {
    return temperature[row];
  }

  public int topK(int row) {
    return topK[row];
  }

  public double topP(int row) {
    return topP[row];
  }

  public double uniform(int row) {
    return uniform[row];
  }

  public float penalty(int row) {
    return penalty[row];
  }

  /** The row's penalized ids: penaltyId(i) for i in [penaltyFrom(row), penaltyTo(row)). */
  public int penaltyFrom(int row) {
    return penaltyFrom[row];
  }

  public int penaltyTo(int row) {
    return row + 1 < rows ? penaltyFrom[row + 1] : penaltyCount;
  }

  public int penaltyId(int i) {
    return penaltyIds[i];
  }

  /** All rows' penalized ids. */
  public int penaltyCount() {
    return penaltyCount;
  }

  /** The row's banned ids: banId(i) for i in [banFrom(row), banTo(row)). */
  public int banFrom(int row) {
    return banFrom[row];
  }

  public int banTo(int row) {
    return row + 1 < rows ? banFrom[row + 1] : banCount;
  }

  public int banId(int i) {
    return banIds[i];
  }

  /** All rows' banned ids. */
  public int banCount() {
    return banCount;
  }

  private void grow(int capacity) {
    sample = Arrays.copyOf(sample, capacity);
    temperature = Arrays.copyOf(temperature, capacity);
    topK = Arrays.copyOf(topK, capacity);
    topP = Arrays.copyOf(topP, capacity);
    uniform = Arrays.copyOf(uniform, capacity);
    penalty = Arrays.copyOf(penalty, capacity);
    penaltyFrom = Arrays.copyOf(penaltyFrom, capacity);
    banFrom = Arrays.copyOf(banFrom, capacity);
    biasFrom = Arrays.copyOf(biasFrom, capacity);
    logprob = Arrays.copyOf(logprob, capacity);
    minP = Arrays.copyOf(minP, capacity);
    typical = Arrays.copyOf(typical, capacity);
    topH = Arrays.copyOf(topH, capacity);
    epsilon = Arrays.copyOf(epsilon, capacity);
    eta = Arrays.copyOf(eta, capacity);
    beamScore = Arrays.copyOf(beamScore, capacity);
    renormalize = Arrays.copyOf(renormalize, capacity);
  }
}
