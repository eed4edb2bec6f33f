package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written scanner against GPT-2's regex run by java.util.regex. */
class PreTokenizerTest {
  /**
   * GPT-2's pattern. UNICODE_CHARACTER_CLASS makes \s the Unicode White_Space property, as in
   * Oniguruma (HF) and Python's regex module (GPT-2's original encoder).
   */
  private static final Pattern GPT2_REGEX = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      Pattern.UNICODE_CHARACTER_CLASS);

  static List<String> regexPieces(String text) {
    List<String> pieces = new ArrayList<>();
    Matcher m = GPT2_REGEX.matcher(text);
    int expectedStart = 0;
    while (m.find()) {
      assertEquals(expectedStart, m.start(), "the regex skipped text in " + text);
      pieces.add(m.group());
      expectedStart = m.end();
    }
    assertEquals(text.length(), expectedStart);
    return pieces;
  }

  static List<String> scannerPieces(String text) {
    List<String> pieces = new ArrayList<>();
    for (int start = 0; start < text.length(); ) {
      int end = Gpt2PreTokenizer.pieceEnd(text, start, text.length());
      pieces.add(text.substring(start, end));
      start = end;
    }
    return pieces;
  }

  /**
   * Java's regex knows this JVM's Unicode, the scanner knows Unicode 16 (HF's); code points the
   * JVM has unassigned are swapped for 'x' before comparing the two.
   */
  private static String comparable(String text) {
    StringBuilder sb = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      boolean lone = Character.isSurrogate(text.charAt(i)) && Character.charCount(cp) == 1;
      sb.appendCodePoint(!lone && Character.getType(cp) == Character.UNASSIGNED ? 'x' : cp);
      i += Character.charCount(cp);
    }
    return sb.toString();
  }

  @Test
  void matchesRegexOnEdgeCases() {
    String[] cases = {
      "", " ", "  ", "   x", "x   ", "\t", "\n\n\nx", "a\r\nb", " \u00A0x", "\u3000 ideographic", "x \t y",
      "'s", "'S", "'LL", "'ll", "x's", "x'S", "'''s", " 's", "''", "'", "'x", "don't", "I'M", "we'RE",
      "123abc", " 1 2", "3.14", "\u216B\u00BD\u00B2", "a\u0301", "\u0301a", "\uD83D\uDE00\uD83D\uDE00 text",
      "\uD835\uDC00\uD835\uDC01", "\uD835\uDFCE1", "x\uD800y", "\uDC00", "\uD83D", "!!! ???", " !x", " \n",
      "end with newline\n", "end with space ", "\u200Bzero", "\u0085\u2028\u2029", "\u000B\u000C",
    };
    for (String text : cases) {
      assertEquals(regexPieces(text), scannerPieces(text), () -> "pieces of " + escape(text));
    }
  }

  @Test
  void matchesRegexOnRandomText() {
    Random random = new Random(20241127);
    for (int i = 0; i < 30_000; i++) {
      String text = comparable(RandomText.next(random, 1 + i % 30, true));
      assertEquals(regexPieces(text), scannerPieces(text), () -> "pieces of " + escape(text));
    }
  }

  @Test
  void stopsAtTheGivenEndAsIfTheStringEndedThere() {
    // The (?!\S) lookahead must not see past a segment end (text before an added token).
    String text = "a  <|endoftext|>";
    assertEquals(3, Gpt2PreTokenizer.pieceEnd(text, 1, 3)); // "  " then the end: one piece
    assertEquals(2, Gpt2PreTokenizer.pieceEnd(text, 1, text.length())); // " " then " <|"
    assertEquals(List.of("a", "  "), regexPieces("a  "));
  }

  @Test
  void classesMatchJavaRegexForEveryCodePointThisJvmKnows() {
    Matcher letter = Pattern.compile("\\p{L}").matcher("");
    Matcher number = Pattern.compile("\\p{N}").matcher("");
    Matcher space = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS).matcher("");
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (Character.getType(cp) == Character.UNASSIGNED) {
        continue; // Unicode 16 additions: see unicode16AdditionsAreLettersAndNumbers
      }
      String s = new String(Character.toChars(cp));
      byte expected = space.reset(s).matches() ? CharClass.WHITESPACE
          : letter.reset(s).matches() ? CharClass.LETTER
          : number.reset(s).matches() ? CharClass.NUMBER : CharClass.OTHER;
      if (CharClass.of(cp) != expected) {
        assertEquals(expected, CharClass.of(cp), "class of U+" + Integer.toHexString(cp));
      }
    }
  }

  @Test
  void unicode16AdditionsAreLettersAndNumbers() {
    assertEquals(CharClass.LETTER, CharClass.of(0x1E5D0)); // Ol Onal, Unicode 16
    assertEquals(CharClass.NUMBER, CharClass.of(0x1E5F1)); // Ol Onal digit one
    assertEquals(CharClass.LETTER, CharClass.of(0x0870)); // Arabic, Unicode 14
    assertEquals(CharClass.LETTER, CharClass.of(0x31350)); // CJK extension H
    assertEquals(CharClass.OTHER, CharClass.of(0x10FFFF));
    String text = " \uD838\uDDD0\uD838\uDDD1 \uD838\uDDF1";
    assertEquals(List.of(" \uD838\uDDD0\uD838\uDDD1", " \uD838\uDDF1"), scannerPieces(text));
  }

  static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    s.chars().forEach(c -> sb.append(c >= 32 && c < 127 ? String.valueOf((char) c) : String.format("\\u%04X", c)));
    return sb.toString();
  }
}
