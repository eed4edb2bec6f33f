package dev.gptneo.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Set;

/**
 * The text forms of the list-valued generation settings, as HF writes them in generation_config.json,
 * shared by that file's reader, the CLI flags and the SQL options. Errors are IllegalArgumentExceptions
 * whose message starts with the setting's name and says the expected form.
 */
public final class SettingForms {
  /** The settings {@link #apply} reads. */
  public static final Set<String> KEYS = Set.of("suppress_tokens", "begin_suppress_tokens", "bad_words_ids",
      "sequence_bias", "exponential_decay_length_penalty", "eos_token_id");

  private static final ObjectMapper JSON = new ObjectMapper();

  private SettingForms() {}

  /**
   * Sets one of {@link #KEYS} on {@code b} from its text:
   * <ul>
   *   <li>suppress_tokens, begin_suppress_tokens, eos_token_id: {@code 50256, 198} or {@code [50256, 198]};
   *   <li>bad_words_ids: {@code [[1, 2], [3]]};
   *   <li>sequence_bias: pairs of token ids and a bias, {@code [[[1, 2], -3.5], [[7], 1.0]]};
   *   <li>exponential_decay_length_penalty: {@code [start, factor]} or {@code start, factor}.
   * </ul>
   */
  public static GenerationParams.Builder apply(String key, String text, GenerationParams.Builder b) {
    switch (key) {
      case "suppress_tokens": return b.suppressTokens(ids(key, text));
      case "begin_suppress_tokens": return b.beginSuppressTokens(ids(key, text));
      case "eos_token_id": return b.eosTokenIds(ids(key, text));
      case "bad_words_ids": return b.badWordsIds(wordIds(text));
      case "sequence_bias": return sequenceBias(text, b);
      case "exponential_decay_length_penalty": return decay(text, b);
      default: throw new IllegalArgumentException(key + " is not a list-valued generation setting");
    }
  }

  /** Token ids as {@code 50256, 198} or {@code [50256, 198]}. */
  public static int[] ids(String key, String text) {
    String s = text.trim();
    if (s.startsWith("[") && s.endsWith("]")) {
      s = s.substring(1, s.length() - 1);
    }
    String[] parts = s.split(",");
    int[] ids = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        ids[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be token ids such as 50256, 198 (or [50256, 198]); got '"
            + text + "'");
      }
    }
    return ids;
  }

  private static int[][] wordIds(String text) {
    String form = "bad_words_ids must be a JSON list of token id lists such as [[1, 2], [3]]; got '" + text + "'";
    JsonNode words = tree(text, form);
    int[][] out = new int[words.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = ints(words.get(i), form);
    }
    return out;
  }

  private static GenerationParams.Builder sequenceBias(String text, GenerationParams.Builder b) {
    String form = "sequence_bias must be a JSON list of [token ids, bias] pairs such as [[[1, 2], -3.5], [[7], 1.0]]; "
        + "got '" + text + "'";
    JsonNode pairs = tree(text, form);
    int[][] sequences = new int[pairs.size()][];
    double[] biases = new double[pairs.size()];
    for (int i = 0; i < sequences.length; i++) {
      JsonNode pair = pairs.get(i);
      if (!pair.isArray() || pair.size() != 2 || !pair.get(1).isNumber()) {
        throw new IllegalArgumentException(form);
      }
      sequences[i] = ints(pair.get(0), form);
      biases[i] = pair.get(1).doubleValue();
    }
    return b.sequenceBias(sequences, biases);
  }

  private static GenerationParams.Builder decay(String text, GenerationParams.Builder b) {
    String s = text.trim();
    if (s.startsWith("[") && s.endsWith("]")) {
      s = s.substring(1, s.length() - 1);
    }
    String[] parts = s.split(",");
    try {
      if (parts.length == 2) {
        return b.exponentialDecayLengthPenalty(Integer.parseInt(parts[0].trim()), Double.parseDouble(parts[1].trim()));
      }
    } catch (NumberFormatException e) {
      // the message below
    }
    throw new IllegalArgumentException("exponential_decay_length_penalty must be [start, factor] such as [10, 1.05]; "
        + "got '" + text + "'");
  }

  /** A JSON array, or the form's error. */
  private static JsonNode tree(String text, String form) {
    try {
      JsonNode node = JSON.readTree(text.trim());
      if (node != null && node.isArray()) {
        return node;
      }
    } catch (IOException e) {
      // the message below
    }
    throw new IllegalArgumentException(form);
  }

  /** A JSON array of integers, or the form's error. */
  private static int[] ints(JsonNode list, String form) {
    if (!list.isArray()) {
      throw new IllegalArgumentException(form);
    }
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) {
      if (!list.get(i).isIntegralNumber() || !list.get(i).canConvertToInt()) {
        throw new IllegalArgumentException(form);
      }
      out[i] = list.get(i).intValue();
    }
    return out;
  }
}
