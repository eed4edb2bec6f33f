package dev.gptneo.engine.generate;

import java.util.Arrays;

/**
 * The checks of {@link GenerationParams}, with HF's rules: each failure is an IllegalArgumentException
 * whose message names the setting, its valid range and what was given.
 */
final class ParamRules {
  private ParamRules() {}

  static void check(GenerationParams p) {
    require(p.maxNewTokens >= 1, "max_new_tokens must be >= 1, got " + p.maxNewTokens);
    require(p.minNewTokens >= 0, "min_new_tokens must be >= 0, got " + p.minNewTokens); // above max: eos never (HF)
    require(p.maxLength >= 0, "max_length must be >= 1 (0: unset), got " + p.maxLength);
    require(p.minLength >= 0, "min_length must be >= 0, got " + p.minLength);
    if (p.doSample) { // as HF, the sampling settings matter (and are checked) only when sampling
      checkSampling(p);
    }
    require(p.repetitionPenalty > 0 && Double.isFinite(p.repetitionPenalty),
        "repetition_penalty must be > 0 (1.0 disables it), got " + p.repetitionPenalty);
    require(p.noRepeatNgramSize >= 0, "no_repeat_ngram_size must be >= 0 (0 disables it), got "
        + p.noRepeatNgramSize);
    for (String s : p.stopStrings) {
      require(s != null && !s.isEmpty(), "stop strings must not be empty");
    }
    checkBeams(p);
    checkTokens(p);
    require(p.numBeams == 1 || p.numReturnSequences <= p.numBeams, "num_return_sequences ("
        + p.numReturnSequences + ") must be <= num_beams (" + p.numBeams + "): beam search keeps num_beams hypotheses");
  }

  private static void checkSampling(GenerationParams p) {
    require(p.temperature > 0 && Double.isFinite(p.temperature),
        "temperature must be > 0 (use greedy decoding instead of temperature 0), got " + p.temperature);
    require(p.topK >= 0, "top_k must be >= 0 (0 disables it), got " + p.topK);
    require(p.topP >= 0 && p.topP <= 1, "top_p must be in [0, 1] (1 disables it; 0 keeps the top token), got "
        + p.topP);
    require(p.minP >= 0 && p.minP <= 1, "min_p must be in [0, 1] (0 disables it), got " + p.minP);
    require(p.topH >= 0 && p.topH <= 1, "top_h must be in (0, 1] (0 disables it), got " + p.topH);
    require(p.typicalP > 0 && p.typicalP <= 1, "typical_p must be in (0, 1] (1 disables it), got " + p.typicalP);
    require(p.epsilonCutoff >= 0 && p.epsilonCutoff < 1, "epsilon_cutoff must be in [0, 1) (0 disables it), got "
        + p.epsilonCutoff);
    require(p.etaCutoff >= 0 && p.etaCutoff < 1, "eta_cutoff must be in [0, 1) (0 disables it), got "
        + p.etaCutoff);
  }

  /** Beam search's settings, and the sequences each row returns. */
  private static void checkBeams(GenerationParams p) {
    require(p.numBeams >= 1 && p.numBeams <= 64, "num_beams must be between 1 and 64, got " + p.numBeams);
    require(Double.isFinite(p.lengthPenalty), "length_penalty must be a finite number, got " + p.lengthPenalty);
    require("false".equals(p.earlyStopping) || "true".equals(p.earlyStopping) || "never".equals(p.earlyStopping),
        "early_stopping must be true, false or never, got " + p.earlyStopping);
    require(p.numBeams == 1 || p.stopStrings.isEmpty() && p.stopTokenIds.length == 0,
        "stop strings and stop token ids are not supported with num_beams > 1 (eos ends a hypothesis)");
    require(p.numReturnSequences >= 1 && p.numReturnSequences <= 64,
        "num_return_sequences must be between 1 and 64, got " + p.numReturnSequences);
    require(p.numReturnSequences == 1 || p.doSample || p.numBeams > 1, "greedy decoding gives one sequence:"
        + " num_return_sequences > 1 needs sampling (do_sample, temperature, top_k or top_p) or beam search"
        + " (num_beams >= num_return_sequences)");
    require(p.numBeams == 1 || !p.logprobs, "logprobs are for greedy decoding and sampling; beam search scores"
        + " hypotheses instead (num_beams must be 1)");
  }

  /** The token-id settings. */
  private static void checkTokens(GenerationParams p) {
    for (int t : p.suppressTokens) {
      require(t >= 0, "suppress_tokens must be token ids >= 0, got " + t);
    }
    for (int t : p.beginSuppressTokens) {
      require(t >= 0, "begin_suppress_tokens must be token ids >= 0, got " + t);
    }
    require(p.biasedSequences.length == p.sequenceBiases.length, "sequence_bias needs one bias per sequence");
    for (int i = 0; i < p.biasedSequences.length; i++) {
      int[] sequence = p.biasedSequences[i];
      require(sequence != null && sequence.length > 0 && Arrays.stream(sequence).allMatch(t -> t >= 0)
          && Double.isFinite(p.sequenceBiases[i]), "sequence_bias must pair non-empty lists of token ids >= 0 with"
          + " finite biases, as [[[1, 2], -3.5], [[7], 1.0]]");
    }
    require(p.forcedBosTokenId >= -1, "forced_bos_token_id must be a token id >= 0, got " + p.forcedBosTokenId);
    require(Arrays.stream(p.forcedEosTokenIds).allMatch(t -> t >= 0), "forced_eos_token_id must be token ids >= 0");
    for (int[] forced : new int[][] {p.forcedBosTokenId >= 0 ? new int[] {p.forcedBosTokenId} : new int[0],
        p.forcedEosTokenIds}) { // as HF's validate(): forcing only suppressed tokens leaves nothing to choose
      require(forced.length == 0 || !Arrays.stream(forced).allMatch(t -> Arrays.stream(p.suppressTokens)
          .anyMatch(s -> s == t)), "every forced token " + Arrays.toString(forced) + " is also in"
          + " suppress_tokens, which leaves no token to generate there; remove it from one of them");
    }
    require(p.eosTokenIds == null || Arrays.stream(p.eosTokenIds).allMatch(t -> t >= 0),
        "eos_token_id must be token ids >= 0");
    require(p.decayStart >= -1 && Double.isFinite(p.decayFactor) && p.decayFactor > 0,
        "exponential_decay_length_penalty must be (start >= 0, factor > 0), got (" + p.decayStart + ", "
            + p.decayFactor + ")");
    for (int[] word : p.badWordsIds) {
      require(word != null && word.length > 0, "bad_words_ids must be non-empty lists of token ids");
      for (int t : word) {
        require(t >= 0, "bad_words_ids must hold token ids >= 0, got " + t);
      }
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
