package dev.gptneo.engine.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.api.EmbedResult;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.ModelInfo;
import dev.gptneo.engine.config.AttentionType;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.weights.Checkpoint;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.TensorView;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RandomCheckpointTest {
  private static final ModelSize T = ModelSize.TINY;

  @Test
  void realSizesHaveTheKnownParameterCounts() {
    // HF's counts for EleutherAI/gpt-neo-125m, -1.3B, -2.7B (without the 2-label score head)
    assertEquals(125_198_592L, ModelSize.GPT_NEO_125M.parameters(0));
    assertEquals(1_315_575_808L, ModelSize.GPT_NEO_1_3B.parameters(0));
    assertEquals(2_651_307_520L, ModelSize.GPT_NEO_2_7B.parameters(0));
    assertEquals(84_934_656L, ModelSize.GPT_NEO_125M.bodyMatmulParams());
    assertEquals(ModelSize.GPT_NEO_125M, ModelSize.parse("125m"));
    assertEquals(ModelSize.GPT_NEO_1_3B, ModelSize.parse("gpt-neo-1.3B"));
    assertNull(ModelSize.parse("7B"));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
  void tinyCheckpointLoadsWithTheRightShapes(DType dtype, @TempDir Path dir) throws IOException {
    RandomCheckpoint.write(dir, T, dtype, 7, null, null);
    long expected = T.parameters(RandomCheckpoint.SCORE_LABELS);
    try (Engine engine = Engine.open(dir, EngineOptions.builder().threads(1).build())) {
      ModelInfo info = engine.info();
      assertEquals(expected, info.parameters);
      assertEquals(dtype.name(), info.weightDtype);
      assertEquals(expected * dtype.bytes, info.weightBytes);
      assertTrue(info.lmHeadTied);
      assertEquals(List.of("LABEL_0", "LABEL_1"), info.sequenceLabels);
      GptNeoConfig c = engine.config();
      assertEquals(T.hidden, c.hiddenSize);
      assertEquals(T.layers, c.numLayers);
      assertEquals(T.heads, c.numHeads);
      assertEquals(T.intermediate, c.intermediateSize);
      assertEquals(T.window, c.windowSize);
      assertEquals(T.vocab, c.vocabSize);
      assertEquals(T.maxPositions, c.maxPositionEmbeddings);
      assertEquals(List.of(AttentionType.GLOBAL, AttentionType.LOCAL), c.layerTypes);
      // it runs, and random weights give finite hidden states
      EmbedResult r = engine.embed(List.of(Input.ids(new int[] {1, 2, 3, 999})), InputPolicy.DEFAULT).get(0);
      assertNull(r.error);
      for (float v : r.mean) {
        assertTrue(Float.isFinite(v));
      }
    }
    Map<String, TensorView> t = Checkpoint.open(dir).tensors();
    assertArrayEquals(new long[] {T.vocab, T.hidden}, t.get("transformer.wte.weight").shape);
    assertArrayEquals(new long[] {T.maxPositions, T.hidden}, t.get("transformer.wpe.weight").shape);
    assertArrayEquals(new long[] {T.intermediate, T.hidden}, t.get("transformer.h.1.mlp.c_fc.weight").shape);
    assertArrayEquals(new long[] {T.hidden, T.intermediate}, t.get("transformer.h.1.mlp.c_proj.weight").shape);
    assertArrayEquals(new long[] {2, T.hidden}, t.get("score.weight").shape);
    assertFalse(t.containsKey("lm_head.weight"));
    assertEquals(4 + 13 * T.layers + 1, t.size());
    for (TensorView v : t.values()) {
      assertEquals(dtype, v.dtype, v.name);
    }
    // layer norms 1, biases 0, weights N(0, 0.02)
    assertEquals(1f, t.get("transformer.h.0.ln_1.weight").getFloat(5));
    assertEquals(0f, t.get("transformer.h.0.mlp.c_fc.bias").getFloat(5));
    TensorView wte = t.get("transformer.wte.weight");
    double sum = 0;
    double sq = 0;
    int n = (int) wte.numel();
    for (int i = 0; i < n; i++) {
      double v = wte.getFloat(i);
      sum += v;
      sq += v * v;
    }
    double mean = sum / n;
    double std = Math.sqrt(sq / n - mean * mean);
    assertEquals(0, mean, 0.002);
    assertEquals(0.02, std, 0.002);
  }

  @Test
  void headerIsPaddedSoTheDataIsAligned(@TempDir Path dir) throws IOException {
    RandomCheckpoint.write(dir, T, DType.BF16, 1, null, null);
    Path file = dir.resolve("model.safetensors");
    try (InputStream in = Files.newInputStream(file)) {
      long headerLen = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
      assertEquals(0, headerLen % 8);
      assertEquals(Files.size(file), 8 + headerLen + T.parameters(2) * 2);
    }
    assertEquals(Files.size(file), RandomCheckpoint.fileBytes(T, DType.BF16));
  }

  @Test
  void sameSeedSameBytes(@TempDir Path dir) throws IOException {
    RandomCheckpoint.write(dir.resolve("a"), T, DType.F16, 3, null, null);
    RandomCheckpoint.write(dir.resolve("b"), T, DType.F16, 3, null, null);
    RandomCheckpoint.write(dir.resolve("c"), T, DType.F16, 4, null, null);
    byte[] a = Files.readAllBytes(dir.resolve("a/model.safetensors"));
    assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/model.safetensors")));
    assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c/model.safetensors"))));
  }

  @Test
  void ensureCachesAndRewritesAStaleFolder(@TempDir Path cache) throws IOException {
    Path dir = RandomCheckpoint.ensure(T, DType.F32, cache, null, null);
    assertEquals(cache.resolve("tiny-f32"), dir);
    Path file = dir.resolve("model.safetensors");
    FileTime old = FileTime.fromMillis(1_000_000_000L);
    Files.setLastModifiedTime(file, old);
    assertEquals(dir, RandomCheckpoint.ensure(T, DType.F32, cache, null, null));
    assertEquals(old, Files.getLastModifiedTime(file), "a complete cached checkpoint is reused");
    Files.writeString(dir.resolve(RandomCheckpoint.MARKER), "{}");
    RandomCheckpoint.ensure(T, DType.F32, cache, null, null);
    assertTrue(Files.getLastModifiedTime(file).compareTo(old) > 0, "a stale one is written again");
    try (var files = Files.list(cache)) {
      assertEquals(List.of(dir), files.toList(), "no temporary folder is left behind");
    }
  }

  @Test
  void copiesTheTokenizerFilesForTheGpt2Vocabulary(@TempDir Path tmp) throws IOException {
    Path tok = Files.createDirectories(tmp.resolve("tok"));
    Files.writeString(tok.resolve("vocab.json"), "{}");
    Files.writeString(tok.resolve("merges.txt"), "#version: 0.2\n");
    ModelSize gpt2Vocab = new ModelSize("small-gpt2", 16, 2, 2, 32, 4, 50257, 32);
    RandomCheckpoint.write(tmp.resolve("m"), gpt2Vocab, DType.BF16, 1, tok, null);
    assertTrue(Files.isRegularFile(tmp.resolve("m/vocab.json")));
    assertTrue(Files.isRegularFile(tmp.resolve("m/merges.txt")));
    RandomCheckpoint.write(tmp.resolve("t"), T, DType.BF16, 1, tok, null);
    assertFalse(Files.exists(tmp.resolve("t/vocab.json")), "vocab 1000 does not match GPT-2's tokenizer");
  }

  @Test
  void configIsAHuggingFaceGptNeoConfig() {
    GptNeoConfig c = GptNeoConfig.parse(RandomCheckpoint.configJson(ModelSize.GPT_NEO_2_7B, DType.BF16), "test");
    assertEquals(2560, c.hiddenSize);
    assertEquals(32, c.numLayers);
    assertEquals(20, c.numHeads);
    assertEquals(10240, c.intermediateSize);
    assertEquals(256, c.windowSize);
    assertEquals(50257, c.vocabSize);
    assertEquals(2048, c.maxPositionEmbeddings);
    assertEquals(50256, c.eosTokenIds[0]);
    assertNotNull(c.id2label);
    for (int l = 0; l < 32; l++) {
      assertEquals(l % 2 == 0 ? AttentionType.GLOBAL : AttentionType.LOCAL, c.layerTypes.get(l));
    }
  }
}
