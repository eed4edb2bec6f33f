package dev.gptneo.engine.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.testing.Goldens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json: HF's GPTNeoConfig defaults, attention_types expansion, validation messages. */
class GptNeoConfigTest {
  static GptNeoConfig parse(String json) {
    return GptNeoConfig.parse(json, "test/config.json");
  }

  static String failure(String json) {
    return assertThrows(ModelException.class, () -> parse(json)).getMessage();
  }

  @Test
  void absentFieldsTakeHuggingFaceDefaults() {
    GptNeoConfig c = parse("{\"model_type\": \"gpt_neo\"}");
    assertEquals(50257, c.vocabSize);
    assertEquals(2048, c.maxPositionEmbeddings);
    assertEquals(2048, c.hiddenSize);
    assertEquals(24, c.numLayers);
    assertEquals(16, c.numHeads);
    assertEquals(128, c.headDim);
    assertEquals(4 * 2048, c.intermediateSize);
    assertEquals(256, c.windowSize);
    assertEquals(Activation.GELU_NEW, c.activation);
    assertEquals(1e-5f, c.layerNormEpsilon);
    assertEquals(50256, c.bosTokenId);
    assertArrayEquals(new int[] {50256}, c.eosTokenIds);
    assertEquals(-1, c.padTokenId);
    assertTrue(c.tieWordEmbeddings);
    assertEquals(Map.of(0, "LABEL_0", 1, "LABEL_1"), c.id2label);
    // default attention_types [[["global", "local"], 12]]
    assertEquals(24, c.layerTypes.size());
    for (int l = 0; l < 24; l++) {
      assertEquals(l % 2 == 0 ? AttentionType.GLOBAL : AttentionType.LOCAL, c.layerTypes.get(l));
      assertEquals(l % 2 == 1, c.isLocal(l));
    }
  }

  @Test
  void nullIntermediateSizeIsFourTimesHidden() {
    GptNeoConfig c = parse("{\"model_type\": \"gpt_neo\", \"hidden_size\": 128, \"num_heads\": 4,"
        + " \"intermediate_size\": null, \"num_layers\": 2, \"attention_types\": [[[\"global\", \"local\"], 1]]}");
    assertEquals(512, c.intermediateSize);
    assertEquals(32, c.headDim);
  }

  @Test
  void attentionTypesExpandInOrder() {
    GptNeoConfig c = parse("{\"model_type\": \"gpt_neo\", \"num_layers\": 7, \"attention_types\":"
        + " [[[\"global\", \"local\"], 2], [[\"local\"], 2], [[\"global\"], 1]]}");
    assertEquals(List.of(AttentionType.GLOBAL, AttentionType.LOCAL, AttentionType.GLOBAL, AttentionType.LOCAL,
        AttentionType.LOCAL, AttentionType.LOCAL, AttentionType.GLOBAL), c.layerTypes);
  }

  @Test
  void eosMayBeAListAndEveryEntryCounts() {
    GptNeoConfig c = parse("{\"model_type\": \"gpt_neo\", \"eos_token_id\": [5, 7], \"bos_token_id\": [3]}");
    assertArrayEquals(new int[] {5, 7}, c.eosTokenIds);
    assertEquals(3, c.bosTokenId);
    assertTrue(c.isEos(5));
    assertTrue(c.isEos(7));
    assertFalse(c.isEos(50256));
  }

  @Test
  void unknownKeysAreIgnored() {
    GptNeoConfig c = parse("{\"model_type\": \"gpt_neo\", \"num_layers\": 2, \"attention_types\":"
        + " [[[\"global\", \"local\"], 1]], \"some_future_key\": {\"nested\": [1, 2]}, \"torch_dtype\": \"float16\","
        + " \"attention_layers\": [\"global\", \"local\"], \"use_cache\": true}");
    assertEquals(2, c.numLayers);
  }

  @Test
  void id2labelGivesLabelNamesInIdOrder() {
    GptNeoConfig c = parse("{\"model_type\": \"gpt_neo\", \"id2label\": {\"1\": \"spam\", \"0\": \"ham\"}}");
    assertEquals(List.of("ham", "spam"), List.copyOf(c.id2label.values()));
    assertEquals(2, c.numLabels());
    GptNeoConfig n = parse("{\"model_type\": \"gpt_neo\", \"num_labels\": 3}");
    assertEquals(List.of("LABEL_0", "LABEL_1", "LABEL_2"), List.copyOf(n.id2label.values()));
    String gap = failure("{\"model_type\": \"gpt_neo\", \"id2label\": {\"0\": \"a\", \"2\": \"b\"}}");
    assertTrue(gap.contains("id2label") && gap.contains("0..1"), gap);
  }

  @Test
  void layerCountMismatchNamesBothCounts() {
    String m = failure("{\"model_type\": \"gpt_neo\", \"num_layers\": 4, \"attention_types\": [[[\"global\", \"local\"], 3]]}");
    assertTrue(m.contains("6 layers") && m.contains("num_layers is 4"), m);
    assertTrue(m.startsWith("test/config.json"), "names the file: " + m);
  }

  @Test
  void hiddenSizeMustDivideByHeads() {
    String m = failure("{\"model_type\": \"gpt_neo\", \"hidden_size\": 100, \"num_heads\": 3}");
    assertTrue(m.contains("hidden_size 100") && m.contains("num_heads 3") && m.contains("divisible"), m);
  }

  @Test
  void modelTypeMustBeGptNeo() {
    String m = failure("{\"model_type\": \"gpt2\", \"n_embd\": 768}");
    assertTrue(m.contains("'gpt2'") && m.contains("gpt_neo"), m);
    String none = failure("{\"hidden_size\": 64}");
    assertTrue(none.contains("model_type"), none);
  }

  @Test
  void badAttentionTypeIsNamed() {
    String m = failure("{\"model_type\": \"gpt_neo\", \"num_layers\": 2, \"attention_types\": [[[\"global\", \"sparse\"], 1]]}");
    assertTrue(m.contains("'sparse'") && m.contains("global or local"), m);
    String shape = failure("{\"model_type\": \"gpt_neo\", \"attention_types\": [\"global\", \"local\"]}");
    assertTrue(shape.contains("attention_types") && shape.contains("expected a list like"), shape);
  }

  @Test
  void unknownActivationListsTheSupportedOnes() {
    String m = failure("{\"model_type\": \"gpt_neo\", \"activation_function\": \"swish\"}");
    assertTrue(m.contains("'swish'") && m.contains("gelu_new"), m);
    for (String other : new String[] {"relu", "gelu"}) { // real HF activations the kernels do not run: refused
      String r = failure("{\"model_type\": \"gpt_neo\", \"activation_function\": \"" + other + "\"}");
      assertTrue(r.contains("'" + other + "' is not supported") && r.contains("gelu_pytorch_tanh"), r);
    }
    assertEquals(Activation.GELU_PYTORCH_TANH,
        parse("{\"model_type\": \"gpt_neo\", \"activation_function\": \"gelu_pytorch_tanh\"}").activation);
  }

  @Test
  void problemTypeDefaultsAsHfsPipeline() {
    assertEquals(ProblemType.SINGLE_LABEL, parse("{\"model_type\": \"gpt_neo\"}").problemType);
    assertEquals(ProblemType.MULTI_LABEL, parse("{\"model_type\": \"gpt_neo\", \"num_labels\": 1}").problemType);
    assertEquals(ProblemType.REGRESSION,
        parse("{\"model_type\": \"gpt_neo\", \"problem_type\": \"regression\"}").problemType);
    String m = failure("{\"model_type\": \"gpt_neo\", \"problem_type\": \"ranking\"}");
    assertTrue(m.contains("problem_type 'ranking' is not one of regression"), m);
  }

  /** As HF 5.17: the aliases and a stored attention_layers are set after the fields, so they win. */
  @Test
  void hfAliasesAndStoredAttentionLayersWin() {
    GptNeoConfig c = parse("{\"model_type\": \"gpt_neo\", \"hidden_size\": 128, \"num_heads\": 16,"
        + " \"num_attention_heads\": 4, \"num_layers\": 4, \"num_hidden_layers\": 2,"
        + " \"attention_types\": [[[\"global\", \"local\"], 1]]}");
    assertEquals(4, c.numHeads);
    assertEquals(32, c.headDim);
    assertEquals(2, c.numLayers);
    GptNeoConfig stored = parse("{\"model_type\": \"gpt_neo\", \"num_layers\": 3,"
        + " \"attention_types\": [[[\"global\", \"local\", \"global\"], 1]],"
        + " \"attention_layers\": [\"local\", \"local\", \"global\"]}");
    assertEquals(List.of(AttentionType.LOCAL, AttentionType.LOCAL, AttentionType.GLOBAL), stored.layerTypes);
    String m = failure("{\"model_type\": \"gpt_neo\", \"num_layers\": 3, \"attention_layers\": [\"global\"]}");
    assertTrue(m.contains("attention_layers lists 1 layers but num_layers is 3"), m);
    String bad = failure("{\"model_type\": \"gpt_neo\", \"num_layers\": 1, \"attention_layers\": [\"dense\"]}");
    assertTrue(bad.contains("attention_layers") && bad.contains("'dense'"), bad);
  }

  @Test
  void nonPositiveSizesAreRejected() {
    String m = failure("{\"model_type\": \"gpt_neo\", \"num_heads\": 0}");
    assertTrue(m.contains("num_heads") && m.contains("positive"), m);
    String s = failure("{\"model_type\": \"gpt_neo\", \"window_size\": \"big\"}");
    assertTrue(s.contains("window_size"), s);
  }

  @Test
  void invalidJsonAndNonObjects() {
    String m = failure("{\"model_type\": \"gpt_neo\",");
    assertTrue(m.contains("not valid JSON"), m);
    String a = failure("[1, 2]");
    assertTrue(a.contains("JSON object"), a);
  }

  @Test
  void loadNamesTheMissingFileAndTheMissingFolder(@TempDir Path dir) throws Exception {
    String m = assertThrows(ModelException.class, () -> GptNeoConfig.load(dir)).getMessage();
    assertTrue(m.contains("no config.json") && m.contains(dir.toString()), m);
    Path missing = dir.resolve("does-not-exist");
    String f = assertThrows(ModelException.class, () -> GptNeoConfig.load(missing)).getMessage();
    assertTrue(f.contains("does not exist") && f.contains(missing.toString()), f);
    Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt_neo\", \"num_layers\": 2,"
        + " \"attention_types\": [[[\"global\", \"local\"], 1]]}");
    assertEquals(2, GptNeoConfig.load(dir).numLayers);
  }

  @Test
  void demoConfigParses() {
    GptNeoConfig demo = GptNeoConfig.load(Goldens.demoModel());
    assertEquals(512, demo.intermediateSize); // null in the file
    assertEquals(List.of("ham", "spam"), List.copyOf(demo.id2label.values()));
    assertEquals(50256, demo.padTokenId);
    assertEquals(6, demo.layerTypes.size());
  }

  @Test
  void tinyNeoConfigParses() {
    GptNeoConfig tiny = GptNeoConfig.load(Goldens.path("golden/tiny-neo/causal-lm"));
    assertEquals(8, tiny.windowSize);
    assertEquals(-1, tiny.padTokenId); // null in the file
    assertArrayEquals(new int[] {999}, tiny.eosTokenIds);
  }
}
