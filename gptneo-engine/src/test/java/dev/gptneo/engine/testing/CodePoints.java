package dev.gptneo.engine.testing;

/** Character offsets as Python's str and Spark SQL count them (code points), for answer spans. */
public final class CodePoints {
  private CodePoints() {}

  /** text[start:end] in code points. */
  public static String span(String text, int start, int end) {
    return text.substring(text.offsetByCodePoints(0, start), text.offsetByCodePoints(0, end));
  }
}
