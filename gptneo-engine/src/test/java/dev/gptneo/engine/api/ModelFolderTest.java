package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.TinyCheckpoints;
import dev.gptneo.engine.testing.TinyCheckpoints.Spec;
import dev.gptneo.engine.testing.TinyCheckpoints.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading model folders written by {@link TinyCheckpoints}: dtypes, shards, key prefixes, ignored
 * buffers, tied or separate LM head, head detection, and a clear error for every broken folder.
 */
class ModelFolderTest {
  @TempDir Path tmp;

  static final int[] IDS = {1, 5, 9, 2, 40, 33, 7, 7, 12, 3};

  static Engine open(Path dir) {
    return Engine.open(dir, EngineOptions.builder().threads(1).build());
  }

  /** Per-token log-probs of IDS: a fingerprint of the whole forward pass and the LM head. */
  static double[] fingerprint(Path dir) {
    try (Engine e = open(dir)) {
      ScoreResult r = e.score(List.of(Input.ids(IDS)), InputPolicy.DEFAULT).get(0);
      assertNull(r.error);
      return r.tokenLogprobs;
    }
  }

  Path write(String name, Spec spec) {
    return TinyCheckpoints.write(tmp.resolve(name), spec);
  }

  String openFailure(Path dir) {
    return assertThrows(ModelException.class, () -> open(dir).close()).getMessage();
  }

  @Test
  void f32F16AndBf16WeightsGiveTheSameResults() {
    double[] f32 = fingerprint(write("f32", TinyCheckpoints.spec()));
    for (String dtype : new String[] {"F16", "BF16"}) {
      Path dir = write(dtype, TinyCheckpoints.spec().with(s -> s.dtype = dtype));
      assertArrayEquals(f32, fingerprint(dir), dtype);
      try (Engine e = open(dir)) {
        assertEquals(dtype, e.info().weightDtype);
      }
    }
  }

  @Test
  void shardedCheckpointEqualsSingleFile() throws Exception {
    double[] single = fingerprint(write("single", TinyCheckpoints.spec()));
    Path sharded = write("sharded", TinyCheckpoints.spec().with(s -> s.shards = 3));
    assertTrue(Files.exists(sharded.resolve("model-00003-of-00003.safetensors")));
    assertFalse(Files.exists(sharded.resolve("model.safetensors")));
    assertArrayEquals(single, fingerprint(sharded));
  }

  @Test
  void keysWithoutTheTransformerPrefixLoad() {
    assertArrayEquals(fingerprint(write("prefixed", TinyCheckpoints.spec())),
        fingerprint(write("bare", TinyCheckpoints.spec().with(s -> s.prefix = false))));
  }

  @Test
  void attentionMaskBuffersAreIgnored() {
    Spec plain = TinyCheckpoints.spec();
    Path withBuffers = write("buffers", TinyCheckpoints.spec().with(s -> s.maskBuffers = true));
    assertArrayEquals(fingerprint(write("plain", plain)), fingerprint(withBuffers));
    try (Engine a = open(tmp.resolve("plain")); Engine b = open(withBuffers)) {
      assertEquals(a.info().parameters, b.info().parameters, "buffers are not parameters");
      assertEquals("F32", b.info().weightDtype, "the BOOL mask does not count as a weight dtype");
    }
  }

  @Test
  void lmHeadIsTiedToWteUnlessPresent() {
    Path tied = write("tied", TinyCheckpoints.spec());
    Path copy = write("copy", TinyCheckpoints.spec().with(s -> s.lmHeadEqualsWte = true));
    Path own = write("own", TinyCheckpoints.spec().with(s -> s.lmHead = true));
    try (Engine t = open(tied); Engine c = open(copy); Engine o = open(own)) {
      assertTrue(t.info().lmHeadTied);
      assertFalse(c.info().lmHeadTied);
      assertFalse(o.info().lmHeadTied);
      assertTrue(t.info().tasks.get("generate").contains("tied"));
    }
    assertArrayEquals(fingerprint(tied), fingerprint(copy), "lm_head.weight == wte gives the tied result");
    assertFalse(java.util.Arrays.equals(fingerprint(tied), fingerprint(own)), "a separate lm_head is used");
  }

  @Test
  void headsAreDetected() {
    Path all = write("heads", TinyCheckpoints.spec().with(s -> {
      s.scoreLabels = 3;
      s.tokenLabels = 3;
      s.qa = true;
    }));
    try (Engine e = open(all)) {
      ModelInfo info = e.info();
      assertEquals(List.of("tag0", "tag1", "tag2"), info.sequenceLabels);
      assertEquals(List.of("tag0", "tag1", "tag2"), info.tokenLabels);
      assertTrue(info.hasQaHead);
      assertFalse(info.hasTokenizer);
      ClassifyResult c = e.classify(List.of(Input.ids(IDS)), InputPolicy.DEFAULT).get(0);
      assertEquals(3, c.logits.length);
      assertEquals(IDS.length, e.tokenClassify(List.of(Input.ids(IDS)), InputPolicy.DEFAULT).get(0).labels.length);
      assertEquals(IDS.length, e.answer(List.of(QaInput.ids(IDS)), 5, InputPolicy.DEFAULT).get(0).startLogits.length);
    }
    try (Engine lm = open(write("lm", TinyCheckpoints.spec()))) {
      assertNull(lm.info().sequenceLabels);
      assertNull(lm.info().tokenLabels);
      assertFalse(lm.info().hasQaHead);
      String cls = assertThrows(IllegalArgumentException.class,
          () -> lm.classify(List.of(Input.ids(IDS)), InputPolicy.DEFAULT)).getMessage();
      assertTrue(cls.contains("no sequence classification head") && cls.contains("score.weight")
          && cls.contains("zero-shot"), cls);
      String tok = assertThrows(IllegalArgumentException.class,
          () -> lm.tokenClassify(List.of(Input.ids(IDS)), InputPolicy.DEFAULT)).getMessage();
      assertTrue(tok.contains("classifier.weight"), tok);
      String qa = assertThrows(IllegalArgumentException.class,
          () -> lm.answer(List.of(QaInput.ids(IDS)), 5, InputPolicy.DEFAULT)).getMessage();
      assertTrue(qa.contains("qa_outputs.weight"), qa);
    }
  }

  @Test
  void tensorWithTheWrongShapeForTheConfig() {
    Spec spec = TinyCheckpoints.spec();
    ObjectNode config = TinyCheckpoints.config(spec).put("intermediate_size", 32); // the weights have 24
    Path dir = TinyCheckpoints.write(tmp.resolve("shape"), config, spec);
    String m = openFailure(dir);
    assertTrue(m.contains("'transformer.h.0.mlp.c_fc.weight'") && m.contains("[24, 16]") && m.contains("[32, 16]")
        && m.contains("config.json"), m);
  }

  @Test
  void missingTensorIsNamed() {
    Spec spec = TinyCheckpoints.spec();
    LinkedHashMap<String, Tensor> t = TinyCheckpoints.tensors(spec);
    t.remove("transformer.ln_f.bias");
    Path dir = tmp.resolve("incomplete");
    TinyCheckpoints.writeConfig(dir, TinyCheckpoints.config(spec));
    TinyCheckpoints.writeSafetensors(dir.resolve("model.safetensors"), t);
    String m = openFailure(dir);
    assertTrue(m.contains("no tensor 'ln_f.bias'") && m.contains("incomplete"), m);
  }

  @Test
  void integerTensorWhereAWeightBelongs() {
    Spec spec = TinyCheckpoints.spec();
    LinkedHashMap<String, Tensor> t = TinyCheckpoints.tensors(spec);
    t.put("transformer.ln_f.bias", new Tensor("I32", new long[] {16}, new byte[64]));
    Path dir = tmp.resolve("int-weight");
    TinyCheckpoints.writeConfig(dir, TinyCheckpoints.config(spec));
    TinyCheckpoints.writeSafetensors(dir.resolve("model.safetensors"), t);
    String m = openFailure(dir);
    assertTrue(m.contains("ln_f.bias") && m.contains("I32") && m.contains("F32, F16 or BF16"), m);
  }

  @Test
  void missingFolderConfigOrWeights() throws Exception {
    Path absent = tmp.resolve("absent");
    assertTrue(openFailure(absent).contains("does not exist"));

    Path noConfig = tmp.resolve("no-config");
    TinyCheckpoints.writeSafetensors(noConfig.resolve("model.safetensors"), TinyCheckpoints.tensors(TinyCheckpoints.spec()));
    String c = openFailure(noConfig);
    assertTrue(c.contains("no config.json in " + noConfig), c);

    Path noWeights = tmp.resolve("no-weights");
    TinyCheckpoints.writeConfig(noWeights, TinyCheckpoints.config(TinyCheckpoints.spec()));
    String w = openFailure(noWeights);
    assertTrue(w.contains("no weights in " + noWeights) && w.contains("model.safetensors"), w);
  }

  @Test
  void pytorchBinOnlyIsRefusedWithAConversionHintAndNeverRead() throws Exception {
    Path dir = tmp.resolve("pickle");
    TinyCheckpoints.writeConfig(dir, TinyCheckpoints.config(TinyCheckpoints.spec()));
    // Not a real pickle: the engine must refuse before reading a byte of it.
    Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 0x02, 'c', 'o', 's', '\n'});
    String m = openFailure(dir);
    assertTrue(m.contains("pytorch_model.bin") && m.contains("never loads") && m.contains("safe_serialization=True")
        && m.contains("model.safetensors"), m);
  }

  @Test
  void missingShardNamedByTheIndex() throws Exception {
    Path dir = write("shards", TinyCheckpoints.spec().with(s -> s.shards = 2));
    Files.delete(dir.resolve(TinyCheckpoints.shardName(1, 2)));
    String m = openFailure(dir);
    assertTrue(m.contains("names shard model-00002-of-00002.safetensors") && m.contains("missing")
        && m.contains("Download every shard"), m);
  }

  @Test
  void indexWithoutWeightMapOrPointingOutside() throws Exception {
    Path dir = write("index", TinyCheckpoints.spec().with(s -> s.shards = 2));
    Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {}}");
    assertTrue(openFailure(dir).contains("no \"weight_map\""));
    Files.writeString(dir.resolve("model.safetensors.index.json"),
        "{\"weight_map\": {\"wte.weight\": \"../elsewhere.safetensors\"}}");
    assertTrue(openFailure(dir).contains("outside the model folder"));
    Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": ");
    assertTrue(openFailure(dir).contains("not valid JSON"));
  }

  @Test
  void corruptWeightsFileFailsTheLoad() throws Exception {
    Path dir = write("corrupt", TinyCheckpoints.spec());
    byte[] all = Files.readAllBytes(dir.resolve("model.safetensors"));
    Files.write(dir.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length / 2));
    String m = openFailure(dir);
    assertTrue(m.contains("corrupt safetensors file") && m.contains("truncated"), m);
  }

  @Test
  void folderWithoutTokenizerWorksOnIdsAndNamesTheMissingTokenizerForText() {
    Path dir = write("no-tokenizer", TinyCheckpoints.spec());
    try (Engine e = open(dir)) {
      assertTrue(e.tokenizer().isEmpty());
      assertFalse(e.info().hasTokenizer);
      List<GenerateResult> g = e.generate(List.of(Input.ids(IDS), Input.text("hello")),
          GenerationParams.builder().maxNewTokens(3).build(), InputPolicy.DEFAULT);
      assertNull(g.get(0).error);
      assertNull(g.get(0).text, "no tokenizer: no text");
      assertEquals(3, g.get(0).completionIds.length);
      String m = g.get(1).error;
      assertNotNull(m);
      assertTrue(m.contains("no tokenizer") && m.contains("vocab.json + merges.txt, or tokenizer.json")
          && m.contains("input_ids"), m);
      assertTrue(e.score(List.of(Input.text("x")), InputPolicy.DEFAULT).get(0).error.contains("no tokenizer"));
      assertTrue(e.embed(List.of(Input.text("x")), InputPolicy.DEFAULT).get(0).error.contains("no tokenizer"));
      assertTrue(e.tokenize(List.of(Input.text("x")), InputPolicy.DEFAULT).get(0).error.contains("no tokenizer"));
      assertArrayEquals(IDS, e.tokenize(List.of(Input.ids(IDS)), InputPolicy.DEFAULT).get(0).inputIds);
      String zs = assertThrows(IllegalArgumentException.class,
          () -> e.classifyZeroShot(List.of(Input.ids(IDS)), List.of("a", "b"), InputPolicy.DEFAULT)).getMessage();
      assertTrue(zs.contains("no tokenizer"), zs);
      GenerateResult stop = e.generate(List.of(Input.ids(IDS)),
          GenerationParams.builder().maxNewTokens(3).addStopString("x").build(), InputPolicy.DEFAULT).get(0);
      assertTrue(stop.error.contains("stop strings need a tokenizer"), stop.error);
    }
  }

  @Test
  void halfWrittenTokenizerIsAnError() throws Exception {
    Path dir = write("half-tokenizer", TinyCheckpoints.spec());
    Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
    Exception e = assertThrows(RuntimeException.class, () -> open(dir).close());
    assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
  }
}
