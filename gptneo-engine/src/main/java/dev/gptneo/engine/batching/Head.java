package dev.gptneo.engine.batching;

/** Which output of the last hidden states a job reads. */
public enum Head {
  /** Next-token logits (vocab): generation, scoring. */
  LM,
  /** Sequence-classification logits (labels), from {@code score.weight}. */
  SEQUENCE_CLASSIFIER,
  /** Token-classification logits (labels), from {@code classifier}. */
  TOKEN_CLASSIFIER,
  /** Start/end logits (2), from {@code qa_outputs}. */
  QUESTION_ANSWERING,
  /** The final hidden state itself (hidden). */
  HIDDEN
}
