package dev.gptneo.engine.tokenizer;

/**
 * GPT-2's pre-tokenizer as a hand-written scanner. It cuts text exactly where the regex
 *
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 *
 * cuts it (leftmost alternative first, each quantifier greedy), with the classes of
 * {@link CharClass}. A scanner, because the regex engine costs more than the whole BPE step on
 * cached words. The alternatives cover every character, so the pieces tile the text.
 */
final class Gpt2PreTokenizer {
  private Gpt2PreTokenizer() {}

  /**
   * End (exclusive) of the piece that starts at {@code start} in {@code text[start, end)}, where
   * {@code end} acts as the end of the string (the {@code (?!\S)} lookahead sees nothing past it).
   */
  static int pieceEnd(CharSequence text, int start, int end) {
    assert start < end;
    char c = text.charAt(start);
    if (c == '\'') {
      int contraction = contractionLength(text, start, end);
      if (contraction > 0) {
        return start + contraction;
      }
    }
    if (c == ' ' && start + 1 < end) {
      // " ?" belongs to the next letter/number/other run; a space before whitespace does not.
      byte next = classAt(text, start + 1, end);
      if (next != CharClass.WHITESPACE) {
        return runEnd(text, start + 1, end, next);
      }
    }
    byte cls = classAt(text, start, end);
    if (cls != CharClass.WHITESPACE) {
      return runEnd(text, start, end, cls);
    }
    int wsEnd = runEnd(text, start, end, CharClass.WHITESPACE);
    if (wsEnd == end) {
      return end; // \s+(?!\S) at the end of the string takes the whole run
    }
    // \s+(?!\S) backs off one char so the last space can lead the next word; a single space
    // falls to the plain \s+ alternative. White_Space is all BMP, so one char = one code point.
    return wsEnd - 1 > start ? wsEnd - 1 : wsEnd;
  }

  /** Length of the contraction ('s 't 're 've 'm 'll 'd, case-sensitive) at start, or 0. */
  private static int contractionLength(CharSequence text, int start, int end) {
    if (start + 1 >= end) {
      return 0;
    }
    char a = text.charAt(start + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
      return 2;
    }
    if (start + 2 >= end) {
      return 0;
    }
    char b = text.charAt(start + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
      return 3;
    }
    return 0;
  }

  /** End of the run of code points of class cls that starts at i (the first one included). */
  private static int runEnd(CharSequence text, int i, int end, byte cls) {
    while (i < end) {
      char c = text.charAt(i);
      if (!Character.isSurrogate(c)) {
        if (CharClass.ofBmp(c) != cls) {
          return i;
        }
        i++;
      } else {
        int width = pairWidth(text, i, end);
        int cp = width == 2 ? Character.toCodePoint(c, text.charAt(i + 1)) : c;
        if (CharClass.of(cp) != cls) {
          return i;
        }
        i += width;
      }
    }
    return end;
  }

  private static byte classAt(CharSequence text, int i, int end) {
    char c = text.charAt(i);
    if (!Character.isSurrogate(c)) {
      return CharClass.ofBmp(c);
    }
    return pairWidth(text, i, end) == 2 ? CharClass.of(Character.toCodePoint(c, text.charAt(i + 1)))
        : CharClass.OTHER;
  }

  /** 2 for a well-formed surrogate pair at i, else 1 (a lone surrogate is its own code point). */
  private static int pairWidth(CharSequence text, int i, int end) {
    return Character.isHighSurrogate(text.charAt(i)) && i + 1 < end
        && Character.isLowSurrogate(text.charAt(i + 1)) ? 2 : 1;
  }
}
