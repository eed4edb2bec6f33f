package dev.gptneo.engine.generate;

import java.util.Arrays;

/** The checks of GenerationParams' token-id settings, with HF's rules and messages that name the setting. */
final class TokenRules {
  private TokenRules() {}

  static void check(int[] suppressTokens, int[] beginSuppressTokens, int[][] biasedSequences,
      double[] sequenceBiases, int forcedBosTokenId, int[] forcedEosTokenIds, int[] eosTokenIds,
      int[][] badWordsIds, int decayStart, double decayFactor) {
    for (int t : suppressTokens) {
      require(t >= 0, "suppress_tokens must be token ids >= 0, got " + t);
    }
    for (int t : beginSuppressTokens) {
      require(t >= 0, "begin_suppress_tokens must be token ids >= 0, got " + t);
    }
    require(biasedSequences.length == sequenceBiases.length, "sequence_bias needs one bias per sequence");
    for (int i = 0; i < biasedSequences.length; i++) {
      require(biasedSequences[i].length > 0 && Arrays.stream(biasedSequences[i]).allMatch(t -> t >= 0)
          && Double.isFinite(sequenceBiases[i]), "sequence_bias must pair non-empty lists of token ids >= 0 with"
          + " finite biases, as [[[1, 2], -3.5], [[7], 1.0]]");
    }
    require(forcedBosTokenId >= -1, "forced_bos_token_id must be a token id >= 0, got " + forcedBosTokenId);
    require(Arrays.stream(forcedEosTokenIds).allMatch(t -> t >= 0), "forced_eos_token_id must be token ids >= 0");
    for (int[] forced : new int[][] {forcedBosTokenId >= 0 ? new int[] {forcedBosTokenId} : new int[0],
        forcedEosTokenIds}) { // as HF's validate(): forcing only suppressed tokens leaves nothing to choose
      require(forced.length == 0 || !Arrays.stream(forced).allMatch(t -> Arrays.stream(suppressTokens)
          .anyMatch(s -> s == t)), "every forced token " + Arrays.toString(forced) + " is also in"
          + " suppress_tokens, which leaves no token to generate there; remove it from one of them");
    }
    require(eosTokenIds == null || Arrays.stream(eosTokenIds).allMatch(t -> t >= 0),
        "eos_token_id must be token ids >= 0");
    require(decayStart >= -1 && Double.isFinite(decayFactor) && decayFactor > 0,
        "exponential_decay_length_penalty must be (start >= 0, factor > 0), got (" + decayStart + ", "
            + decayFactor + ")");
    for (int[] word : badWordsIds) {
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
