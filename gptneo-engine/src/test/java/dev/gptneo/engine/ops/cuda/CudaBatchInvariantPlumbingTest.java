package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.Result;
import dev.gptneo.engine.api.Truncation;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Goldens;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The batch-invariant mode ({@link CudaKernels#BATCH_INVARIANT_PROPERTY}) on {@link FakeGpu}: what
 * the backend launches does not depend on a row's batch. Every linear layer runs on gemm_rows with
 * the same k slices for its shape at 1 row and at hundreds (no gemv, cuBLAS or split-k picked by the
 * rows), decode attention never splits, and a prompt is cut at multiples of 256 tokens. That each
 * kernel gives a row the same bits in any batch is the emulator's check (gemm_rows at 1, 5 and 130
 * rows); the bits on a GPU, CudaBatchInvarianceTest's.
 */
class CudaBatchInvariantPlumbingTest {
  @Test
  void aRowsKernelsDoNotDependOnItsBatch() {
    FakeGpu gpu = new FakeGpu(4L << 30);
    onFakeGpu(gpu, () -> {
      try (Engine e = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(1).device("cuda").build())) {
        InputPolicy policy = new InputPolicy(1024, Truncation.RIGHT);
        Input longText = Input.text("the quarterly invoice is attached, please pay it by friday. ".repeat(50));
        List<Result> results = new ArrayList<>(e.classify(List.of(longText), policy));
        List<Integer> alone = stepTokens(gpu, 0);
        int before = gpu.launches.size();
        List<Input> rows = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          rows.add(Input.text("meeting at " + (i + 2) + " pm tomorrow, bring the slides"));
        }
        results.addAll(e.generate(rows.subList(0, 1), GenerationParams.builder().maxNewTokens(3).build(), policy));
        results.addAll(e.generate(rows, GenerationParams.builder().maxNewTokens(3).build(), policy));
        rows.add(longText);
        results.addAll(e.classify(rows, policy));
        for (Result r : results) {
          assertNull(r.error);
        }
        // the long prompt alone: pieces of 256 tokens, then the rest, not steps of the 512-token budget
        assertTrue(alone.size() >= 3 && alone.get(0) == 256 && alone.get(1) == 256 && alone.get(2) <= 256,
            alone.toString());
        assertTrue(gemmRowsRows(gpu, before).stream().allMatch(n -> n <= CudaKernels.INVARIANT_ROWS));
      }
      return null;
    });
    GptNeoConfig config = GptNeoConfig.load(Goldens.demoModel());
    assertEquals(0, gpu.gemms, "no cuBLAS GEMM");
    Map<String, Integer> slices = new HashMap<>(); // (in, out) -> gemm_rows' k slices
    for (int i = 0; i < gpu.launches.size(); i++) {
      String name = gpu.launches.get(i);
      assertFalse(name.startsWith("gemv") || name.contains("_h"), name + " was launched");
      long[] args = gpu.launchArgs.get(i);
      if (name.startsWith("gemm_rows_")) {
        String shape = args[2] + " -> " + args[4];
        Integer first = slices.putIfAbsent(shape, gpu.launchGridY.get(i));
        assertTrue(first == null || first.equals(gpu.launchGridY.get(i)), shape + ": slices " + first + " and "
            + gpu.launchGridY.get(i));
      }
      if (name.startsWith("attention_decode_")) {
        assertEquals(config.numHeads, gpu.launchGridY.get(i), "decode attention unsplit");
      }
    }
    // qkv, out, fc, proj and the LM head; the classifier head
    assertTrue(slices.size() >= 5, slices.toString());
  }

  @Test
  void fp32WeightsAreRefusedWhenTheModelLoads() {
    FakeGpu gpu = new FakeGpu(4L << 30);
    String before = System.setProperty(CudaBackend.PRECISION_PROPERTY, "f32");
    try {
      Exception e = assertThrows(Exception.class, () -> onFakeGpu(gpu, () -> Engine.open(Goldens.demoModel(),
          EngineOptions.builder().threads(1).device("cuda").build())));
      String message = String.valueOf(e.getMessage()) + " " + e.getCause();
      assertTrue(message.contains(CudaKernels.BATCH_INVARIANT_PROPERTY + " needs 16-bit weights"), message);
    } finally {
      if (before == null) {
        System.clearProperty(CudaBackend.PRECISION_PROPERTY);
      } else {
        System.setProperty(CudaBackend.PRECISION_PROPERTY, before);
      }
    }
  }

  /** The tokens of each step (embed's grid: a block per token) from launch index from on. */
  private static List<Integer> stepTokens(FakeGpu gpu, int from) {
    List<Integer> tokens = new ArrayList<>();
    for (int i = from; i < gpu.launches.size(); i++) {
      if (gpu.launches.get(i).startsWith("embed_")) {
        tokens.add(gpu.launchGridX.get(i));
      }
    }
    return tokens;
  }

  /** The rows of each gemm_rows launch from launch index from on. */
  private static List<Integer> gemmRowsRows(FakeGpu gpu, int from) {
    List<Integer> rows = new ArrayList<>();
    for (int i = from; i < gpu.launches.size(); i++) {
      if (gpu.launches.get(i).startsWith("gemm_rows_")) {
        rows.add((int) gpu.launchArgs.get(i)[1]);
      }
    }
    return rows;
  }

  /** Runs work with the engine's device on gpu and the batch-invariant property set. */
  private static <T> T onFakeGpu(FakeGpu gpu, Supplier<T> work) {
    CudaSupport.Status status = CudaSupport.status();
    IntFunction<Gpu> devices = CudaBackend.devices;
    CudaSupport.status = new CudaSupport.Status(true, "fake GPU", 1);
    CudaBackend.devices = device -> gpu;
    try {
      return WithProperty.build(CudaKernels.BATCH_INVARIANT_PROPERTY, "true", work);
    } finally {
      CudaSupport.status = status;
      CudaBackend.devices = devices;
    }
  }
}
