package dev.gptneo.engine.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Reads a Hugging Face tokenizer from disk and checks it is one {@link Gpt2Tokenizer} can
 * reproduce exactly (byte-level BPE, no normalizer). Every error names the file.
 */
final class TokenizerFiles {
  static final String TOKENIZER_JSON = "tokenizer.json";
  static final String VOCAB_JSON = "vocab.json";
  static final String MERGES_TXT = "merges.txt";
  /** Far above any real vocab; stops a corrupt id from allocating gigabytes. */
  private static final int MAX_ID = 1 << 24;

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private TokenizerFiles() {}

  static Optional<Gpt2Tokenizer> load(Path modelDir) {
    Path tokenizerJson = modelDir.resolve(TOKENIZER_JSON);
    if (Files.isRegularFile(tokenizerJson)) {
      return Optional.of(fromTokenizerJson(tokenizerJson));
    }
    Path vocab = modelDir.resolve(VOCAB_JSON);
    Path merges = modelDir.resolve(MERGES_TXT);
    boolean hasVocab = Files.isRegularFile(vocab);
    boolean hasMerges = Files.isRegularFile(merges);
    if (!hasVocab && !hasMerges) {
      return Optional.empty();
    }
    if (!hasVocab || !hasMerges) {
      Path present = hasVocab ? vocab : merges;
      Path missing = hasVocab ? merges : vocab;
      throw new TokenizerException(present + " has no companion " + missing.getFileName() + " (expected "
          + missing + "); a GPT-2 tokenizer needs both, or a tokenizer.json");
    }
    return Optional.of(fromVocabAndMerges(vocab, merges));
  }

  static Gpt2Tokenizer fromVocabAndMerges(Path vocabFile, Path mergesFile) {
    Map<String, Integer> vocab = readVocab(vocabFile, readJson(vocabFile));
    List<String[]> pairs = readMergesTxt(mergesFile);
    MergeTable merges = buildMerges(mergesFile, pairs, vocab, i -> "line " + (i + 1));
    List<AddedToken> added = new ArrayList<>();
    Integer eot = vocab.get("<|endoftext|>");
    if (eot != null) {
      added.add(AddedToken.special("<|endoftext|>", eot));
    }
    return new Gpt2Tokenizer(vocab, merges, added, false, true, false);
  }

  static Gpt2Tokenizer fromTokenizerJson(Path file) {
    JsonNode root = readJson(file);
    JsonNode model = root.path("model");
    if (!model.isObject()) {
      throw corrupt(file, "has no \"model\" object");
    }
    String type = model.path("type").asText("BPE");
    if (!type.equals("BPE")) {
      throw corrupt(file, "model.type is \"" + type + "\"; only byte-level BPE (GPT-2) is supported");
    }
    for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (!model.path(affix).asText("").isEmpty()) {
        throw corrupt(file, "model." + affix + " is set; GPT-2's BPE has none and it is not supported");
      }
    }
    if (model.path("dropout").asDouble(0) > 0) {
      throw corrupt(file, "model.dropout is set; BPE dropout is random and not supported");
    }
    JsonNode normalizer = root.path("normalizer");
    if (!normalizer.isMissingNode() && !normalizer.isNull()) {
      throw corrupt(file, "has a normalizer (" + normalizer.path("type").asText("?") + "); GPT-2 has none");
    }
    JsonNode byteLevel = findByteLevel(file, root.path("pre_tokenizer"));
    Map<String, Integer> vocab = readVocab(file, model.path("vocab"));
    MergeTable merges = buildMerges(file, readJsonMerges(file, model.path("merges")), vocab,
        i -> "model.merges[" + i + "]");
    List<AddedToken> added = readAddedTokens(file, root.path("added_tokens"), vocab);
    return new Gpt2Tokenizer(vocab, merges, added, byteLevel.path("add_prefix_space").asBoolean(false),
        byteLevel.path("use_regex").asBoolean(true), model.path("ignore_merges").asBoolean(false));
  }

  /** The ByteLevel pre-tokenizer, alone or as the only member of a Sequence. */
  private static JsonNode findByteLevel(Path file, JsonNode preTokenizer) {
    JsonNode node = preTokenizer;
    if ("Sequence".equals(node.path("type").asText()) && node.path("pretokenizers").size() == 1) {
      node = node.path("pretokenizers").get(0);
    }
    if (!"ByteLevel".equals(node.path("type").asText())) {
      throw corrupt(file, "pre_tokenizer is " + (preTokenizer.isMissingNode() ? "missing" : preTokenizer.path("type"))
          + "; only GPT-2's ByteLevel pre-tokenizer is supported");
    }
    return node;
  }

  private static JsonNode readJson(Path file) {
    try {
      JsonNode root = JSON.readTree(file.toFile());
      if (root == null || !root.isObject()) {
        throw corrupt(file, "is not a JSON object");
      }
      return root;
    } catch (JsonProcessingException e) {
      throw corrupt(file, "is not valid JSON: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()), e);
    } catch (IOException e) {
      throw new TokenizerException("cannot read " + file + ": " + e, e);
    }
  }

  /** A JSON object token -> id, ids in [0, MAX_ID) and unique. */
  private static Map<String, Integer> readVocab(Path file, JsonNode vocabNode) {
    if (!vocabNode.isObject() || vocabNode.isEmpty()) {
      throw corrupt(file, "has no vocab object mapping tokens to ids");
    }
    Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
    Map<Integer, String> tokenById = new HashMap<>(vocabNode.size() * 2);
    for (Map.Entry<String, JsonNode> entry : vocabNode.properties()) {
      JsonNode idNode = entry.getValue();
      if (!idNode.isIntegralNumber() || idNode.asLong() < 0 || idNode.asLong() >= MAX_ID) {
        throw corrupt(file, "vocab entry \"" + entry.getKey() + "\" has id " + idNode + ", not an integer in [0, "
            + MAX_ID + ")");
      }
      int id = idNode.asInt();
      String previous = tokenById.put(id, entry.getKey());
      if (previous != null) {
        throw corrupt(file, "vocab gives id " + id + " to both \"" + previous + "\" and \"" + entry.getKey() + "\"");
      }
      vocab.put(entry.getKey(), id);
    }
    return vocab;
  }

  /** merges.txt: "#version" header, then one "left right" pair per line (blank lines skipped). */
  private static List<String[]> readMergesTxt(Path file) {
    List<String[]> pairs = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int lineNumber = 0;
      while ((line = reader.readLine()) != null) {
        lineNumber++;
        if (line.startsWith("#version") || line.isBlank()) {
          pairs.add(null); // keeps list index + 1 == line number for error messages
          continue;
        }
        String[] parts = line.split(" ", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
          throw corrupt(file, "line " + lineNumber + " is \"" + abbreviate(line)
              + "\", not two tokens separated by one space");
        }
        pairs.add(parts);
      }
    } catch (CharacterCodingException e) {
      throw corrupt(file, "is not valid UTF-8", e);
    } catch (IOException e) {
      throw new TokenizerException("cannot read " + file + ": " + e, e);
    }
    return pairs;
  }

  /** model.merges: "left right" strings (older files) or [left, right] arrays (newer ones). */
  private static List<String[]> readJsonMerges(Path file, JsonNode mergesNode) {
    if (!mergesNode.isArray()) {
      throw corrupt(file, "model.merges is missing or not an array");
    }
    List<String[]> pairs = new ArrayList<>(mergesNode.size());
    for (int i = 0; i < mergesNode.size(); i++) {
      JsonNode merge = mergesNode.get(i);
      String[] parts = null;
      if (merge.isTextual()) {
        parts = merge.asText().split(" ", -1);
      } else if (merge.isArray() && merge.size() == 2 && merge.get(0).isTextual() && merge.get(1).isTextual()) {
        parts = new String[] {merge.get(0).asText(), merge.get(1).asText()};
      }
      if (parts == null || parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
        throw corrupt(file, "model.merges[" + i + "] is " + abbreviate(merge.toString())
            + ", not \"left right\" or [\"left\", \"right\"]");
      }
      pairs.add(parts);
    }
    return pairs;
  }

  /**
   * Ranks are list positions (skipped entries are null). Like HF, both sides and their
   * concatenation must be in the vocab.
   */
  private static MergeTable buildMerges(Path file, List<String[]> pairs, Map<String, Integer> vocab,
      IntFunction<String> describeEntry) {
    MergeTable table = new MergeTable(pairs.size());
    for (int rank = 0; rank < pairs.size(); rank++) {
      String[] pair = pairs.get(rank);
      if (pair == null) {
        continue;
      }
      Integer left = vocab.get(pair[0]);
      Integer right = vocab.get(pair[1]);
      Integer merged = vocab.get(pair[0] + pair[1]);
      if (left == null || right == null || merged == null) {
        String unknown = left == null ? pair[0] : right == null ? pair[1] : pair[0] + pair[1];
        throw corrupt(file, describeEntry.apply(rank) + " merges \"" + pair[0] + "\" + \"" + pair[1] + "\" but \"" + unknown
            + "\" is not in the vocab");
      }
      table.put(left, right, rank, merged);
    }
    return table;
  }

  /**
   * added_tokens, with the ids HF's AddedVocabulary gives them, which are not read from the file:
   * a token already in the vocab keeps its vocab id; any other gets the next id after the vocab
   * (the vocab's entry count) or after the largest added id so far. For a file HF wrote itself
   * those are the ids listed in it (HF warns when they are not).
   */
  private static List<AddedToken> readAddedTokens(Path file, JsonNode node, Map<String, Integer> vocab) {
    List<AddedToken> added = new ArrayList<>();
    if (node.isMissingNode() || node.isNull()) {
      return added;
    }
    if (!node.isArray()) {
      throw corrupt(file, "added_tokens is not an array");
    }
    Map<String, Integer> addedIds = new HashMap<>();
    int maxAddedId = -1;
    for (int i = 0; i < node.size(); i++) {
      JsonNode t = node.get(i);
      if (!t.path("content").isTextual()) {
        throw corrupt(file, "added_tokens[" + i + "] has no \"content\" string: " + abbreviate(t.toString()));
      }
      String content = t.path("content").asText();
      if (content.isEmpty() || addedIds.containsKey(content)) {
        continue; // HF skips these too
      }
      Integer id = vocab.get(content);
      if (id == null) {
        id = maxAddedId >= vocab.size() ? maxAddedId + 1 : vocab.size();
      }
      if (id >= MAX_ID) {
        throw corrupt(file, "added_tokens[" + i + "] would get id " + id + ", above " + MAX_ID);
      }
      addedIds.put(content, id);
      maxAddedId = Math.max(maxAddedId, id);
      boolean special = t.path("special").asBoolean(false);
      added.add(new AddedToken(content, id, special, t.path("single_word").asBoolean(false),
          t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
          t.path("normalized").asBoolean(!special)));
    }
    return added;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static TokenizerException corrupt(Path file, String problem) {
    return new TokenizerException(file + ": " + problem);
  }

  private static TokenizerException corrupt(Path file, String problem, Throwable cause) {
    return new TokenizerException(file + ": " + problem, cause);
  }
}
