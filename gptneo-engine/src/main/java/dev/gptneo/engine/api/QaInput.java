package dev.gptneo.engine.api;

/** A question and its context, or pre-tokenized ids (the whole sequence is then the context). */
public final class QaInput {
  public final String question;
  public final String context;
  public final int[] inputIds;

  private QaInput(String question, String context, int[] inputIds) {
    this.question = question;
    this.context = context;
    this.inputIds = inputIds;
  }

  public static QaInput of(String question, String context) {
    return new QaInput(question, context, null);
  }

  public static QaInput ids(int[] inputIds) {
    return new QaInput(null, null, inputIds == null ? null : inputIds.clone());
  }
}
