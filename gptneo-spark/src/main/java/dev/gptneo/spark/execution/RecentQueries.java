package dev.gptneo.spark.execution;

import java.util.ArrayList;
import java.util.List;

/**
 * Driver side: the metrics of gptneo operators executed since the last {@link #drain}, so a runner
 * (bin/gptneo-sql) can report rows/s per statement without knowing the plan's shape.
 */
public final class RecentQueries {
  private static final List<OperatorMetrics> RECENT = new ArrayList<>();

  private RecentQueries() {}

  static synchronized void record(OperatorMetrics metrics) {
    if (!RECENT.contains(metrics)) {
      RECENT.add(metrics);
    }
    if (RECENT.size() > 1000) {
      RECENT.remove(0);
    }
  }

  public static synchronized List<OperatorMetrics> drain() {
    List<OperatorMetrics> out = new ArrayList<>(RECENT);
    RECENT.clear();
    return out;
  }
}
