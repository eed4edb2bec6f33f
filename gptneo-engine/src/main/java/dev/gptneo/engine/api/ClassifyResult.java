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
  /** How logits become {@link #probabilities}, as HF's text-classification pipeline by problem_type. */
  public enum Scores {
    SOFTMAX, // single-label heads and zero-shot
    SIGMOID, // multi_label_classification, or a one-label head
    LOGITS;  // regression: the logits themselves

    static Scores of(dev.gptneo.engine.config.ProblemType type) {
      switch (type) {
        case MULTI_LABEL: return SIGMOID;
        case REGRESSION: return LOGITS;
        default: return SOFTMAX;
      }
    }
  }

  public final String label;
  public final int labelIndex;
  public final Map<String, Double> probabilities; // in label order
  public final float[] logits;                    // (labels)
  public final int inputTokens;                   // the text's tokens after truncation

  public ClassifyResult(List<String> labels, float[] logits, int inputTokens) {
    this(labels, logits, inputTokens, Scores.SOFTMAX);
  }

  /** The label is the largest logit (first on ties) whatever the scores, as HF's argmax. */
  public ClassifyResult(List<String> labels, float[] logits, int inputTokens, Scores scores) {
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
      double p = scores == Scores.SOFTMAX ? e[i] / sum
          : scores == Scores.SIGMOID ? 1 / (1 + Math.exp(-(double) logits[i])) : logits[i];
      probs.put(labels.get(i), p);
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
