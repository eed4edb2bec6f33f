package dev.gptneo.engine.api;

/** One request's input: a text (tokenized by the model's tokenizer) or token ids. */
public final class Input {
  private final String text;
  private final int[] ids;

  private Input(String text, int[] ids) {
    this.text = text;
    this.ids = ids;
  }

  public static Input text(String text) {
    return new Input(text, null);
  }

  public static Input ids(int[] ids) {
    return new Input(null, ids == null ? null : ids.clone());
  }

  /** The text, or null when the input is token ids. */
  public String text() {
    return text;
  }

  /** The token ids, or null when the input is a text. */
  public int[] ids() {
    return ids;
  }

  public boolean isText() {
    return ids == null;
  }

  public boolean isNull() {
    return text == null && ids == null;
  }
}
