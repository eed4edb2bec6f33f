package dev.gptneo.engine.ops.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.HfGenerateGoldenTest;
import dev.gptneo.engine.testing.Goldens;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HF transformers' own generate() (HfGenerateGoldenTest's 23 settings on the demo model) on the GPU: in
 * fp32 with the CPU's tolerance, beams included; in the checkpoint's fp16 up to each prompt's first step
 * whose margin is within twice the demo's fp16 logit tolerance (CudaGoldenTest.TOL_DEMO_F16). Covers the
 * device bans and the host choice the processors take there. Skips without a GPU.
 */
class CudaHfGenerateGoldenTest {
  private static final Map<String, Engine> ENGINES = new HashMap<>();

  @TempDir
  Path dir;

  private static synchronized Engine engine(String precision) {
    Engine e = ENGINES.get(precision);
    if (e == null) {
      e = CudaGoldenTest.engine(Goldens.demoModel(), precision); // skips without a GPU
      ENGINES.put(precision, e);
    }
    return e;
  }

  @AfterAll
  static synchronized void close() {
    ENGINES.values().forEach(Engine::close);
    ENGINES.clear();
  }

  @ParameterizedTest(name = "{0} fp32")
  @MethodSource("dev.gptneo.engine.api.HfGenerateGoldenTest#cases")
  void fp32(String name, JsonNode c) throws IOException {
    HfGenerateGoldenTest.check(engine("f32"), name, c, dir, CudaGoldenTest.TOL_F32);
  }

  @ParameterizedTest(name = "{0} fp16")
  @MethodSource("dev.gptneo.engine.api.HfGenerateGoldenTest#cases")
  void fp16(String name, JsonNode c) throws IOException {
    HfGenerateGoldenTest.check(engine("auto"), name, c, dir, CudaGoldenTest.TOL_DEMO_F16);
  }
}
