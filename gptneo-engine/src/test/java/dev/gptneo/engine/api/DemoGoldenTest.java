package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The embedded demo model (fp16 weights, fp32 compute) against HF's outputs in demo_golden.json. */
class DemoGoldenTest {
  static JsonNode golden;

  @BeforeAll
  static void load() throws IOException {
    golden = new ObjectMapper().readTree(Goldens.path("golden/demo_golden.json").toFile());
  }

  static Engine engine(Engines.Path3 kernels) {
    return Engines.get(Goldens.demoModel(), kernels);
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  static int[] completion(JsonNode g) {
    int[] all = ints(g.get("output_ids"));
    int promptLen = g.has("prompt_ids") ? g.get("prompt_ids").size() : -1;
    return java.util.Arrays.copyOfRange(all, promptLen, all.length);
  }

  /** All 8 prompts as one batch: ids and text equal HF's greedy output (and so the solo output). */
  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void greedyIdsAndTextForAllPrompts(Engines.Path3 kernels) {
    Engine e = engine(kernels);
    List<Input> in = new ArrayList<>();
    for (JsonNode g : golden.get("greedy")) {
      in.add(Input.text(g.get("prompt").asText()));
    }
    int newTokens = golden.get("greedy").get(0).get("step_top2_margin").size();
    List<GenerateResult> results = e.generate(in, GenerationParams.builder().maxNewTokens(newTokens).build(),
        InputPolicy.DEFAULT);
    for (int i = 0; i < in.size(); i++) {
      JsonNode g = golden.get("greedy").get(i);
      int[] expected = completion(g);
      assertArrayEquals(ints(g.get("prompt_ids")), e.tokenize(List.of(in.get(i)), InputPolicy.DEFAULT).get(0).inputIds);
      assertArrayEquals(expected, results.get(i).completionIds, "prompt " + i + " (" + g.get("prompt").asText() + ")");
      assertEquals(g.get("text").asText(), g.get("prompt").asText() + results.get(i).text);
    }
  }

  @ParameterizedTest
  @EnumSource(Engines.Path3.class)
  void penalizedIdsAndText(Engines.Path3 kernels) {
    Engine e = engine(kernels);
    List<Input> in = new ArrayList<>();
    Map<Integer, int[]> promptIds = new HashMap<>();
    for (int i = 0; i < golden.get("penalized").size(); i++) {
      JsonNode g = golden.get("penalized").get(i);
      in.add(Input.text(g.get("prompt").asText()));
      promptIds.put(i, ints(golden.get("greedy").get(i).get("prompt_ids")));
    }
    JsonNode first = golden.get("penalized").get(0);
    GenerationParams params = GenerationParams.builder()
        .maxNewTokens(first.get("output_ids").size() - promptIds.get(0).length)
        .repetitionPenalty(first.get("repetition_penalty").asDouble())
        .noRepeatNgramSize(first.get("no_repeat_ngram_size").asInt()).build();
    List<GenerateResult> results = e.generate(in, params, InputPolicy.DEFAULT);
    for (int i = 0; i < in.size(); i++) {
      JsonNode g = golden.get("penalized").get(i);
      int[] all = ints(g.get("output_ids"));
      int[] expected = java.util.Arrays.copyOfRange(all, promptIds.get(i).length, all.length);
      assertArrayEquals(expected, results.get(i).completionIds, "penalized prompt " + i);
      assertEquals(g.get("text").asText(), g.get("prompt").asText() + results.get(i).text);
    }
  }

  @Test
  void tokenLogprobs() {
    JsonNode s = golden.get("score");
    ScoreResult r = engine(Engines.Path3.PACKED).score(List.of(Input.ids(ints(s.get("input_ids")))),
        InputPolicy.DEFAULT).get(0);
    JsonNode expected = s.get("token_logprobs");
    assertEquals(expected.size(), r.tokenLogprobs.length);
    for (int i = 0; i < expected.size(); i++) {
      // the golden is rounded to 5 decimals
      assertEquals(expected.get(i).asDouble(), r.tokenLogprobs[i], 1e-4, "token " + i);
    }
  }

  /** All 604 validation emails: logits within 1e-3 of HF, accuracy 0.9636 as HF measured. */
  @Test
  void spamClassificationOfTheValidationSplit() throws IOException {
    JsonNode rows = golden.get("classify").get("val").get("rows");
    List<Input> in = Goldens.validationEmails(rows);
    List<ClassifyResult> results = engine(Engines.Path3.PACKED)
        .classify(in, new InputPolicy(256, Truncation.RIGHT));
    int correct = 0;
    double maxErr = 0;
    for (int i = 0; i < rows.size(); i++) {
      JsonNode row = rows.get(i);
      ClassifyResult r = results.get(i);
      for (int j = 0; j < 2; j++) {
        maxErr = Math.max(maxErr, Math.abs(row.get("logits").get(j).asDouble() - r.logits[j]));
      }
      if (r.label.equals(row.get("label").asText())) {
        correct++;
      }
    }
    assertTrue(maxErr <= 1e-3, "max logit error " + maxErr);
    assertEquals(golden.get("classify").get("val").get("accuracy").asDouble(), correct / (double) rows.size(), 1e-9);
  }
}
