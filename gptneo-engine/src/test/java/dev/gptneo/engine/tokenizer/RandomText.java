package dev.gptneo.engine.tokenizer;

import java.util.Random;

/**
 * Random strings built from the fragments GPT-2's pre-tokenizer is touchy about: runs of
 * different whitespace, contractions in both cases, digits of several scripts, emoji and other
 * surrogate pairs, combining marks, CJK, zero-width chars, punctuation and special-token bits.
 */
final class RandomText {
  private static final String[] FRAGMENTS = {
    " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\u000B", "\f", "\u00A0", "\u3000", "\u2003",
    "\u2028", "\u0085", "\u1680", "\u200B", "\u200D", "\uFEFF",
    "'", "''", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'Re", "'x", "’s",
    "a", "the", "The", "word", "hello", "ABC", "mIxEd", "x", "é", "e\u0301", "naïve", "Ωmega", "ß",
    "0", "7", "42", "2024", "3.14", "1,000", "٣", "७", "Ⅻ", "½", "²", "\uD835\uDFCE", "\uD800\uDD07",
    "!", "?", ".", "...", ",", "-", "--", "_", "(", ")", "\"", "#", "$", "%", "&", "@", "/", "\\", ":", ";",
    "<", ">", "|", "<|", "|>", "<|endoftext|>", "<|endoftext", "endoftext|>", "~", "`", "^", "=", "+", "*",
    "😀", "👍🏽", "🤖", "🇫🇷", "👨‍👩‍👧", "\uD835\uDC00", "\uD801\uDC00", "\uD83E\uDD16\uD83E\uDD16",
    "漢字", "かな", "한국어", "中", "Привет", "مرحبا", "שלום", "ไทย", "देवनागरी", "\u0300", "\u0928\u093F",
    "\uD838\uDDD0", "\u0870", "\uD81B\uDD40",
  };

  private RandomText() {}

  /** Up to maxFragments fragments, sometimes a single random BMP or supplementary code point. */
  static String next(Random random, int maxFragments, boolean allowLoneSurrogates) {
    StringBuilder sb = new StringBuilder();
    int n = random.nextInt(maxFragments + 1);
    for (int i = 0; i < n; i++) {
      int kind = random.nextInt(20);
      if (kind == 0) {
        sb.appendCodePoint(randomCodePoint(random, allowLoneSurrogates));
      } else {
        sb.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
      }
    }
    return sb.toString();
  }

  private static int randomCodePoint(Random random, boolean allowLoneSurrogates) {
    while (true) {
      int cp = random.nextBoolean() ? random.nextInt(0x3000) : random.nextInt(0x110000);
      boolean surrogate = cp >= 0xD800 && cp <= 0xDFFF;
      if (!surrogate || allowLoneSurrogates) {
        return cp;
      }
    }
  }
}
