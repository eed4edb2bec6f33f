package dev.gptneo.engine.api;

import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import java.util.List;

/** Turns raw head outputs into per-task results. */
final class TaskResults {
  private TaskResults() {}

  /** rows: (tokens, labels) logits. */
  static TokenClassifyResult tokenClassify(int[] ids, float[] rows, int labels, List<String> labelNames,
      Gpt2Tokenizer tokenizer) {
    int n = ids.length;
    String[] tokens = tokenizer == null ? null : new String[n];
    String[] chosen = new String[n];
    float[] scores = new float[n];
    float[][] logits = new float[n][labels];
    for (int t = 0; t < n; t++) {
      System.arraycopy(rows, t * labels, logits[t], 0, labels);
      int best = 0;
      for (int j = 1; j < labels; j++) {
        if (logits[t][j] > logits[t][best]) {
          best = j;
        }
      }
      double sum = 0;
      for (int j = 0; j < labels; j++) {
        sum += Math.exp(logits[t][j] - logits[t][best]);
      }
      chosen[t] = labelNames.get(best);
      scores[t] = (float) (1.0 / sum);
      if (tokens != null) {
        tokens[t] = tokenizer.decode(new int[] {ids[t]});
      }
    }
    return new TokenClassifyResult(ids, tokens, chosen, scores, logits);
  }
}
