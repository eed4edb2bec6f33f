package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.api.ClassifyResult;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Goldens;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * On a GPU: the work that continues from device copies of a KV cache (kv_copy) gives the CPU's
 * results, and so do scores (the device's token_logprobs). The demo model runs in fp32 on the device (gptneo.cuda.precision=f32), so its logits
 * are the CPU's within {@link CudaGoldenTest#TOL_F32}; a label's summed log-probabilities then
 * within 2 x that per token (a log-softmax moves by at most twice its logits' error), and tokens
 * agree except where a top-2 margin is that small: one row in a test may part.
 */
class CudaKeptCachesTest {
  private static final String TEMPLATE = "You label emails for a bank. Answer with one word, spam or ham, and nothing"
      + " else. Email: ";

  @Test
  void zeroShotLabelsContinueFromCopiesOfTheText() {
    List<Input> emails = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      emails.add(Input.text("Email " + i + ": " + "win a free cruise, reply now to claim it. ".repeat(1 + 3 * i)));
    }
    List<String> labels = List.of("spam", "a normal email from a colleague", "an invoice to pay");
    InputPolicy policy = new InputPolicy(256, dev.gptneo.engine.api.Truncation.RIGHT);
    List<ClassifyResult> gpu;
    try (Engine e = CudaGoldenTest.engine(Goldens.demoModel(), "f32")) {
      gpu = e.classifyZeroShot(emails, labels, policy);
    }
    List<ClassifyResult> cpu;
    try (Engine e = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(2).build())) {
      cpu = e.classifyZeroShot(emails, labels, policy);
      double worst = 0;
      for (int i = 0; i < emails.size(); i++) {
        assertNull(gpu.get(i).error);
        for (int j = 0; j < labels.size(); j++) {
          int tokens = e.tokenizer().orElseThrow().encode(" " + labels.get(j)).length;
          double err = Math.abs(cpu.get(i).logits[j] - gpu.get(i).logits[j]);
          worst = Math.max(worst, err / tokens);
          assertTrue(err <= 2 * tokens * CudaGoldenTest.TOL_F32, "row " + i + " label " + j + ": " + err);
        }
      }
      System.out.printf(Locale.ROOT, "GPU golden: demo fp32 zero-shot labels from cache copies vs the CPU: max |score"
          + " difference| per label token %.3g%n", worst);
    }
  }

  /**
   * Scores (every token's log-probability, token_logprobs on the device) against the CPU's: within
   * 2 x TOL_F32 a token, as the labels above.
   */
  @Test
  void scoresOnTheDeviceAreTheCpus() {
    List<Input> texts = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      texts.add(Input.text("Email " + i + ": " + "the quarterly report is attached, call me. ".repeat(1 + 4 * i)));
    }
    InputPolicy policy = new InputPolicy(256, dev.gptneo.engine.api.Truncation.RIGHT);
    List<dev.gptneo.engine.api.ScoreResult> gpu;
    try (Engine e = CudaGoldenTest.engine(Goldens.demoModel(), "f32")) {
      gpu = e.score(texts, policy);
    }
    List<dev.gptneo.engine.api.ScoreResult> cpu;
    try (Engine e = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(2).build())) {
      cpu = e.score(texts, policy);
    }
    double worst = 0;
    for (int i = 0; i < texts.size(); i++) {
      assertNull(gpu.get(i).error);
      double[] want = cpu.get(i).tokenLogprobs;
      double[] got = gpu.get(i).tokenLogprobs;
      assertEquals(want.length, got.length);
      for (int t = 0; t < want.length; t++) {
        worst = Math.max(worst, Math.abs(want[t] - got[t]));
      }
    }
    System.out.printf(Locale.ROOT, "GPU golden: demo fp32 scores (token_logprobs) vs the CPU: max |difference| %.3g%n",
        worst);
    assertTrue(worst <= 2 * CudaGoldenTest.TOL_F32, "token log-probabilities: " + worst);
  }

  @Test
  void sharedPromptStartsAndBeamsContinueFromCopies() {
    List<Input> prompts = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      prompts.add(Input.text(TEMPLATE + "meeting moved to " + (3 + i) + " pm, bring the slides."));
    }
    GenerationParams greedy = GenerationParams.builder().maxNewTokens(12).build();
    GenerationParams beams = GenerationParams.builder().numBeams(3).maxNewTokens(10).build();
    List<GenerateResult> gpuGreedy;
    List<GenerateResult> gpuBeams;
    long fed;
    try (Engine e = CudaGoldenTest.engine(Goldens.demoModel(), "f32")) {
      long before = e.scheduler().tokensFed.get();
      gpuGreedy = e.generate(prompts, greedy, InputPolicy.DEFAULT);
      fed = e.scheduler().tokensFed.get() - before;
      gpuBeams = e.generate(prompts.subList(0, 3), beams, InputPolicy.DEFAULT);
    }
    try (Engine e = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(2).build())) {
      int promptTokens = 0;
      for (Input p : prompts) {
        promptTokens += e.tokenizer().orElseThrow().encode(p.text()).length;
      }
      assertTrue(fed < promptTokens, "the template ran once: " + fed + " tokens fed for " + promptTokens
          + " prompt tokens");
      List<String> parted = parted("greedy", e.generate(prompts, greedy, InputPolicy.DEFAULT), gpuGreedy);
      parted.addAll(parted("beams", e.generate(prompts.subList(0, 3), beams, InputPolicy.DEFAULT), gpuBeams));
      System.out.printf(Locale.ROOT, "GPU golden: demo fp32 shared starts and beam search from cache copies: rows"
          + " unlike the CPU's %s%n", parted);
      assertTrue(parted.size() <= 1, "rows whose tokens leave the CPU's: " + parted);
    }
  }

  private static List<String> parted(String what, List<GenerateResult> want, List<GenerateResult> got) {
    List<String> parted = new ArrayList<>();
    for (int i = 0; i < want.size(); i++) {
      assertNull(got.get(i).error);
      if (!java.util.Arrays.equals(want.get(i).completionIds, got.get(i).completionIds)) {
        parted.add(what + " row " + i);
      }
    }
    return parted;
  }
}
