package dev.gptneo.engine.tokenizer;

/**
 * The character classes GPT-2's pre-tokenizer regex distinguishes: {@code \s}, {@code \p{L}},
 * {@code \p{N}} and everything else, per code point.
 *
 * <p>Hugging Face's tokenizers library runs the regex with Oniguruma, where {@code \s} is the
 * Unicode White_Space property (so U+00A0 and U+3000 are whitespace, U+200B is not) and the
 * letter/number classes follow Unicode 16. Java 17 knows Unicode 13, so code points assigned
 * since then are looked up in {@link #NEWER_LETTERS_AND_NUMBERS}; that keeps the ids identical to
 * HF's whatever JVM runs this.
 */
final class CharClass {
  static final byte OTHER = 0;
  static final byte WHITESPACE = 1;
  static final byte LETTER = 2;
  static final byte NUMBER = 3;

  private static final int L = LETTER;
  private static final int N = NUMBER;

  /**
   * Triples (first, last, class) of code points that are letters or numbers in Unicode 16 (what
   * HF's Oniguruma uses) but unassigned in Java 17's Unicode 13. Derived by asking HF's
   * ByteLevel pre-tokenizer about every code point; sorted, non-overlapping.
   */
  private static final int[] NEWER_LETTERS_AND_NUMBERS = {
      0x870, 0x887, L, 0x889, 0x88E, L, 0x8B5, 0x8B5, L, 0x8C8, 0x8C9, L,
      0xC5D, 0xC5D, L, 0xCDD, 0xCDD, L, 0x170D, 0x170D, L, 0x171F, 0x171F, L,
      0x1B4C, 0x1B4C, L, 0x1C89, 0x1C8A, L, 0x2C2F, 0x2C2F, L, 0x2C5F, 0x2C5F, L,
      0x9FFD, 0x9FFF, L, 0xA7C0, 0xA7C1, L, 0xA7CB, 0xA7CD, L, 0xA7D0, 0xA7D1, L,
      0xA7D3, 0xA7D3, L, 0xA7D5, 0xA7DC, L, 0xA7F2, 0xA7F4, L, 0x10570, 0x1057A, L,
      0x1057C, 0x1058A, L, 0x1058C, 0x10592, L, 0x10594, 0x10595, L, 0x10597, 0x105A1, L,
      0x105A3, 0x105B1, L, 0x105B3, 0x105B9, L, 0x105BB, 0x105BC, L, 0x105C0, 0x105F3, L,
      0x10780, 0x10785, L, 0x10787, 0x107B0, L, 0x107B2, 0x107BA, L, 0x10D40, 0x10D49, N,
      0x10D4A, 0x10D65, L, 0x10D6F, 0x10D85, L, 0x10EC2, 0x10EC4, L, 0x10F70, 0x10F81, L,
      0x11071, 0x11072, L, 0x11075, 0x11075, L, 0x1123F, 0x11240, L, 0x11380, 0x11389, L,
      0x1138B, 0x1138B, L, 0x1138E, 0x1138E, L, 0x11390, 0x113B5, L, 0x113B7, 0x113B7, L,
      0x113D1, 0x113D1, L, 0x113D3, 0x113D3, L, 0x116D0, 0x116E3, N, 0x11740, 0x11746, L,
      0x11AB0, 0x11ABF, L, 0x11BC0, 0x11BE0, L, 0x11BF0, 0x11BF9, N, 0x11F02, 0x11F02, L,
      0x11F04, 0x11F10, L, 0x11F12, 0x11F33, L, 0x11F50, 0x11F59, N, 0x12F90, 0x12FF0, L,
      0x1342F, 0x1342F, L, 0x13441, 0x13446, L, 0x13460, 0x143FA, L, 0x16100, 0x1611D, L,
      0x16130, 0x16139, N, 0x16A70, 0x16ABE, L, 0x16AC0, 0x16AC9, N, 0x16D40, 0x16D6C, L,
      0x16D70, 0x16D79, N, 0x18CFF, 0x18CFF, L, 0x1AFF0, 0x1AFF3, L, 0x1AFF5, 0x1AFFB, L,
      0x1AFFD, 0x1AFFE, L, 0x1B11F, 0x1B122, L, 0x1B132, 0x1B132, L, 0x1B155, 0x1B155, L,
      0x1CCF0, 0x1CCF9, N, 0x1D2C0, 0x1D2D3, N, 0x1DF00, 0x1DF1E, L, 0x1DF25, 0x1DF2A, L,
      0x1E030, 0x1E06D, L, 0x1E290, 0x1E2AD, L, 0x1E4D0, 0x1E4EB, L, 0x1E4F0, 0x1E4F9, N,
      0x1E5D0, 0x1E5ED, L, 0x1E5F0, 0x1E5F0, L, 0x1E5F1, 0x1E5FA, N, 0x1E7E0, 0x1E7E6, L,
      0x1E7E8, 0x1E7EB, L, 0x1E7ED, 0x1E7EE, L, 0x1E7F0, 0x1E7FE, L, 0x2A6DE, 0x2A6DF, L,
      0x2B735, 0x2B739, L, 0x2EBF0, 0x2EE5D, L, 0x31350, 0x323AF, L,
  };

  /** Class of every BMP char, so the scanner's hot loop is one array load. */
  private static final byte[] BMP = buildBmpTable();

  private CharClass() {}

  /** Class of a char that is not a surrogate (callers handle surrogate pairs themselves). */
  static byte ofBmp(char c) {
    return BMP[c];
  }

  /** Class of any code point; unpaired surrogates are OTHER, as in java.util.regex. */
  static byte of(int codePoint) {
    return codePoint < BMP.length ? BMP[codePoint] : compute(codePoint);
  }

  /** Unicode White_Space: what {@code \s} means in Oniguruma (and Java with UNICODE_CHARACTER_CLASS). */
  static boolean isWhiteSpace(int cp) {
    if (cp <= 0x20) {
      return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    }
    if (cp < 0x85) {
      return false;
    }
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
  }

  private static byte[] buildBmpTable() {
    byte[] table = new byte[0x10000];
    for (int c = 0; c < table.length; c++) {
      table[c] = compute(c);
    }
    return table;
  }

  private static byte compute(int cp) {
    if (isWhiteSpace(cp)) {
      return WHITESPACE;
    }
    switch (Character.getType(cp)) {
      case Character.UPPERCASE_LETTER:
      case Character.LOWERCASE_LETTER:
      case Character.TITLECASE_LETTER:
      case Character.MODIFIER_LETTER:
      case Character.OTHER_LETTER:
        return LETTER;
      case Character.DECIMAL_DIGIT_NUMBER:
      case Character.LETTER_NUMBER:
      case Character.OTHER_NUMBER:
        return NUMBER;
      case Character.UNASSIGNED:
        return newerClass(cp);
      default:
        return OTHER;
    }
  }

  /** Binary search in NEWER_LETTERS_AND_NUMBERS; OTHER when cp is in none of its ranges. */
  private static byte newerClass(int cp) {
    int lo = 0;
    int hi = NEWER_LETTERS_AND_NUMBERS.length / 3 - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int first = NEWER_LETTERS_AND_NUMBERS[3 * mid];
      int last = NEWER_LETTERS_AND_NUMBERS[3 * mid + 1];
      if (cp < first) {
        hi = mid - 1;
      } else if (cp > last) {
        lo = mid + 1;
      } else {
        return (byte) NEWER_LETTERS_AND_NUMBERS[3 * mid + 2];
      }
    }
    return OTHER;
  }
}
