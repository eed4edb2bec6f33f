package dev.gptneo.spark.execution;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress of this JVM's gptneo batches at INFO, at most once per interval
 * ({@code spark.gptneo.progress.interval}, default 5s): rows and tokens so far, and their rates
 * since the previous line.
 */
final class ProgressLog {
  private static final Logger LOG = LoggerFactory.getLogger("dev.gptneo.spark.progress");
  private static final AtomicLong ROWS = new AtomicLong();
  private static final AtomicLong TOKENS = new AtomicLong();
  private static final AtomicLong LAST_NANOS = new AtomicLong(System.nanoTime());
  private static volatile long lastRows;
  private static volatile long lastTokens;
  static volatile long intervalNanos = 5_000_000_000L;

  private ProgressLog() {}

  static void record(long rows, long tokens) {
    long r = ROWS.addAndGet(rows);
    long t = TOKENS.addAndGet(tokens);
    long now = System.nanoTime();
    long last = LAST_NANOS.get();
    if (now - last >= intervalNanos && LAST_NANOS.compareAndSet(last, now)) {
      double seconds = (now - last) / 1e9;
      LOG.info(String.format("gptneo: %,d rows, %,d tokens so far in this JVM; %.1f rows/s, %.0f tokens/s",
          r, t, (r - lastRows) / seconds, (t - lastTokens) / seconds));
      lastRows = r;
      lastTokens = t;
    }
  }
}
