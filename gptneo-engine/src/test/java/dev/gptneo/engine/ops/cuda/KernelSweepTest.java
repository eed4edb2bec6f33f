package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tuning sweep's launches are legal (FakeGpu checks each one's arguments, grid and buffers,
 * and that the recordings hold no copies or waits), it frees what it allocates, and it reports the
 * backend's own gemv choice among its configurations. Its timings mean something on a GPU only.
 */
class KernelSweepTest {
  @Test
  void sweepsEveryShapeWithLegalLaunches() {
    FakeGpu gpu = new FakeGpu(1L << 34);
    List<String> lines = new KernelSweep(gpu, 2, 1).run(2560, 50257);
    assertEquals(0, gpu.liveAllocations());
    for (String shape : new String[] {"2560->7680", "2560->2560", "2560->10240", "10240->2560", "2560->50257"}) {
      assertEquals(1, lines.stream().filter(l -> l.startsWith("gemv1 " + shape + ":") && l.contains("(auto)")).count(),
          shape + ": " + lines);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("cuBLAS " + shape + ", 128 rows")), shape);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("gemm_rows " + shape + ", 32 rows")), shape);
    }
    assertTrue(lines.get(1).startsWith("layer norm, 1 row x 2560"), lines.get(1));
    for (String shape : new String[] {"2560->7680", "2560->10240"}) {
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("layer norm + gemv1 " + shape + " (auto)")), shape);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("gemv1_ln " + shape + " (auto)")), shape);
    }
    // cuBLAS split over k (gptneo.cuda.splitK=auto) at 128 rows, with auto's slices
    for (String[] shape : new String[][] {{"2560->7680", "5"}, {"2560->2560", "8"}, {"2560->10240", "4"},
        {"10240->2560", "8"}}) {
      String expected = "cuBLAS split-k " + shape[0] + ", 128 rows, " + shape[1] + " slices + sum_slices";
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(expected)), expected + "\n" + String.join("\n", lines));
    }
    // the auto shape of the MLP's down projection splits k: the sweep must reach its slice count too
    assertTrue(lines.stream().anyMatch(l -> l.contains("gemv1 10240->2560: 256 threads x 3 slices (auto)")),
        String.join("\n", lines));
  }
}
