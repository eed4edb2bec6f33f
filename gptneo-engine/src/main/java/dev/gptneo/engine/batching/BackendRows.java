package dev.gptneo.engine.batching;

import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.ops.TokenChoice;
import dev.gptneo.engine.ops.TokenTargets;

/**
 * LM-head rows that the backend reduces itself, so that only small results cross to the host (the
 * GPU) or the work runs on the backend's threads (the CPU's scores): each job taken describes its
 * row in a table, one backend call runs the head and the reduction over a chunk of rows, and each
 * job receives its row's result (Scheduler.deliverOnBackend). Three kinds: the tokens generation
 * chooses ({@link ChoosesTokens}), the log-probabilities of listed tokens that scoring needs
 * ({@link ScoresTokens}), and beams' best continuations ({@link RanksTokens}). A chunk is at most
 * maxHeadRows rows.
 */
abstract class BackendRows {
  /** The kinds the model's backend runs: all on the GPU, target log-probabilities on the CPU. */
  static BackendRows[] of(GptNeoModel model) {
    java.util.List<BackendRows> kinds = new java.util.ArrayList<>();
    if (model.choosesTokens()) {
      kinds.add(new ChosenTokens(model));
    }
    if (model.scoresTokens()) {
      kinds.add(new TargetLogprobs(model));
    }
    if (model.ranksTokens()) {
      kinds.add(new RankedTokens(model));
    }
    return kinds.toArray(new BackendRows[0]);
  }

  /** Whether this kind takes the job's LM rows. */
  abstract boolean takes(Job<?> job);

  /** Starts a chunk. */
  abstract void clear();

  /** Adds the job's row at {@code position} as the chunk's next row. */
  abstract void describe(Job<?> job, int position);

  /** Row i's job failed while describing it: drops what it added and keeps the rows aligned. */
  abstract void placeholder(int i);

  /** The LM head on step rows[0..n) and the reduction, on the backend. */
  abstract void run(int[] rows, int n);

  /** Gives row i's result to its job. */
  abstract void accept(Job<?> job, int position, int i);

  /** Generation: one chosen token per row (and its logprob where the job asked). */
  private static final class ChosenTokens extends BackendRows {
    private final GptNeoModel model;
    private final TokenChoice choice;  // (maxHeadRows rows) how each row's token is chosen
    private final int[] chosen;        // (maxHeadRows) the chosen ids
    private final double[] logprobs;   // (maxHeadRows) their log-probabilities, where rows asked

    ChosenTokens(GptNeoModel model) {
      this.model = model;
      this.choice = new TokenChoice(model.config.vocabSize, model.maxHeadRows());
      this.chosen = new int[model.maxHeadRows()];
      this.logprobs = new double[model.maxHeadRows()];
    }

    @Override
    boolean takes(Job<?> job) {
      return job instanceof ChoosesTokens && ((ChoosesTokens) job).backendMayChoose();
    }

    @Override
    void clear() {
      choice.clear();
    }

    @Override
    void describe(Job<?> job, int position) {
      ((ChoosesTokens) job).describeChoice(position, choice);
    }

    @Override
    void placeholder(int i) {
      choice.truncate(i);
      choice.addGreedy();
    }

    @Override
    void run(int[] rows, int n) {
      model.chooseTokens(rows, n, choice, chosen, logprobs);
    }

    @Override
    void accept(Job<?> job, int position, int i) {
      ((ChoosesTokens) job).acceptToken(position, chosen[i], logprobs[i]);
    }
  }

  /** Scoring: the log-probabilities of each row's listed tokens. */
  private static final class TargetLogprobs extends BackendRows {
    private final GptNeoModel model;
    private final TokenTargets targets;  // (chunk rows) the tokens each row scores
    private double[] logprobs = new double[64]; // (targets.count()) grows with the chunk's targets

    TargetLogprobs(GptNeoModel model) {
      this.model = model;
      this.targets = new TokenTargets(model.config.vocabSize);
    }

    @Override
    boolean takes(Job<?> job) {
      return job instanceof ScoresTokens;
    }

    @Override
    void clear() {
      targets.clear();
    }

    @Override
    void describe(Job<?> job, int position) {
      ((ScoresTokens) job).describeTargets(position, targets);
    }

    @Override
    void placeholder(int i) {
      targets.truncate(i);
      targets.addRow();
    }

    @Override
    void run(int[] rows, int n) {
      if (logprobs.length < targets.count()) {
        logprobs = new double[Math.max(2 * logprobs.length, targets.count())];
      }
      model.tokenLogprobs(rows, n, targets, logprobs);
    }

    @Override
    void accept(Job<?> job, int position, int i) {
      ((ScoresTokens) job).acceptLogprobs(position, logprobs, targets.from(i), targets.to(i));
    }
  }

  /** Beam search: each running beam's best continuations. */
  private static final class RankedTokens extends BackendRows {
    private final GptNeoModel model;
    private final TokenChoice choice;   // (chunk rows) how each beam's continuations are ranked
    private float[] scores = new float[0]; // (rows, maxTopK) grows with the chunk
    private int[] ids = new int[0];        // (rows, maxTopK)

    RankedTokens(GptNeoModel model) {
      this.model = model;
      this.choice = new TokenChoice(model.config.vocabSize, model.maxHeadRows());
    }

    @Override
    boolean takes(Job<?> job) {
      return job instanceof RanksTokens && ((RanksTokens) job).backendMayRank();
    }

    @Override
    void clear() {
      choice.clear();
    }

    @Override
    void describe(Job<?> job, int position) {
      ((RanksTokens) job).describeRanking(position, choice);
    }

    @Override
    void placeholder(int i) {
      choice.truncate(i);
      choice.addRanked(1, 0f);
    }

    @Override
    void run(int[] rows, int n) {
      int size = n * choice.maxTopK();
      if (scores.length < size) {
        scores = new float[Math.max(2 * scores.length, size)];
        ids = new int[scores.length];
      }
      model.rankTokens(rows, n, choice, scores, ids);
    }

    @Override
    void accept(Job<?> job, int position, int i) {
      ((RanksTokens) job).acceptRanking(position, scores, ids, i * choice.maxTopK(), choice.topK(i));
    }
  }
}
