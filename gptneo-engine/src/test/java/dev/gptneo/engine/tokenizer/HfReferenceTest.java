package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expected values computed with Hugging Face tokenizers 0.23.2 (the Rust library behind
 * transformers) on the demo model's tokenizer.json: edge cases the shared golden file does not
 * cover (Unicode 16 letters, exotic whitespace, ill-formed UTF-8 in decode, uncached long
 * pieces), and added tokens with every flag HF has.
 */
class HfReferenceTest {
  private static final Object[][] ENCODE_CASES = {
    {"don\u2019t 'S 'LL x'S '''s ''s' I'M i'm we'RE",
        new int[] {9099, 447, 247, 83, 705, 50, 705, 3069, 2124, 6, 50, 705, 7061, 82, 10148, 82, 6, 314,
            6, 44, 1312, 1101, 356, 6, 2200}},
    {"\u000B\f\u0085\u2028\u2029\u1680 x\u2002y\u202F\u205F",
        new int[] {199, 200, 126, 227, 447, 101, 447, 102, 157, 248, 222, 2124, 447, 224, 88, 447, 107,
            46256, 253}},
    {" \n \n  x\t\t y \r\n\r\n z   ",
        new int[] {220, 198, 220, 198, 220, 2124, 197, 197, 331, 220, 201, 198, 201, 198, 1976, 220, 220,
            220}},
    {"12345678901234567890 \u216B\u2162 x\u00B2 \u00BD \u0663\u0664\u0665 \u0967\u0968",
        new int[] {10163, 2231, 3134, 4531, 486, 1954, 2231, 30924, 3829, 2343, 227, 104, 158, 227, 95,
            2124, 31185, 25208, 18923, 96, 149, 97, 149, 98, 220, 24231, 100, 24231, 101}},
    {"\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 \uD83C\uDDEB\uD83C\uDDF7\uD83C\uDDE9\uD83C\uDDEA \uD83D\uDC4D\uD83C\uDFFD\uD83D\uDC4D\uD83C\uDFFF \u2764\uFE0F",
        new int[] {41840, 101, 447, 235, 41840, 102, 447, 235, 41840, 100, 12520, 229, 104, 8582, 229,
            115, 8582, 229, 102, 8582, 229, 103, 50169, 235, 8582, 237, 121, 41840, 235, 8582, 237,
            123, 43074, 97, 37929}},
    {"e\u0301 \u0301\u0301 a\u0308b \u0926\u0947\u0935\u0928\u093E\u0917\u0930\u0940 \u0E44\u0E17\u0E22\u0E20\u0E32\u0E29\u0E32 \u0645\u0631\u062D\u0628\u0627123",
        new int[] {68, 136, 223, 220, 136, 223, 136, 223, 257, 136, 230, 65, 28225, 99, 24231, 229, 11976,
            113, 11976, 101, 48077, 11976, 245, 11976, 108, 24231, 222, 220, 31479, 226, 19567,
            245, 19567, 95, 19567, 254, 19567, 110, 19567, 102, 19567, 110, 47048, 26897, 148, 255,
            39848, 12919, 10163}},
    {"\uD835\uDC00\uD835\uDC01 \uD835\uDFCE\uD835\uDFCF \uD801\uDC00x",
        new int[] {47728, 238, 222, 47728, 238, 223, 220, 47728, 253, 236, 47728, 253, 237, 220, 172, 238,
            238, 222, 87}},
    {"\uD838\uDDD0\uD838\uDDD1 \uD838\uDDF1\uD838\uDDF2 \u0870\u0871 \uD81B\uDD40",
        new int[] {172, 252, 229, 238, 172, 252, 229, 239, 220, 172, 252, 229, 109, 172, 252, 229, 110,
            220, 156, 94, 108, 156, 94, 109, 220, 172, 244, 113, 222}},
    {"<|endoftext|><|endoftext|> <|endoftext|> x<|endoftext|>\n<|endoftext",
        new int[] {50256, 50256, 220, 50256, 2124, 50256, 198, 27, 91, 437, 1659, 5239}},
    {"<|endoftext|  <| endoftext |> |<|endoftext|>|",
        new int[] {27, 91, 437, 1659, 5239, 91, 220, 1279, 91, 886, 1659, 5239, 930, 29, 930, 50256, 91}},
    {"supercalifragilisticexpialidocious " + "a".repeat(300),
        new int[] {16668, 9948, 361, 22562, 346, 396, 501, 42372, 498, 312, 32346, 257, 24794, 24794,
            24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794,
            24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794,
            24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794,
            24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794,
            24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794,
            24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794, 24794,
            46071}},
    {"aGVsbG8gd29ybGQhIFRoaXMgaXMgYmFzZTY0IGVuY29kZWQgdGV4dCBmb3IgdGVzdGluZw==",
        new int[] {64, 38, 23266, 65, 38, 23, 21287, 1959, 88, 65, 38, 48, 71, 5064, 49, 12162, 37643,
            4908, 37643, 70, 56, 76, 37, 89, 57, 9936, 15, 3528, 53, 84, 56, 1959, 74, 57, 54, 48,
            21287, 37094, 19, 67, 23199, 2022, 18, 40, 21287, 37094, 89, 67, 38, 2290, 57, 86, 855}},
    {"x\u00A0\u00A0\u00A0y\u3000\u3000 z",
        new int[] {87, 4603, 1849, 88, 5099, 222, 5099, 222, 1976}},
    {"Hello!!!??? ...--- ___ *** ~~~",
        new int[] {15496, 10185, 28358, 2644, 6329, 46444, 17202, 220, 4907, 93}},
    {"$1,000.50 = \u20AC900 (approx.) #tag @user",
        new int[] {3, 16, 11, 830, 13, 1120, 796, 10432, 12865, 357, 1324, 13907, 2014, 1303, 12985, 2488,
            7220}},
    {"\t",
        new int[] {197}},
    {"\n",
        new int[] {198}},
    {" ",
        new int[] {220}},
    {"'",
        new int[] {6}},
    {"a'",
        new int[] {64, 6}},
    {"'s",
        new int[] {338}},
    {"  'll",
        new int[] {220, 705, 297}},
    {"\uD83E\uDD16",
        new int[] {8582, 97, 244}},
    {"\u4E2D\u6587\u5B57\u7B26\u6D4B\u8BD5\uFF0C\u6807\u70B9\u3002",
        new int[] {40792, 23877, 229, 27764, 245, 163, 105, 99, 38184, 233, 46237, 243, 171, 120, 234,
            43718, 229, 163, 224, 117, 16764}},
    {"\u00DCn\u00EFc\u00F6d\u00E9 \u00C0\u00C9\u00CE\u00D5\u00DC \u00DF\u1E9E",
        new int[] {127, 250, 77, 26884, 66, 9101, 67, 2634, 6184, 222, 38351, 127, 236, 127, 243, 127,
            250, 6184, 253, 157, 118, 252}},
    {"tab\tafter\ttab \t\tmixed",
        new int[] {8658, 197, 8499, 197, 8658, 220, 197, 197, 76, 2966}},
    {"trailing newline\n",
        new int[] {9535, 4386, 649, 1370, 198}},
    {"trailing spaces and tab \t",
        new int[] {9535, 4386, 9029, 290, 7400, 220, 197}},
    {"MiXeD CaSe WoRdS AND ACRONYMS like NASA's",
        new int[] {41541, 55, 68, 35, 6488, 4653, 22173, 49, 67, 50, 5357, 7125, 49, 40508, 5653, 588,
            8884, 338}},
    {"x\u200By\u200Cz\u200Dw\uFEFFv",
        new int[] {87, 9525, 88, 447, 234, 89, 447, 235, 86, 171, 119, 123, 85}},
  };

  private static final Object[][] DECODE_CASES = {
    {new int[] {169, 254, 222}, "\uFFFD\uFFFD\uFFFD"},
    {new int[] {169, 254}, "\uFFFD\uFFFD"},
    {new int[] {156, 222, 222}, "\uFFFD\uFFFD\uFFFD"},
    {new int[] {176, 238, 222, 222}, "\uFFFD\uFFFD\uFFFD\uFFFD"},
    {new int[] {124, 222}, "\uFFFD\uFFFD"},
    {new int[] {125, 123}, "\uFFFD\uFFFD"},
    {new int[] {177, 222}, "\uFFFD\uFFFD"},
    {new int[] {187, 186}, "\uFFFD\uFFFD"},
    {new int[] {158, 224}, "\uFFFD"},
    {new int[] {158, 224, 32}, "\uFFFDA"},
    {new int[] {172, 253, 246}, "\uFFFD"},
    {new int[] {172, 253, 246, 222}, "\uD83D\uDE00"},
    {new int[] {222, 222}, "\uFFFD\uFFFD"},
    {new int[] {172, 238, 222}, "\uFFFD"},
    {new int[] {158, 224, 105, 158}, "\u20AC\uFFFD"},
    {new int[] {126}, "\uFFFD"},
    {new int[] {64, 126, 65}, "a\uFFFDb"},
    {new int[] {169, 253, 123}, "\uD7FF"},
    {new int[] {170, 222, 222}, "\uE000"},
    {new int[] {176, 237, 123, 123}, "\uDBFF\uDFFF"},
    {new int[] {172, 237, 123, 123}, "\uFFFD\uFFFD\uFFFD\uFFFD"},
    {new int[] {156, 253, 123}, "\uFFFD\uFFFD\uFFFD"},
    {new int[] {8582}, "\uFFFD"},
    {new int[] {8582, 97}, "\uFFFD"},
    {new int[] {97, 244}, "\uFFFD\uFFFD"},
    {new int[] {8582, 97, 244}, "\uD83E\uDD16"},
    {new int[] {50256}, "<|endoftext|>"},
    {new int[] {50256, 8582, 50256}, "<|endoftext|>\uFFFD<|endoftext|>"},
    {new int[] {15496, 995, 50256, 8582, 97, 244, 0}, "Hello world<|endoftext|>\uD83E\uDD16!"},
  };
  private static final Object[][] ADDED_ENCODE_CASES = {
    {"x<|pad|>y",
        new int[] {87, 50257, 88}},
    {"<|endoftext|>x <|end",
        new int[] {50262, 220, 50258}},
    {"wordz swordz wordzs wordz _wordz_ wordz1 1wordz \u00E9wordz wordz\u00E9",
        new int[] {50261, 8429, 89, 1573, 89, 82, 220, 50261, 4808, 4775, 89, 62, 1573, 89, 16, 352, 4775,
            89, 38251, 4775, 89, 1573, 89, 2634}},
    {"x \u00F1\u00E9 y",
        new int[] {87, 220, 50263, 331}},
    {"a   [LS]  b",
        new int[] {64, 50259, 220, 275}},
    {"a   [RS]  b",
        new int[] {64, 220, 220, 220, 50260, 65}},
    {"\u00A0[LS]\u3000[RS]\u2003",
        new int[] {50259, 5099, 222, 50260}},
    {"[LS][LS] [RS] [RS]x",
        new int[] {50259, 50259, 220, 50260, 50260, 87}},
    {" [RS] [LS]",
        new int[] {220, 50260, 50259}},
    {"xab cab",
        new int[] {50264, 16212}},
    {"qq aqq qq_ qq",
        new int[] {38227, 257, 38227, 10662, 80, 62, 220, 38227}},
    {"a  [LRS]  b",
        new int[] {64, 50265, 65}},
    {"\uD83D\uDE00x\uD83D\uDE00 x",
        new int[] {50266, 47249, 222, 2124}},
    {"<|endoftext|>x<|endoftext|>",
        new int[] {50262, 50258, 1659, 5239, 91, 29}},
  };

  private static final Object[][] ADDED_DECODE_CASES = {
    {new int[] {50263}, "\uFFFD\uFFFD"},
    {new int[] {50263, 8582}, "\uFFFD\uFFFD\uFFFD"},
    {new int[] {8582, 50267, 97}, "\uFFFD"},
    {new int[] {40, 50258, 40}, "I<|endI"},
    {new int[] {50256, 220, 50257, 50262}, "<|endoftext|> <|pad|><|endoftext|>x"},
  };
  @Test
  void encodesEdgeCasesLikeHf() {
    Gpt2Tokenizer tokenizer = Gpt2Tokenizer.fromTokenizerJson(SharedFiles.demoModel().resolve("tokenizer.json"));
    for (Object[] c : ENCODE_CASES) {
      assertArrayEquals((int[]) c[1], tokenizer.encode((String) c[0]), () -> "encode " + c[0]);
      assertEquals(c[0], tokenizer.decode((int[]) c[1]), () -> "round trip " + c[0]);
    }
  }

  @Test
  void decodesIllFormedUtf8LikeHf() {
    Gpt2Tokenizer tokenizer = Gpt2Tokenizer.fromTokenizerJson(SharedFiles.demoModel().resolve("tokenizer.json"));
    for (Object[] c : DECODE_CASES) {
      int[] ids = (int[]) c[0];
      assertEquals(c[1], tokenizer.decode(ids), () -> "decode " + java.util.Arrays.toString(ids));
      StreamDecoder stream = tokenizer.streamDecoder();
      StringBuilder streamed = new StringBuilder();
      for (int id : ids) {
        streamed.append(stream.push(id));
      }
      streamed.append(stream.finish());
      assertEquals(c[1], streamed.toString(), () -> "stream decode " + java.util.Arrays.toString(ids));
    }
  }

  @Test
  void addedTokensBehaveLikeHf(@TempDir Path dir) throws IOException {
    Gpt2Tokenizer tokenizer = Gpt2Tokenizer.fromTokenizerJson(withAddedTokens(dir));
    // HF numbers added tokens itself: "qq" is in the vocab, so the emoji token after it gets
    // 50266, not the 50267 the file claims.
    assertEquals(50267, tokenizer.vocabSize());
    assertEquals(50266, tokenizer.tokenId("\uD83D\uDE00x").getAsInt());
    for (Object[] c : ADDED_ENCODE_CASES) {
      assertArrayEquals((int[]) c[1], tokenizer.encode((String) c[0]), () -> "encode " + c[0]);
    }
    for (Object[] c : ADDED_DECODE_CASES) {
      assertEquals(c[1], tokenizer.decode((int[]) c[0]), () -> "decode " + java.util.Arrays.toString((int[]) c[0]));
    }
  }

  /** The demo tokenizer.json plus added tokens using each of HF's flags. */
  private static Path withAddedTokens(Path dir) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = (ObjectNode) json.readTree(SharedFiles.demoModel().resolve("tokenizer.json").toFile());
    ArrayNode added = (ArrayNode) root.get("added_tokens");
    // id, content, single_word, lstrip, rstrip, normalized, special
    Object[][] tokens = {
      {50257, "<|pad|>", false, false, false, false, false},
      {50258, "<|end", false, false, false, false, true},
      {50259, "[LS]", false, true, false, false, true},
      {50260, "[RS]", false, false, true, false, true},
      {50261, "wordz", true, false, false, false, false},
      {50262, "<|endoftext|>x", false, false, false, false, false},
      {50263, "\u00F1\u00E9", false, false, false, false, true},
      {50264, "xab", false, false, false, true, false},
      {50265, "[LRS]", false, true, true, true, true},
      {50266, "qq", true, false, false, true, false},
      {50267, "\uD83D\uDE00x", false, false, false, false, true},
    };
    for (Object[] t : tokens) {
      added.addObject().put("id", (int) t[0]).put("content", (String) t[1]).put("single_word", (boolean) t[2])
          .put("lstrip", (boolean) t[3]).put("rstrip", (boolean) t[4]).put("normalized", (boolean) t[5])
          .put("special", (boolean) t[6]);
    }
    Path file = dir.resolve("tokenizer.json");
    json.writeValue(file.toFile(), root);
    return file;
  }
}
