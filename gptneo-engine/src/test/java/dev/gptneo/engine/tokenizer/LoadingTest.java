package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the files, the two formats, and errors that name the broken file. */
class LoadingTest {
  /** "a", "b", "ab", "Ġ" and their merges; enough for a tokenizer. */
  private static final String VOCAB = "{\"a\": 0, \"b\": 1, \"ab\": 2, \"\u0120\": 3, \"\u0120ab\": 4, \"<|endoftext|>\": 5}";
  private static final String MERGES = "#version: 0.2\na b\n\u0120 ab\n";

  @Test
  void folderWithoutTokenizerFilesGivesEmpty(@TempDir Path dir) throws IOException {
    assertTrue(Gpt2Tokenizer.load(dir).isEmpty());
    assertTrue(Gpt2Tokenizer.load(dir.resolve("no-such-folder")).isEmpty());
    Files.writeString(dir.resolve("config.json"), "{}");
    assertTrue(Gpt2Tokenizer.load(dir).isEmpty());
  }

  @Test
  void smallVocabAndMergesWork(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("vocab.json"), VOCAB);
    Files.writeString(dir.resolve("merges.txt"), MERGES);
    Gpt2Tokenizer tokenizer = Gpt2Tokenizer.load(dir).orElseThrow();
    assertArrayEquals(new int[] {2, 4, 5, 0}, tokenizer.encode("ab ab<|endoftext|>a"));
    assertEquals(5, tokenizer.endOfTextId());
    assertEquals(6, tokenizer.vocabSize());
    assertEquals("ab ab<|endoftext|>a", tokenizer.decode(new int[] {2, 4, 5, 0}));
    // Bytes with no token are dropped before merging, as HF's BPE does without an unk token
    // (checked with HF: "azb" -> [2], "zz" -> []).
    assertArrayEquals(new int[] {2}, tokenizer.encode("azb"));
    assertArrayEquals(new int[0], tokenizer.encode("zz"));
  }

  @Test
  void vocabWithoutMergesIsAnError(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("vocab.json"), VOCAB);
    TokenizerException e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
  }

  @Test
  void corruptVocabJsonNamesTheFile(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("merges.txt"), MERGES);
    for (String vocab : List.of("{\"a\": 0, ", "[1, 2]", "{\"a\": \"zero\"}", "{\"a\": -1}", "{\"a\": 0, \"b\": 0}",
        "{\"a\": 0, \"a\": 1}", "{}")) {
      Files.writeString(dir.resolve("vocab.json"), vocab);
      TokenizerException e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir), vocab);
      assertTrue(e.getMessage().contains(dir.resolve("vocab.json").toString()), e.getMessage());
    }
  }

  @Test
  void corruptMergesLineNamesFileAndLine(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("vocab.json"), VOCAB);
    Path merges = dir.resolve("merges.txt");
    Files.writeString(merges, "#version: 0.2\na b\nabc\n");
    TokenizerException e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains(merges.toString()) && e.getMessage().contains("line 3"), e.getMessage());

    Files.writeString(merges, "#version: 0.2\na b\na c\n");
    e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("\"c\" is not in the vocab"), e.getMessage());

    Files.write(merges, new byte[] {'a', ' ', (byte) 0xFF, '\n'});
    e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains(merges.toString()) && e.getMessage().contains("UTF-8"), e.getMessage());
  }

  @Test
  void tokenizerJsonIsPreferredAndItsErrorsNameIt(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("vocab.json"), VOCAB);
    Files.writeString(dir.resolve("merges.txt"), MERGES);
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a\"]},"
        + " \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
    TokenizerException e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("model.merges[0]"), e.getMessage());

    Files.writeString(file, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}");
    e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains("WordPiece"), e.getMessage());

    Files.writeString(file, "{\"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"},"
        + " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
    e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains("normalizer"), e.getMessage());

    Files.writeString(file, "not json");
    e = assertThrows(TokenizerException.class, () -> Gpt2Tokenizer.load(dir));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void mergesAsPairsGiveTheSameIds(@TempDir Path dir) throws IOException {
    Path demo = SharedFiles.demoModel().resolve("tokenizer.json");
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = (ObjectNode) json.readTree(demo.toFile());
    ObjectNode model = (ObjectNode) root.get("model");
    ArrayNode pairs = json.createArrayNode();
    for (JsonNode merge : model.get("merges")) {
      String[] parts = merge.asText().split(" ");
      pairs.addArray().add(parts[0]).add(parts[1]);
    }
    model.set("merges", pairs);
    Path file = dir.resolve("tokenizer.json");
    json.writeValue(file.toFile(), root);

    Gpt2Tokenizer fromPairs = Gpt2Tokenizer.load(dir).orElseThrow();
    Gpt2Tokenizer fromStrings = Gpt2Tokenizer.fromTokenizerJson(demo);
    String text = Files.readString(SharedFiles.demoModel().resolve("README.md"), StandardCharsets.UTF_8);
    assertArrayEquals(fromStrings.encode(text), fromPairs.encode(text));
    assertTrue(fromPairs.encode(text).length > 300);
  }
}
