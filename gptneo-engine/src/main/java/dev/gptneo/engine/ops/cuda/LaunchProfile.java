package dev.gptneo.engine.ops.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a GPU run's time goes, per kernel and GEMM shape (system property gptneo.cuda.profile=true):
 * the device is synchronized around every launch, so each one is timed alone. Slows the run down;
 * for finding what to speed up, not for throughput numbers. Logged when the backend closes.
 */
final class LaunchProfile {
  private static final Logger LOG = LoggerFactory.getLogger(LaunchProfile.class);

  private final Map<String, long[]> byName = new HashMap<>(); // name -> {launches, nanos, first launch's nanos}

  long start(Runnable synchronize) {
    synchronize.run();
    return System.nanoTime();
  }

  void stop(String name, long t0, Runnable synchronize) {
    synchronize.run();
    long nanos = System.nanoTime() - t0;
    long[] entry = byName.computeIfAbsent(name, n -> new long[3]);
    if (entry[0]++ == 0) {
      entry[2] = nanos;
    }
    entry[1] += nanos;
  }

  /** GEMMs grouped by shape bucket: decode-sized (rows &lt;= 8), small batches and prefill. */
  static String gemmName(Precision p, int rows, int in, int out) {
    String m = rows <= 8 ? "rows<=8" : rows <= 256 ? "rows<=256" : "rows>256";
    return "gemm " + p.suffix + " " + m + " " + in + "->" + out;
  }

  /**
   * Per name: launches, total time, the mean of the launches after the first (the first one also
   * loads the kernel's module: CUDA loads modules lazily) and the first alone.
   */
  String table() {
    long total = 0;
    for (long[] e : byName.values()) {
      total += e[1];
    }
    List<Map.Entry<String, long[]>> rows = new ArrayList<>(byName.entrySet());
    rows.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-44s %9s %10s %9s %9s %6s%n", "launch", "count",
        "total ms", "us after", "us first", "share"));
    for (Map.Entry<String, long[]> e : rows) {
      long[] v = e.getValue();
      double after = v[0] > 1 ? (v[1] - v[2]) / 1e3 / (v[0] - 1) : v[2] / 1e3;
      sb.append(String.format(Locale.ROOT, "%-44s %9d %10.1f %9.1f %9.1f %5.1f%%%n", e.getKey(), v[0], v[1] / 1e6,
          after, v[2] / 1e3, 100.0 * v[1] / Math.max(1, total)));
    }
    return sb.toString();
  }

  void log(String device) {
    if (!byName.isEmpty()) {
      LOG.info("GPU launch profile on {} (each launch timed alone):\n{}", device, table());
    }
  }
}
