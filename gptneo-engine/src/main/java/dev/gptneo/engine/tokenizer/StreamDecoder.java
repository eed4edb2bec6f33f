package dev.gptneo.engine.tokenizer;

import java.util.Arrays;

/**
 * Decodes ids one at a time while they are generated. Bytes that may still become a character
 * (the first bytes of an emoji split across tokens) are held back until the next token decides;
 * everything else comes out at once. The pieces returned by {@link #push} followed by
 * {@link #finish} always concatenate to {@link Gpt2Tokenizer#decode} of the same ids.
 *
 * <p>One per stream; not thread-safe.
 */
public final class StreamDecoder {
  private final Gpt2Tokenizer tokenizer;
  private byte[] pending = new byte[16];
  private int pendingLength;
  private char[] chars = new char[16];

  StreamDecoder(Gpt2Tokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /** Adds one token; returns the text it completes (often the token's text, maybe ""). */
  public String push(int id) {
    byte[] bytes = tokenizer.bytesOf(id);
    if (pendingLength + bytes.length > pending.length) {
      pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
    }
    System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
    pendingLength += bytes.length;
    return drain(false);
  }

  /** Ends the stream: bytes still held back become U+FFFD, as decode would give them. Resets. */
  public String finish() {
    return drain(true);
  }

  /** Bytes held back waiting for the rest of a character (0 to 3). */
  public int pendingBytes() {
    return pendingLength;
  }

  private String drain(boolean endOfStream) {
    if (pendingLength == 0) {
      return "";
    }
    if (chars.length < pendingLength) {
      chars = new char[Math.max(chars.length * 2, pendingLength)];
    }
    long result = Utf8.decode(pending, 0, pendingLength, chars, 0, endOfStream);
    int consumed = (int) (result >>> 32);
    int charCount = (int) result;
    System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
    pendingLength -= consumed;
    assert pendingLength <= 3 && (!endOfStream || pendingLength == 0);
    return new String(chars, 0, charCount);
  }
}
