package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.weights.Checkpoint;
import dev.gptneo.engine.weights.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HF goldens at GPT-Neo's real head sizes (64 and 128, which the attention kernels specialise on),
 * made on the device by device/hf_golden.py in the same run: random fp16 checkpoints of two layers
 * (global, local; window 256) and prompts of 600, 300 and 37 tokens. In fp16 the logits of every
 * position must be within the tolerance the script derived (twice a float64 rounding estimate, for
 * the attention kernel that runs: gptneo.cuda.prefillAttention), and greedy tokens must be HF's up
 * to the first step whose HF margin is below twice that. Needs a GPU and
 * -Dgptneo.deviceGoldens=DIR (device/gpu-checks.sh sets both); skipped otherwise.
 */
class CudaWideGoldenTest {
  static final String GOLDENS_PROPERTY = "gptneo.deviceGoldens";

  private static Path folder(String name) {
    String root = System.getProperty(GOLDENS_PROPERTY);
    assumeTrue(root != null && Files.isDirectory(Path.of(root, name)),
        "no device goldens (-D" + GOLDENS_PROPERTY + "=DIR, made by device/hf_golden.py)");
    assumeTrue(CudaSupport.available(), "no usable GPU: " + CudaSupport.reason());
    return Path.of(root, name);
  }

  /** The fp16 tolerance hf_golden.py derived for the prefill attention kernel this JVM runs. */
  private static double tolerance(Path folder) throws IOException {
    JsonNode golden = new ObjectMapper().readTree(folder.resolve("golden.json").toFile());
    String kernel = CudaKernels.prefillAttention();
    return golden.get("tolerance_f16").get(kernel).asDouble();
  }

  @ParameterizedTest
  @ValueSource(strings = {"wide64", "wide128"})
  void logitsOfEveryPositionF16(String name) throws IOException {
    Path folder = folder(name);
    Path dir = folder.resolve("causal-lm");
    SafetensorsFile golden = SafetensorsFile.open(folder.resolve("golden.safetensors"));
    double tol = tolerance(folder);
    GptNeoConfig config = GptNeoConfig.load(dir);
    double maxErr = 0;
    try (CudaOps ops = new CudaOps(new DriverGpu(0), null)) {
      GptNeoWeights w = new GptNeoWeights(config, Checkpoint.open(dir), ops);
      GptNeoModel model = new GptNeoModel(config, w, ops, 1024, 4);
      for (int p = 0; golden.tensors().containsKey("forward." + p + ".input_ids"); p++) {
        maxErr = Math.max(maxErr, CudaGoldenTest.maxLogitError(model, golden, p));
      }
    }
    System.out.printf(Locale.ROOT, "GPU golden: %s f16 (%s attention) max |logit error| %.4g, tolerance %.4g%n", name,
        CudaKernels.prefillAttention(), maxErr, tol);
    assertTrue(maxErr <= tol, name + ": max logit error " + maxErr + " above " + tol);
  }

  @ParameterizedTest
  @ValueSource(strings = {"wide64", "wide128"})
  void greedyTokensWhereTheMarginAllowsF16(String name) throws IOException {
    Path folder = folder(name);
    SafetensorsFile golden = SafetensorsFile.open(folder.resolve("golden.safetensors"));
    double tol = tolerance(folder);
    try (Engine e = CudaGoldenTest.engine(folder.resolve("causal-lm"), "auto")) {
      for (int p = 0; golden.tensors().containsKey("greedy." + p + ".output_ids"); p++) {
        int[] prompt = golden.get("forward." + p + ".input_ids").toIntArray();
        int[] all = golden.get("greedy." + p + ".output_ids").toIntArray();
        float[] margins = golden.get("greedy." + p + ".step_margins").toFloatArray();
        GenerateResult r = e.generate(List.of(Input.ids(prompt)),
            GenerationParams.builder().maxNewTokens(margins.length).build(), InputPolicy.DEFAULT).get(0);
        assertNull(r.error, "row error");
        double[] m = new double[margins.length];
        for (int s = 0; s < m.length; s++) {
          m[s] = margins[s];
        }
        CudaGoldenTest.checkUpToAmbiguity(name + " f16 prompt " + p + " (" + prompt.length + " tokens)",
            Arrays.copyOfRange(all, prompt.length, all.length), r.completionIds, m, 2 * tol);
      }
    }
  }
}
