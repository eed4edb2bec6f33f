package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** shared/golden/tokenizer_golden.json: ids and decoded text from HF for 66 strings. */
class GoldenTokenizerTest {
  static Stream<Arguments> loaders() {
    return Stream.of(Arguments.of("tokenizer.json"), Arguments.of("vocab.json+merges.txt"));
  }

  static Gpt2Tokenizer load(String which) {
    Path dir = SharedFiles.demoModel();
    return which.equals("tokenizer.json")
        ? Gpt2Tokenizer.fromTokenizerJson(dir.resolve("tokenizer.json"))
        : Gpt2Tokenizer.fromVocabAndMerges(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
  }

  @ParameterizedTest
  @MethodSource("loaders")
  void everyGoldenCaseEncodesAndDecodesLikeHf(String which) throws IOException {
    JsonNode golden = new ObjectMapper().readTree(SharedFiles.require("golden/tokenizer_golden.json").toFile());
    Gpt2Tokenizer tokenizer = load(which);
    JsonNode cases = golden.get("cases");
    assertEquals(66, cases.size());
    for (JsonNode c : cases) {
      String text = c.get("text").asText();
      int[] expected = new int[c.get("ids").size()];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = c.get("ids").get(i).asInt();
      }
      assertArrayEquals(expected, tokenizer.encode(text), () -> which + " encode " + text);
      assertEquals(c.get("decoded").asText(), tokenizer.decode(expected), () -> which + " decode " + text);
    }
  }

  @ParameterizedTest
  @MethodSource("loaders")
  void vocabFacts(String which) {
    Gpt2Tokenizer tokenizer = load(which);
    assertEquals(50257, tokenizer.vocabSize());
    assertEquals(50256, tokenizer.endOfTextId());
    assertEquals("Ġthe", tokenizer.tokenString(262));
    assertEquals(262, tokenizer.tokenId("Ġthe").getAsInt());
    assertTrue(tokenizer.tokenId("no such token").isEmpty());
    assertArrayEquals(" the".getBytes(java.nio.charset.StandardCharsets.UTF_8), tokenizer.tokenBytes(262));
    assertArrayEquals("<|endoftext|>".getBytes(java.nio.charset.StandardCharsets.US_ASCII), tokenizer.tokenBytes(50256));
    assertArrayEquals(new byte[] {(byte) 0xF0}, tokenizer.tokenBytes(tokenizer.tokenId("ð").getAsInt()));
    assertEquals(null, tokenizer.tokenString(50257));
    assertEquals(0, tokenizer.tokenBytes(-1).length);
  }
}
