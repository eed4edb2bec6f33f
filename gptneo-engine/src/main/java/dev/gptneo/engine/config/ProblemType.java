package dev.gptneo.engine.config;

/**
 * config.json's problem_type: how a classification head's logits become scores, as HF's
 * text-classification pipeline turns them (softmax, sigmoid, or none for regression).
 */
public enum ProblemType {
  SINGLE_LABEL("single_label_classification"),
  MULTI_LABEL("multi_label_classification"),
  REGRESSION("regression");

  public final String hfName;

  ProblemType(String hfName) {
    this.hfName = hfName;
  }

  /** HF's default when problem_type is unset: a one-label head is scored with a sigmoid. */
  static ProblemType unsetFor(int numLabels) {
    return numLabels == 1 ? MULTI_LABEL : SINGLE_LABEL;
  }

  static ProblemType parse(String name) {
    for (ProblemType t : values()) {
      if (t.hfName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("problem_type '" + name + "' is not one of regression,"
        + " single_label_classification, multi_label_classification");
  }
}
