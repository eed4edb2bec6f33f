package dev.gptneo.engine.api;

import static dev.gptneo.engine.api.GenerationTest.demo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.generate.GenerationDefaults;
import dev.gptneo.engine.generate.GenerationParams;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HF transformers' own generate() on the demo model (goldens/hf_generate.json, made by hf_generate.py beside
 * it with transformers 5.17 on the CPU in fp32): each processor, warper-free setting, length rule, stop
 * string and beam search setting gptneo implements, taken as HF kwargs through a generation_config.json, as
 * users give them. Tolerances come from the demo goldens' logit agreement with HF, 1e-3
 * (DemoGoldenTest's 604 emails): a choice can flip only where the top-2 margin is below twice that, so
 * greedy ids are compared up to the first such step (none is, in this file; the smallest margin is 0.0046),
 * and a log-probability, a logit minus a log-sum-exp, may differ by twice that (seen: 2.2e-4). Beams compare
 * every returned sequence.
 */
public class HfGenerateGoldenTest {
  /** The CPU's logit agreement with HF (and the GPU's in fp32: CudaGoldenTest.TOL_F32). */
  public static final double LOGIT_ERROR = 1e-3;
  private static final JsonNode GOLDEN = read();

  @TempDir
  Path dir;

  private static JsonNode read() {
    try (InputStream in = HfGenerateGoldenTest.class.getResourceAsStream("/goldens/hf_generate.json")) {
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** (name, case) of every case in the golden. */
  public static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    GOLDEN.get("cases").forEach(c -> out.add(Arguments.of(c.get("name").asText(), c)));
    return out.stream();
  }

  /** The case's HF kwargs as a generation_config.json over the demo model's own eos, read as users' files are. */
  private static GenerationParams params(JsonNode c, Path dir) throws IOException {
    ObjectNode file = ((ObjectNode) c.get("kwargs")).deepCopy();
    boolean logprobs = file.path("logprobs").asBoolean(false);
    file.remove("logprobs");
    int returned = file.path("num_return_sequences").asInt(1);
    file.remove("num_return_sequences"); // a call's choice in gptneo, not the file's
    file.remove("stop_strings");
    if (!file.has("max_new_tokens")) {
      file.put("max_new_tokens", GOLDEN.get("default_max_new_tokens").asInt());
    }
    if (!file.has("eos_token_id")) {
      file.put("eos_token_id", 50256); // the demo model's generation config (from its config.json) in HF
    }
    Files.writeString(dir.resolve(GenerationDefaults.FILE), file.toString());
    GenerationDefaults defaults = GenerationDefaults.load(dir);
    assertEquals(List.of(), defaults.ignored, "every setting applies");
    GenerationParams.Builder b = defaults.params.toBuilder().logprobs(logprobs).numReturnSequences(returned);
    c.get("kwargs").path("stop_strings").forEach(s -> b.addStopString(s.asText()));
    return b.build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void generateGivesHfsTokens(String name, JsonNode c) throws IOException {
    check(demo(), name, c, dir, LOGIT_ERROR);
  }

  /**
   * Runs one case on {@code engine} (the demo model) and compares with HF, for an engine whose logits are
   * within {@code logitError} of HF's: greedy ids up to the first step with a top-2 margin below twice that,
   * log-probabilities within twice that; beam search only where it is the CPU's 1e-3 (beam scores are sums).
   */
  public static void check(Engine engine, String name, JsonNode c, Path dir, double logitError) throws IOException {
    GenerationParams params = params(c, dir);
    double tie = 2 * logitError;
    for (JsonNode r : c.get("results")) {
      int[] prompt = DemoGoldenTest.ints(r.get("prompt_ids"));
      String of = prompt.length <= 16 ? " of prompt " + r.get("prompt_ids")
          : " of the " + prompt.length + "-token prompt";
      GenerateResult got = engine.generate(List.of(Input.ids(prompt)), params, InputPolicy.DEFAULT).get(0);
      assertTrue(got.ok(), name + ": " + got.error);
      if (r.has("sequences")) {
        if (logitError > LOGIT_ERROR) {
          continue;
        }
        List<GenerateResult> beams = got.sequences.isEmpty() ? List.of(got) : got.sequences;
        assertEquals(r.get("sequences").size(), beams.size(), name);
        for (int i = 0; i < beams.size(); i++) {
          assertArrayEquals(DemoGoldenTest.ints(r.get("sequences").get(i)), beams.get(i).completionIds,
              name + " beam " + i + of);
        }
        continue;
      }
      int[] want = DemoGoldenTest.ints(r.get("completion_ids"));
      int compared = 0;
      while (compared < want.length && r.get("step_margins").get(compared).asDouble() > tie) {
        compared++;
      }
      // a near-tie step may choose either token, and what follows it then differs: compare the steps before it
      assertTrue(got.completionIds.length >= compared, name + ": " + got.completionIds.length + " tokens");
      for (int i = 0; i < compared; i++) {
        assertEquals(want[i], got.completionIds[i], name + " token " + i + of);
      }
      if (compared == want.length) {
        assertEquals(want.length, got.completionIds.length, name + ": ends where HF ends");
      }
      if (r.has("token_logprobs")) {
        for (int i = 0; i < compared; i++) {
          assertEquals(r.get("token_logprobs").get(i).asDouble(), got.tokenLogprobs[i], 2 * logitError,
              name + " logprob " + i);
        }
      }
    }
  }
}
