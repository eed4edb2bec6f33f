package dev.gptneo.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-to-unicode table: vocab strings spell raw bytes as printable chars. Bytes that
 * are printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes
 * map, in increasing order, to U+0100, U+0101, ... (so a space is 'Ġ' U+0120, '\n' is 'Ċ').
 */
final class ByteLevelAlphabet {
  private static final char[] BYTE_TO_CHAR = new char[256];
  /** Indexed by char; -1 where the char stands for no byte. Largest mapped char is U+0143. */
  private static final short[] CHAR_TO_BYTE = new short[0x144];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char c = printable ? (char) b : (char) next++;
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = (short) b;
    }
    assert next == CHAR_TO_BYTE.length;
  }

  private ByteLevelAlphabet() {}

  static char charOf(int unsignedByte) {
    return BYTE_TO_CHAR[unsignedByte];
  }

  /** The byte a vocab char stands for, or -1. */
  static int byteOf(char c) {
    return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /** A vocab string for raw bytes, e.g. " the" -> "Ġthe". */
  static String encode(byte[] bytes) {
    char[] chars = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
    }
    return new String(chars);
  }

  /**
   * The bytes a vocab string stands for. Like HF's ByteLevel decoder, a token with any char
   * outside the table is taken as its own UTF-8 text instead.
   */
  static byte[] decode(String token) {
    byte[] bytes = new byte[token.length()];
    for (int i = 0; i < token.length(); i++) {
      int b = byteOf(token.charAt(i));
      if (b < 0) {
        return token.getBytes(StandardCharsets.UTF_8);
      }
      bytes[i] = (byte) b;
    }
    return bytes;
  }
}
