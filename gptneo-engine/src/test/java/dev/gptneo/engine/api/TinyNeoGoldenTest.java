package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.FinishReason;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.weights.SafetensorsFile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The engine against HF's outputs for tiny-neo (window 8, so the local layers matter), with the
 * Vector API kernels and with the scalar reference forced.
 */
class TinyNeoGoldenTest {
  static SafetensorsFile golden;

  @BeforeAll
  static void load() {
    golden = Goldens.tensors("golden/tiny-neo/golden.safetensors");
  }

  static Engine engine(String head, Engines.Path3 kernels) {
    return Engines.get(Goldens.path("golden/tiny-neo/" + head), kernels);
  }

  static int[] ids(String name) {
    return golden.get(name).toIntArray();
  }

  static List<Input> prompts() {
    List<Input> in = new ArrayList<>();
    for (int p = 0; p < 4; p++) {
      in.add(Input.ids(ids("forward." + p + ".input_ids")));
    }
    return in;
  }

  static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void greedyAloneAndAsOneBatch(Engines.Path3 kernels) {
    Engine lm = engine("causal-lm", kernels);
    GenerationParams params = GenerationParams.builder().maxNewTokens(60).build();
    List<GenerateResult> batch = lm.generate(prompts(), params, InputPolicy.DEFAULT);
    for (int p = 0; p < 4; p++) {
      int[] expected = ids("greedy." + p + ".output_ids");
      GenerateResult alone = lm.generate(List.of(prompts().get(p)), params, InputPolicy.DEFAULT).get(0);
      int[] prompt = ids("forward." + p + ".input_ids");
      assertArrayEquals(expected, concat(prompt, alone.completionIds), "prompt " + p + " alone");
      assertArrayEquals(expected, concat(prompt, batch.get(p).completionIds), "prompt " + p + " in a batch");
      boolean endedOnEos = alone.completionIds[alone.completionIds.length - 1] == 999;
      assertEquals(endedOnEos ? FinishReason.EOS : FinishReason.LENGTH, alone.finishReason);
      assertEquals(prompt.length, alone.promptTokens);
    }
  }

  /**
   * HF's beam search (num_beams 4, 24 new tokens, length_penalty 1, early_stopping false) on
   * prompt 1: the same ids, alone and beside a greedy row and another beam search.
   */
  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void beamSearchOfFourBeams(Engines.Path3 kernels) {
    Engine lm = engine("causal-lm", kernels);
    GenerationParams beams = GenerationParams.builder().numBeams(4).maxNewTokens(24).build();
    int[] prompt = ids("forward.1.input_ids");
    int[] expected = ids("beam4.output_ids");
    long fedBefore = lm.scheduler().tokensFed.get();
    GenerateResult alone = lm.generate(List.of(Input.ids(prompt)), beams, InputPolicy.DEFAULT).get(0);
    assertArrayEquals(expected, concat(prompt, alone.completionIds), "beam4 on prompt 1");
    long fed = lm.scheduler().tokensFed.get() - fedBefore; // each beam keeps a KV cache: one token per step
    assertTrue(fed <= prompt.length + 4L * 24, "tokens through the model: " + fed);
    List<GenerateResult> mixed = lm.generate(List.of(prompts().get(0), Input.ids(prompt), prompts().get(2)),
        List.of(GenerationParams.builder().maxNewTokens(10).build(), beams, beams.toBuilder().numBeams(3).build()),
        InputPolicy.DEFAULT);
    assertArrayEquals(alone.completionIds, mixed.get(1).completionIds, "beam search beside other rows");
    assertArrayEquals(Arrays.copyOf(ids("greedy.0.output_ids"), prompt(0).length + 10),
        concat(prompt(0), mixed.get(0).completionIds), "a greedy row beside beam searches");
    assertEquals(expected[expected.length - 1] == 999 ? FinishReason.EOS : FinishReason.LENGTH, alone.finishReason);
  }

  private static int[] prompt(int p) {
    return ids("forward." + p + ".input_ids");
  }

  /** HF's left-padded batch: strip the padding by the attention mask, run as one ragged batch. */
  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void leftPaddedBatchGolden(Engines.Path3 kernels) {
    int[] padded = ids("greedy_batch.left_padded_input_ids");
    int[] mask = ids("greedy_batch.attention_mask");
    int[] outputs = ids("greedy_batch.output_ids");
    int width = padded.length / 4;
    int outWidth = outputs.length / 4;
    List<Input> in = new ArrayList<>();
    for (int b = 0; b < 4; b++) {
      List<Integer> real = new ArrayList<>();
      for (int t = 0; t < width; t++) {
        if (mask[b * width + t] == 1) {
          real.add(padded[b * width + t]);
        }
      }
      in.add(Input.ids(real.stream().mapToInt(Integer::intValue).toArray()));
    }
    List<GenerateResult> results = engine("causal-lm", kernels)
        .generate(in, GenerationParams.builder().maxNewTokens(60).build(), InputPolicy.DEFAULT);
    for (int b = 0; b < 4; b++) {
      int[] completion = results.get(b).completionIds;
      for (int t = 0; t < completion.length; t++) {
        assertEquals(outputs[b * outWidth + width + t], completion[t], "row " + b + " token " + t);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void repetitionPenaltyAndNoRepeatNgram(Engines.Path3 kernels) {
    GenerationParams params = GenerationParams.builder().maxNewTokens(60).repetitionPenalty(1.3)
        .noRepeatNgramSize(3).build();
    GenerateResult r = engine("causal-lm", kernels).generate(List.of(prompts().get(1)), params, InputPolicy.DEFAULT)
        .get(0);
    assertArrayEquals(ids("penalties.output_ids"), concat(ids("forward.1.input_ids"), r.completionIds));
  }

  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void sequenceClassificationAloneAndRightPaddedBatch(Engines.Path3 kernels) {
    Engine e = engine("seq-cls", kernels);
    List<ClassifyResult> results = e.classify(prompts(), InputPolicy.DEFAULT);
    float[] batchLogits = golden.get("seq_cls_batch.logits").toFloatArray();
    for (int p = 0; p < 4; p++) {
      float[] expected = golden.get("seq_cls." + p + ".logits").toFloatArray();
      assertClose(expected, results.get(p).logits, 1e-4, "seq_cls " + p);
      assertClose(Arrays.copyOfRange(batchLogits, 3 * p, 3 * p + 3), results.get(p).logits, 1e-4, "batch " + p);
      assertEquals(List.of("neg", "neu", "pos"), new ArrayList<>(results.get(p).probabilities.keySet()));
    }
  }

  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void tokenClassificationLogits(Engines.Path3 kernels) {
    List<TokenClassifyResult> results = engine("token-cls", kernels).tokenClassify(prompts(), InputPolicy.DEFAULT);
    for (int p = 0; p < 4; p++) {
      float[] expected = golden.get("token_cls." + p + ".logits").toFloatArray();
      float[][] got = results.get(p).logits;
      for (int t = 0; t < got.length; t++) {
        assertClose(Arrays.copyOfRange(expected, 5 * t, 5 * t + 5), got[t], 1e-4, "token_cls " + p + " token " + t);
        assertTrue(results.get(p).labels[t].startsWith("LABEL_"));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void questionAnsweringStartEndLogits(Engines.Path3 kernels) {
    List<QaInput> in = new ArrayList<>();
    for (int p = 0; p < 4; p++) {
      in.add(QaInput.ids(ids("forward." + p + ".input_ids")));
    }
    List<AnswerResult> results = engine("qa", kernels).answer(in, 30, InputPolicy.DEFAULT);
    for (int p = 0; p < 4; p++) {
      AnswerResult r = results.get(p);
      assertClose(golden.get("qa." + p + ".start_logits").toFloatArray(), r.startLogits, 1e-4, "start " + p);
      assertClose(golden.get("qa." + p + ".end_logits").toFloatArray(), r.endLogits, 1e-4, "end " + p);
      assertTrue(r.startToken <= r.endToken && r.endToken - r.startToken < 30);
      assertTrue(r.score > 0 && r.score <= 1);
    }
  }

  /** A prompt split into many steps (token budget 16) gives the same tokens. */
  @ParameterizedTest
  @EnumSource(names = {"SCALAR", "VECTOR"})
  void chunkedPrefillGivesTheSameGreedyTokens(EngineOptions.Kernels kernels) {
    try (Engine small = Engine.open(Goldens.path("golden/tiny-neo/causal-lm"),
        EngineOptions.builder().threads(2).kernels(kernels).maxBatchTokens(16).maxBatchSequences(3).build())) {
      List<GenerateResult> results = small.generate(prompts(), GenerationParams.builder().maxNewTokens(60).build(),
          InputPolicy.DEFAULT);
      for (int p = 0; p < 4; p++) {
        assertArrayEquals(ids("greedy." + p + ".output_ids"),
            concat(ids("forward." + p + ".input_ids"), results.get(p).completionIds), "prompt " + p);
      }
    }
  }

  static void assertClose(float[] expected, float[] got, double tol, String what) {
    assertEquals(expected.length, got.length, what + ": length");
    double maxErr = 0;
    for (int i = 0; i < expected.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(expected[i] - got[i]));
    }
    assertTrue(maxErr <= tol, what + ": max |err| " + maxErr + " > " + tol);
  }
}
