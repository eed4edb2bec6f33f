package dev.gptneo.engine.generate;

/**
 * HF's logits processors for one row, in the order of transformers' _get_logits_processor: biases,
 * repetition penalty, n-gram and bad-word bans, min-new-tokens, forced bos/eos, length decay,
 * suppressed tokens; then, when sampling, the warpers (temperature, top-h, top-k, top-p, min-p,
 * typical-p, epsilon and eta); then renormalizing. Greedy and sampled rows ({@link GenerateJob}) and
 * beams ({@link BeamSearch}, on log-probabilities) share it. Owns its (vocab) scratch; not thread-safe.
 */
final class LogitsPipeline {
  private final float[] select; // (vocab) top-k's copy
  private final long[] keys;    // (vocab) sort keys
  private final float[] probs;  // (vocab) softmax
  private final boolean[] seen; // (vocab) repetition penalty's marks

  LogitsPipeline(int vocab) {
    select = new float[vocab];
    keys = new long[vocab];
    probs = new float[vocab];
    seen = new boolean[vocab];
  }

  /** Scratch of vocab size a caller may use after {@link #process} (the sampler's probabilities). */
  float[] probs() {
    return probs;
  }

  /**
   * Processes {@code row} in place for the next token after {@code seq[0..len)}, whose first
   * {@code promptLength} tokens are the prompt. {@code minKeep}: the fewest tokens a warper keeps
   * (HF's min_tokens_to_keep: 1, or eos ids + 1 for beam sampling).
   */
  void process(float[] row, int[] seq, int len, int promptLength, GenerationParams p, int[] eosIds,
      int minKeep) {
    int generated = len - promptLength;
    if (p.sequenceBiases.length > 0) {
      LogitsProcessors.sequenceBias(row, seq, len, p.biasedSequences, p.sequenceBiases);
    }
    if (p.repetitionPenalty != 1.0) {
      LogitsProcessors.repetitionPenalty(row, seq, len, (float) p.repetitionPenalty, seen);
    }
    if (p.noRepeatNgramSize > 0) {
      LogitsProcessors.noRepeatNgram(row, seq, len, p.noRepeatNgramSize);
    }
    if (generated < p.minNewTokens) {
      LogitsProcessors.suppressEos(row, eosIds);
    }
    if (p.badWordsIds.length > 0) {
      LogitsProcessors.badWordBans(seq, len, p.badWordsIds, eosIds, t -> {
        if (t < row.length) {
          row[t] = Float.NEGATIVE_INFINITY;
        }
      });
    }
    if (p.forcedBosTokenId >= 0 && len == 1) {
      LogitsProcessors.force(row, p.forcedBosTokenId);
    }
    if (p.forcedEosTokenIds.length > 0 && generated == p.maxNewTokens - 1) {
      LogitsProcessors.force(row, p.forcedEosTokenIds);
    }
    if (p.decayStart >= 0) {
      LogitsProcessors.exponentialDecay(row, eosIds, generated - p.decayStart, p.decayFactor);
    }
    LogitsProcessors.suppress(row, p.suppressTokens);
    if (generated == LogitsProcessors.beginSuppressStep(promptLength, p.forcedBosTokenId)) {
      LogitsProcessors.suppress(row, p.beginSuppressTokens);
    }
    if (p.doSample) {
      LogitsProcessors.temperature(row, (float) p.temperature);
      LogitsProcessors.topH(row, p.topH, keys, probs);
      LogitsProcessors.topK(row, p.topK, minKeep, select);
      LogitsProcessors.topP(row, p.topP, minKeep, keys, probs);
      LogitsProcessors.minP(row, p.minP, minKeep, probs);
      LogitsProcessors.typicalP(row, p.typicalP, minKeep, keys, probs);
      LogitsProcessors.epsilonCutoff(row, p.epsilonCutoff, minKeep, probs);
      LogitsProcessors.etaCutoff(row, p.etaCutoff, minKeep, probs);
    }
    if (p.renormalizeLogits) {
      LogitsProcessors.renormalize(row);
    }
  }
}
