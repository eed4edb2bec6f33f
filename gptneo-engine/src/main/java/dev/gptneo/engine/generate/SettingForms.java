package dev.gptneo.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The JSON and text forms of the list-valued generation settings, as HF writes them in
 * generation_config.json, shared by that file's reader, the CLI flags and the SQL options. Each
 * throws IllegalArgumentException naming the setting and the expected form.
 */
public final class SettingForms {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SettingForms() {}

  /**
   * bad_words_ids as JSON, the way generation_config.json and HF write them: {@code [[1, 2], [3]]}.
   * @throws IllegalArgumentException naming the expected form
   */
  public static int[][] wordIds(String json) {
    try {
      int[][] words = JSON.readValue(json.trim(), int[][].class);
      if (words == null) {
        throw new IllegalArgumentException("null");
      }
      return words;
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("bad_words_ids must be a JSON list of token id lists such as [[1, 2], [3]]; "
          + "got '" + json + "'");
    }
  }

  /**
   * sequence_bias as HF writes it in JSON, pairs of a token id list and a bias:
   * {@code [[[1, 2], -3.5], [[7], 1.0]]}; applied to {@code b}.
   */
  public static GenerationParams.Builder sequenceBias(String json, GenerationParams.Builder b) {
    String form = "sequence_bias must be a JSON list of [token ids, bias] pairs such as [[[1, 2], -3.5], [[7], 1.0]]; "
        + "got '" + json + "'";
    JsonNode pairs;
    try {
      pairs = JSON.readTree(json.trim());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(form);
    }
    if (pairs == null || !pairs.isArray()) {
      throw new IllegalArgumentException(form);
    }
    int[][] sequences = new int[pairs.size()][];
    double[] biases = new double[pairs.size()];
    for (int i = 0; i < sequences.length; i++) {
      JsonNode pair = pairs.get(i);
      if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isArray() || !pair.get(1).isNumber()) {
        throw new IllegalArgumentException(form);
      }
      sequences[i] = new int[pair.get(0).size()];
      for (int j = 0; j < sequences[i].length; j++) {
        if (!pair.get(0).get(j).canConvertToInt() || !pair.get(0).get(j).isIntegralNumber()) {
          throw new IllegalArgumentException(form);
        }
        sequences[i][j] = pair.get(0).get(j).intValue();
      }
      biases[i] = pair.get(1).doubleValue();
    }
    return b.sequenceBias(sequences, biases);
  }

  /** exponential_decay_length_penalty as {@code [start, factor]} or {@code start, factor}; applied to {@code b}. */
  public static GenerationParams.Builder decay(String text, GenerationParams.Builder b) {
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
      // below
    }
    throw new IllegalArgumentException("exponential_decay_length_penalty must be [start, factor] such as [10, 1.05]; "
        + "got '" + text + "'");
  }
}
