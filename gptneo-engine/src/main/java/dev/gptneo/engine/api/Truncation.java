package dev.gptneo.engine.api;

import java.util.Locale;

/** What to do with an input longer than the limit (HF's truncation_side for left/right). */
public enum Truncation {
  /** Fail the row with a message that names its length and the limit (the default). */
  ERROR,
  /** Drop tokens from the start, keeping the last N. */
  LEFT,
  /** Drop tokens from the end, keeping the first N. */
  RIGHT;

  public static Truncation parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("truncation must be one of error, left, right; got '" + s + "'");
    }
  }

  public String json() {
    return name().toLowerCase(Locale.ROOT);
  }
}
