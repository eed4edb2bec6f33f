package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The heap-based merge loop and the pair table against plain reference code. */
class BpeTest {
  @Test
  void heapMergeLoopEqualsNaiveLowestRankFirst() throws IOException {
    Path dir = SharedFiles.demoModel();
    Gpt2Tokenizer tokenizer = Gpt2Tokenizer.fromVocabAndMerges(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    Map<String, Integer> rankOfPair = new HashMap<>();
    List<String> lines = Files.readAllLines(dir.resolve("merges.txt"), StandardCharsets.UTF_8);
    for (String line : lines.subList(1, lines.size())) {
      rankOfPair.put(line, rankOfPair.size());
    }
    Random random = new Random(11);
    String[] alphabets = {"abcdefghijklmnopqrstuvwxyz", "etaoinshrdlu", "0123456789", "!?.,-=#*", "aeiouAEIOU"};
    for (int trial = 0; trial < 20_000; trial++) {
      String alphabet = alphabets[random.nextInt(alphabets.length)];
      StringBuilder word = new StringBuilder(random.nextBoolean() ? " " : "");
      int length = 1 + random.nextInt(trial % 10 == 0 ? 200 : 16); // some beyond the cache limit
      for (int i = 0; i < length; i++) {
        word.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String w = word.toString();
      assertEquals(1, PreTokenizerTest.scannerPieces(w).size(), w);
      int[] expected = naiveBpe(w, rankOfPair).stream().mapToInt(t -> tokenizer.tokenId(t).getAsInt()).toArray();
      assertArrayEquals(expected, tokenizer.encode(w), w);
      assertArrayEquals(expected, tokenizer.encode(w), "from the cache: " + w);
    }
  }

  /** HF's order, written plainly: merge the lowest-ranked adjacent pair, leftmost on ties. */
  private static List<String> naiveBpe(String word, Map<String, Integer> rankOfPair) {
    List<String> symbols = new ArrayList<>();
    for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
      symbols.add(String.valueOf(ByteLevelAlphabet.charOf(b & 0xFF)));
    }
    while (true) {
      int best = -1;
      int bestRank = Integer.MAX_VALUE;
      for (int i = 0; i + 1 < symbols.size(); i++) {
        Integer rank = rankOfPair.get(symbols.get(i) + " " + symbols.get(i + 1));
        if (rank != null && rank < bestRank) {
          best = i;
          bestRank = rank;
        }
      }
      if (best < 0) {
        return symbols;
      }
      symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
    }
  }

  @Test
  void mergeTableFindsEveryPairAndOnlyThose() {
    Random random = new Random(5);
    int count = 50_000;
    MergeTable table = new MergeTable(count);
    Map<Long, Integer> reference = new HashMap<>();
    for (int rank = 0; rank < count; rank++) {
      int left = random.nextInt(60_000);
      int right = random.nextInt(60_000);
      table.put(left, right, rank, rank + 7);
      reference.put(((long) left << 32) | right, rank); // a repeated pair keeps its last rank
    }
    assertEquals(reference.size(), table.size());
    for (Map.Entry<Long, Integer> e : reference.entrySet()) {
      int rank = table.rank((int) (e.getKey() >>> 32), (int) (long) e.getKey());
      assertEquals(e.getValue(), rank);
      assertEquals(rank + 7, table.mergedId(rank));
    }
    for (int i = 0; i < 100_000; i++) {
      int left = random.nextInt(60_000);
      int right = random.nextInt(60_000);
      Integer expected = reference.get(((long) left << 32) | right);
      assertEquals(expected == null ? -1 : expected, table.rank(left, right));
    }
  }

  @Test
  void byteAlphabetIsGpt2s() {
    assertEquals('\u0120', ByteLevelAlphabet.charOf(' '));
    assertEquals('\u010A', ByteLevelAlphabet.charOf('\n'));
    assertEquals('\u0100', ByteLevelAlphabet.charOf(0));
    assertEquals('\u0143', ByteLevelAlphabet.charOf(0xAD));
    assertEquals('!', ByteLevelAlphabet.charOf('!'));
    assertEquals('\u00FF', ByteLevelAlphabet.charOf(0xFF));
    for (int b = 0; b < 256; b++) {
      assertEquals(b, ByteLevelAlphabet.byteOf(ByteLevelAlphabet.charOf(b)));
    }
    assertEquals(-1, ByteLevelAlphabet.byteOf(' '));
    // A token with a char outside the table is its own UTF-8, like HF's ByteLevel decoder.
    assertArrayEquals("<x y>".getBytes(StandardCharsets.UTF_8), ByteLevelAlphabet.decode("<x y>"));
  }

  @Test
  void wordCacheStaysBounded() {
    WordCache cache = new WordCache(4);
    for (int i = 0; i < 10; i++) {
      cache.put("w" + i, new int[] {i});
      assertTrue(cache.size() <= 4);
    }
    assertArrayEquals(new int[] {9}, cache.get("w9"));
  }
}
