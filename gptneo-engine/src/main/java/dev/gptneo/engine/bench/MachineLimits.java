package dev.gptneo.engine.bench;

import dev.gptneo.engine.ops.cuda.GpuLimits;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The machine's limits that the bench's fractions divide by, measured in the same run: the CPU's
 * ({@link Calibration}: fp32 FMA peak and DRAM read bandwidth) or, for {@code --device cuda}, the
 * GPU's ({@link GpuLimits}: a cuBLAS fp16 GEMM and a device-memory read). See docs/BENCHMARKS.md.
 */
final class MachineLimits {
  final double flops;     // FLOP/s; NaN where unmeasured
  final double bandwidth; // bytes/s read from memory; NaN where unmeasured
  final String what;      // what was measured, the JSON's "limits"

  private MachineLimits(double flops, double bandwidth, String what) {
    this.flops = flops;
    this.bandwidth = bandwidth;
    this.what = what;
  }

  static MachineLimits cpu(int threads, double seconds, PrintStream log) {
    // A peak is what the machine can do: noise only lowers a measurement, so keep the best of up
    // to three attempts, and try again only while other processes were busy during the last one.
    Calibration best = null;
    for (int attempt = 1; attempt <= 3; attempt++) {
      long[] ticks0 = ProcessStats.cpuTicks();
      Calibration c = Calibration.measure(threads, seconds, 0);
      double other = ProcessStats.otherBusyFraction(ticks0, ProcessStats.cpuTicks());
      log.printf(Locale.ROOT, "bench: calibration, %d threads: peak fp32 FMA %.1f GFLOP/s (%d-bit vectors),"
          + " DRAM read %.1f GB/s (%d MB buffer); other processes used %.0f%% of the CPUs%n", c.threads,
          c.peakFlops / 1e9, c.vectorBits, c.bandwidth / 1e9, c.bufferBytes >> 20, 100 * other);
      best = best == null ? c : best.max(c);
      if (!(other > 0.10)) {
        break;
      }
    }
    return new MachineLimits(best.peakFlops, best.bandwidth, String.format(Locale.ROOT,
        "cpu, %d threads: fp32 FMA (%d-bit vectors), DRAM read (%d MB buffer)", best.threads, best.vectorBits,
        best.bufferBytes >> 20));
  }

  /**
   * After the engine has closed and given its device memory back. A failure costs the fractions,
   * not the run's timings: null, with the reason logged.
   */
  static MachineLimits gpu(int device, double seconds, PrintStream log) {
    GpuLimits g;
    try {
      g = GpuLimits.measure(device, seconds);
    } catch (RuntimeException e) {
      log.println("bench: the GPU's limits could not be measured, so pct_of_peak and pct_of_bandwidth are null: " + e);
      return null;
    }
    log.printf(Locale.ROOT, "bench: calibration, %s: %s%n", g.device, g);
    return new MachineLimits(g.gemmFlops, g.readBytesPerSecond, "cuda, " + g.device + ": " + g);
  }
}
