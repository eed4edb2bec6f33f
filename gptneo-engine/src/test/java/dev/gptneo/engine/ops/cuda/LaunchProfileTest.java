package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The profile's bookkeeping and table (its timings need a GPU to mean anything). */
class LaunchProfileTest {
  @Test
  void groupsLaunchesByNameAndSortsByTime() {
    LaunchProfile p = new LaunchProfile();
    int[] syncs = new int[1];
    Runnable sync = () -> syncs[0]++;
    for (int i = 0; i < 3; i++) {
      p.stop("layernorm_f16", p.start(sync), sync);
    }
    p.stop(LaunchProfile.gemmName(Precision.F16, 1, 2560, 7680), p.start(sync), sync);
    assertEquals(8, syncs[0], "synchronized around every launch");
    String table = p.table();
    assertTrue(table.contains("layernorm_f16") && table.contains("3"), table);
    assertTrue(table.contains("gemm f16 rows<=8 2560->7680"), table);
    assertTrue(table.contains("us first"), "the first launch (lazy module loading) is shown apart: " + table);
  }
}
