package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.ops.Backends;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.testing.Goldens;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Without a usable GPU (developers' machines, CI) the CUDA backend says why and the engine runs
 * on the CPU: device auto falls back, device cuda fails with the reason. Skipped where CUDA works.
 */
class CudaSupportTest {
  static boolean driverInstalled() {
    for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu"}) {
      if (Files.exists(Paths.get(dir, "libcuda.so.1"))) {
        return true;
      }
    }
    String ld = System.getenv("LD_LIBRARY_PATH");
    for (String dir : ld == null ? new String[0] : ld.split(":")) {
      if (!dir.isEmpty() && Files.exists(Paths.get(dir, "libcuda.so.1"))) {
        return true;
      }
    }
    return false;
  }

  @Test
  void withoutADriverTheReasonSaysSoAndNothingThrows() {
    assumeFalse(CudaSupport.available(), "CUDA works here");
    String reason = CudaSupport.reason();
    assertNotNull(reason);
    assertNull(CudaSupport.device());
    if (!driverInstalled()) {
      assertEquals("no CUDA driver (libcuda.so.1 not found)", reason);
    }
    assertEquals(reason, CudaSupport.reason(), "checked once, same answer");
  }

  @Test
  void loadingFailuresBecomeReasons() {
    assertEquals("no CUDA driver (libcuda.so.1 not found)", CudaSupport.explain(
        new UnsatisfiedLinkError("/root/.javacpp/cache/x/libjnicudart.so: libcuda.so.1: cannot open shared object file")));
    NoClassDefFoundError later = new NoClassDefFoundError("Could not initialize class org.bytedeco.cuda.global.cudart");
    later.initCause(new ExceptionInInitializerError(new UnsatisfiedLinkError("libcuda.so.1: cannot open")));
    assertEquals("no CUDA driver (libcuda.so.1 not found)", CudaSupport.explain(later));
    String blas = CudaSupport.explain(new UnsatisfiedLinkError("libcublas.so.13: cannot open shared object file"));
    assertTrue(blas.startsWith("CUDA library libcublas not found") && blas.contains("LD_LIBRARY_PATH"), blas);
    assertTrue(CudaSupport.explain(new NoClassDefFoundError("org/bytedeco/cuda/global/cudart"))
        .contains("bytedeco CUDA jars"));
    assertTrue(CudaSupport.explain(new IllegalStateException("odd")).contains("odd"));
  }

  @Test
  void backendsFallBackOrRefuse() {
    assumeFalse(CudaSupport.available(), "CUDA works here");
    try (Ops auto = Backends.create(EngineOptions.builder().threads(1).device("auto").build(), 1 << 20)) {
      assertTrue(auto.name().startsWith("cpu"), auto.name());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Backends.create(EngineOptions.builder().threads(1).device("cuda").build(), 1 << 20));
    assertTrue(e.getMessage().contains("cuda") && e.getMessage().contains(CudaSupport.reason()), e.getMessage());
    assertThrows(IllegalStateException.class, () -> CudaBackend.create(0));
  }

  @Test
  void engineOnTheDemoModel() {
    assumeFalse(CudaSupport.available(), "CUDA works here");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(1).device("cuda").build()));
    assertTrue(e.getMessage().contains("device 'cuda' is not available: " + CudaSupport.reason()), e.getMessage());
    try (Engine engine = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(2).device("auto").build())) {
      assertTrue(engine.info().backend.startsWith("cpu"), engine.info().backend);
      GenerateResult r = engine.generate(List.of(Input.text("Hello")), GenerationParams.builder().maxNewTokens(3)
          .build(), InputPolicy.DEFAULT).get(0);
      assertEquals(3, r.completionIds.length);
    }
  }

  @Test
  void precisionNames() {
    assertNull(Precision.parse("auto"));
    assertEquals(Precision.BF16, Precision.parse("BF16"));
    assertEquals(Precision.F32, Precision.parse("fp32"));
    assertThrows(IllegalArgumentException.class, () -> Precision.parse("f8"));
    assertEquals(Precision.BF16, Precision.forCheckpoint(dev.gptneo.engine.weights.DType.F32));
    assertEquals(Precision.F16, Precision.forCheckpoint(dev.gptneo.engine.weights.DType.F16));
  }
}
