package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Decoding: characters split across tokens, HF's U+FFFD rules, streaming. */
class DecodeTest {
  private static final String ROBOT = "\uD83E\uDD16"; // U+1F916, F0 9F A4 96: three tokens in GPT-2
  private static Gpt2Tokenizer tokenizer;

  @BeforeAll
  static void load() {
    tokenizer = Gpt2Tokenizer.load(SharedFiles.demoModel()).orElseThrow();
  }

  @Test
  void characterSplitAcrossTokensDecodesWhole() {
    int[] ids = tokenizer.encode(ROBOT);
    assertArrayEquals(new int[] {8582, 97, 244}, ids);
    assertEquals(ROBOT, tokenizer.decode(ids));
    assertEquals("a" + ROBOT + "b", tokenizer.decode(tokenizer.encode("a" + ROBOT + "b")));
  }

  @Test
  void partialCharacterBecomesOneReplacementPerIllFormedPart() {
    int[] ids = tokenizer.encode(ROBOT);
    assertEquals("\uFFFD", tokenizer.decode(ids, 0, 1)); // F0 9F: one maximal subpart
    assertEquals("\uFFFD", tokenizer.decode(ids, 0, 2)); // F0 9F A4: still one
    assertEquals("\uFFFD\uFFFD", tokenizer.decode(ids, 1, 3)); // two stray continuation bytes
    assertEquals("", tokenizer.decode(ids, 1, 1));
    assertThrows(IndexOutOfBoundsException.class, () -> tokenizer.decode(ids, 2, 4));
  }

  @Test
  void tokenBytesJoinToTheUtf8OfTheText() {
    String text = "caf\u00E9 " + ROBOT + " \u6F22\u5B57";
    byte[] expected = text.getBytes(StandardCharsets.UTF_8);
    int at = 0;
    for (int id : tokenizer.encode(text)) {
      byte[] b = tokenizer.tokenBytes(id);
      for (byte x : b) {
        assertEquals(expected[at++], x);
      }
      b[0] ^= 1; // a copy: the tokenizer is unaffected
    }
    assertEquals(expected.length, at);
    assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
  }

  /** HF: tok.decode(tok.encode("Hello<|endoftext|> world"), skip_special_tokens=True) == "Hello world". */
  @Test
  void skipSpecialTokensLeavesEndOfTextOut() {
    int[] ids = tokenizer.encode("Hello<|endoftext|> world");
    assertArrayEquals(new int[] {15496, 50256, 995}, ids);
    assertEquals("Hello<|endoftext|> world", tokenizer.decode(ids));
    assertEquals("Hello world", tokenizer.decode(ids, 0, ids.length, true));
    assertEquals("Hello<|endoftext|> world", tokenizer.decode(ids, 0, ids.length, false));
    assertTrue(tokenizer.isSpecial(50256));
    assertTrue(!tokenizer.isSpecial(15496) && !tokenizer.isSpecial(-1) && !tokenizer.isSpecial(50257));
    Gpt2Tokenizer fromVocab = Gpt2Tokenizer.fromVocabAndMerges(SharedFiles.demoModel().resolve("vocab.json"),
        SharedFiles.demoModel().resolve("merges.txt"));
    assertEquals("Hello world", fromVocab.decode(ids, 0, ids.length, true)); // <|endoftext|> is special there too
  }

  @Test
  void unknownIdsAreSkippedLikeHf() {
    assertEquals("Hello", tokenizer.decode(new int[] {-1, 15496, 1_000_000}));
    assertEquals(0, tokenizer.tokenBytes(50257).length);
  }

  @Test
  void streamDecoderHoldsBackOnlyIncompleteCharacters() {
    StreamDecoder stream = tokenizer.streamDecoder();
    int[] ids = tokenizer.encode("Hi " + ROBOT + "!");
    StringBuilder out = new StringBuilder();
    for (int id : ids) {
      String piece = stream.push(id);
      assertTrue(piece.indexOf('\uFFFD') < 0, "no replacement char while a character is incomplete");
      out.append(piece);
    }
    assertEquals(0, stream.pendingBytes());
    assertEquals("", stream.finish());
    assertEquals("Hi " + ROBOT + "!", out.toString());

    assertEquals("", stream.push(8582)); // F0 9F: held back
    assertEquals(2, stream.pendingBytes());
    assertEquals("\uFFFDA", stream.push(tokenizer.tokenId("A").getAsInt())); // 'A' decides: ill-formed
    assertEquals("", stream.push(8582));
    assertEquals("\uFFFD", stream.finish());
    assertEquals(0, stream.pendingBytes());
  }

  @Test
  void streamDecoderConcatenatesToDecodeForRandomIds() {
    Random random = new Random(7);
    for (int trial = 0; trial < 20_000; trial++) {
      int[] ids = new int[random.nextInt(10)];
      for (int i = 0; i < ids.length; i++) {
        // Mostly single-byte tokens (ids 0..255 are the 256 bytes), so that UTF-8 breaks a lot.
        ids[i] = random.nextInt(3) == 0 ? random.nextInt(tokenizer.vocabSize()) : random.nextInt(256);
      }
      StreamDecoder stream = tokenizer.streamDecoder();
      StringBuilder out = new StringBuilder();
      for (int id : ids) {
        out.append(stream.push(id));
        assertTrue(stream.pendingBytes() <= 3);
      }
      out.append(stream.finish());
      assertEquals(tokenizer.decode(ids), out.toString());
    }
  }

  @Test
  void utf8DecoderFollowsMaximalSubpartRule() {
    // Unicode's example table (3.9, U+FFFD substitution of maximal subparts), as Rust and Python do.
    byte[] bytes = {0x61, (byte) 0xF1, (byte) 0x80, (byte) 0x80, (byte) 0xE1, (byte) 0x80, (byte) 0xC2, 0x62,
        (byte) 0x80, 0x63, (byte) 0x80, (byte) 0xBF, 0x64};
    assertEquals("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd", Utf8.decode(bytes, 0, bytes.length));
    // Surrogate encodings and overlongs: one U+FFFD per byte (the JDK's decoder differs here).
    byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};
    assertEquals("\uFFFD\uFFFD\uFFFD", Utf8.decode(surrogate, 0, 3));
    byte[] overlong = {(byte) 0xE0, (byte) 0x80, (byte) 0x80};
    assertEquals("\uFFFD\uFFFD\uFFFD", Utf8.decode(overlong, 0, 3));
    byte[] max = "\uDBFF\uDFFF\uD7FF\uE000".getBytes(StandardCharsets.UTF_8);
    assertEquals("\uDBFF\uDFFF\uD7FF\uE000", Utf8.decode(max, 0, max.length));
  }

  @Test
  void utf8EncoderMatchesTheJdkAndReplacesLoneSurrogates() {
    Random random = new Random(3);
    byte[] out = new byte[64 * 3];
    for (int trial = 0; trial < 10_000; trial++) {
      String text = RandomText.next(random, 8, false);
      if (text.length() > 64) {
        continue;
      }
      int n = Utf8.encode(text, 0, text.length(), out);
      assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), java.util.Arrays.copyOf(out, n));
    }
    int n = Utf8.encode("a\uD800b", 0, 3, out);
    assertEquals("a\uFFFDb", Utf8.decode(out, 0, n));
  }
}
