package dev.gptneo.engine.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A label with its probability for every candidate. For a classification head, {@code logits}
 * are the head's logits; for zero-shot, they are the summed log-likelihoods of each label's tokens.
 */
public final class ClassifyResult extends Result {
  public final String label;
  public final int labelIndex;
  public final Map<String, Double> probabilities; // in label order
  public final float[] logits;                    // (labels)
  public final int inputTokens;                   // the text's tokens after truncation

  public ClassifyResult(List<String> labels, float[] logits, int inputTokens) {
    super(null);
    this.logits = logits;
    this.inputTokens = inputTokens;
    double max = Double.NEGATIVE_INFINITY;
    int best = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] > max) {
        max = logits[i];
        best = i;
      }
    }
    double sum = 0;
    double[] e = new double[logits.length];
    for (int i = 0; i < logits.length; i++) {
      e[i] = Math.exp(logits[i] - max);
      sum += e[i];
    }
    Map<String, Double> probs = new LinkedHashMap<>();
    for (int i = 0; i < logits.length; i++) {
      probs.put(labels.get(i), e[i] / sum);
    }
    this.probabilities = Collections.unmodifiableMap(probs);
    this.label = labels.get(best);
    this.labelIndex = best;
  }

  private ClassifyResult(String error) {
    super(error);
    label = null;
    labelIndex = -1;
    probabilities = null;
    logits = null;
    inputTokens = 0;
  }

  public static ClassifyResult failed(String error) {
    return new ClassifyResult(error);
  }
}
