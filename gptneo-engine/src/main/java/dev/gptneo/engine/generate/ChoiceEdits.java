package dev.gptneo.engine.generate;

import dev.gptneo.engine.ops.TokenChoice;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The processors a backend row carries as lists (LogitsPipeline's, in its order, for the settings
 * GenerationParams.needsHostChoice leaves to the backend): the sequence biases, the repetition
 * penalty at the distinct earlier tokens, then the bans of no-repeat n-grams, min_new_tokens, bad
 * words, suppress_tokens and begin_suppress_tokens. Generation ({@link GenerateJob}) and beams
 * ({@link BeamSearch}) share it.
 */
final class ChoiceEdits {
  private ChoiceEdits() {}

  /**
   * Adds the edits for the token after tokens[0..length) (the first promptLength of them the prompt)
   * to choice's last row. distinct[0..distinctCount): the distinct ids among them, needed only with a
   * repetition penalty.
   */
  static void describe(TokenChoice choice, int[] tokens, int length, int promptLength, GenerationParams p,
      int[] eosIds, int[] distinct, int distinctCount) {
    int generated = length - promptLength;
    if (p.sequenceBiases.length > 0) {
      LogitsProcessors.sequenceBiasEntries(tokens, length, p.biasedSequences, p.sequenceBiases, choice::bias);
    }
    if (p.repetitionPenalty != 1.0) {
      choice.penalize((float) p.repetitionPenalty, distinct, distinctCount);
    }
    if (p.noRepeatNgramSize > 0) {
      LogitsProcessors.noRepeatNgramBans(tokens, length, p.noRepeatNgramSize, choice);
    }
    if (generated < p.minNewTokens) {
      for (int e : eosIds) {
        choice.ban(e);
      }
    }
    LogitsProcessors.badWordBans(tokens, length, p.badWordsIds, eosIds, choice::ban);
    for (int t : p.suppressTokens) {
      choice.ban(t);
    }
    if (generated == LogitsProcessors.beginSuppressStep(promptLength, p.forcedBosTokenId)) {
      for (int t : p.beginSuppressTokens) {
        choice.ban(t);
      }
    }
  }

  /** The distinct ids in [0, vocab) of seq, in order of first appearance (the penalty's list). */
  static int[] distinct(int[] seq, int vocab) {
    BitSet seen = new BitSet(vocab);
    int[] out = new int[seq.length];
    int n = 0;
    for (int t : seq) {
      if (t >= 0 && t < vocab && !seen.get(t)) {
        seen.set(t);
        out[n++] = t;
      }
    }
    return Arrays.copyOf(out, n);
  }
}
