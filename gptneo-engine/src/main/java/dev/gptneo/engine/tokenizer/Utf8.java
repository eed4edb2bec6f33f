package dev.gptneo.engine.tokenizer;

/**
 * UTF-8 both ways, written out because decoding must replace bad bytes exactly as HF does: Rust's
 * {@code String::from_utf8_lossy} (and Python's {@code errors="replace"}) emit one U+FFFD per
 * "maximal subpart" of an ill-formed sequence (Unicode 15, section 3.9, U+FFFD substitution).
 * E.g. E2 82 followed by 'A' is one U+FFFD then 'A'; a stray continuation byte is one U+FFFD.
 */
final class Utf8 {
  static final char REPLACEMENT = '\uFFFD';

  private Utf8() {}

  /**
   * Decodes bytes[from, to) into out starting at outPos; returns the new outPos in the low 32
   * bits and the index of the first byte not consumed in the high 32 bits. It stops early only
   * when {@code final_} is false and the input ends inside a sequence that could still complete
   * (those bytes are left for the next call). out needs room for (to - from) chars.
   */
  static long decode(byte[] bytes, int from, int to, char[] out, int outPos, boolean final_) {
    int i = from;
    int o = outPos;
    while (i < to) {
      int b0 = bytes[i] & 0xFF;
      if (b0 < 0x80) {
        out[o++] = (char) b0;
        i++;
        continue;
      }
      int need; // continuation bytes after b0
      int lo = 0x80; // allowed range of the first continuation byte (excludes overlongs, surrogates, > U+10FFFF)
      int hi = 0xBF;
      if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
      } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        if (b0 == 0xE0) {
          lo = 0xA0;
        } else if (b0 == 0xED) {
          hi = 0x9F;
        }
      } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        if (b0 == 0xF0) {
          lo = 0x90;
        } else if (b0 == 0xF4) {
          hi = 0x8F;
        }
      } else {
        out[o++] = REPLACEMENT; // C0, C1, F5..FF or a stray continuation byte
        i++;
        continue;
      }
      int cp = b0 & (0x3F >> need);
      int j = i + 1;
      boolean broken = false;
      for (int k = 0; k < need; k++, j++) {
        if (j >= to) {
          if (!final_) {
            return ((long) i << 32) | o; // may still complete: keep bytes[i, to) for later
          }
          broken = true;
          break;
        }
        int b = bytes[j] & 0xFF;
        if (b < (k == 0 ? lo : 0x80) || b > (k == 0 ? hi : 0xBF)) {
          broken = true;
          break;
        }
        cp = (cp << 6) | (b & 0x3F);
      }
      if (broken) {
        out[o++] = REPLACEMENT; // one U+FFFD for the valid prefix bytes[i, j); resume at j
        i = j;
        continue;
      }
      if (cp >= 0x10000) {
        out[o++] = Character.highSurrogate(cp);
        out[o++] = Character.lowSurrogate(cp);
      } else {
        out[o++] = (char) cp;
      }
      i = j;
    }
    return ((long) i << 32) | o;
  }

  /** Decodes complete input the way HF's decode does (lossy). */
  static String decode(byte[] bytes, int from, int to) {
    char[] out = new char[to - from];
    int n = (int) decode(bytes, from, to, out, 0, true);
    return new String(out, 0, n);
  }

  /**
   * Encodes text[from, to) into out (which needs 3 bytes per char of room) and returns the byte
   * count. An unpaired surrogate, which no UTF-8 string can hold, becomes U+FFFD.
   */
  static int encode(CharSequence text, int from, int to, byte[] out) {
    int o = 0;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        out[o++] = (byte) c;
      } else if (c < 0x800) {
        out[o++] = (byte) (0xC0 | (c >> 6));
        out[o++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, text.charAt(++i));
        out[o++] = (byte) (0xF0 | (cp >> 18));
        out[o++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        out[o++] = (byte) (0x80 | (cp & 0x3F));
      } else {
        int cp = Character.isSurrogate(c) ? REPLACEMENT : c;
        out[o++] = (byte) (0xE0 | (cp >> 12));
        out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        out[o++] = (byte) (0x80 | (cp & 0x3F));
      }
    }
    return o;
  }
}
