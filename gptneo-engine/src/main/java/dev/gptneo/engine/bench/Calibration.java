package dev.gptneo.engine.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What this machine can do at most, measured in the benchmark's own run so that results can be
 * given as a fraction of it: the fp32 FMA peak (a register-only Vector API FMA loop on every
 * thread) and the DRAM read bandwidth (every thread sums its part of a buffer much larger than the
 * last-level cache). Each is the best of a few rounds, all threads started together.
 */
public final class Calibration {
  /** fp32 FLOP/s with {@link #threads} threads; NaN when the Vector API is absent (no true peak from Java). */
  public final double peakFlops;
  /** DRAM read bytes/s with {@link #threads} threads. */
  public final double bandwidth;
  public final int threads;
  public final int vectorBits;
  public final long bufferBytes;

  private Calibration(double peakFlops, double bandwidth, int threads, int vectorBits, long bufferBytes) {
    this.peakFlops = peakFlops;
    this.bandwidth = bandwidth;
    this.threads = threads;
    this.vectorBits = vectorBits;
    this.bufferBytes = bufferBytes;
  }

  /** The better of two measurements of the same machine, number by number. */
  public Calibration max(Calibration o) {
    double flops = Double.isNaN(peakFlops) ? o.peakFlops : Double.isNaN(o.peakFlops) ? peakFlops
        : Math.max(peakFlops, o.peakFlops);
    return new Calibration(flops, Math.max(bandwidth, o.bandwidth), threads, vectorBits, bufferBytes);
  }

  /** Whether {@code jdk.incubator.vector} is in this JVM (checked without loading any Vector API class). */
  public static boolean vectorApiPresent() {
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
  }

  /**
   * Measures both numbers; takes about {@code seconds} in all (at least a few rounds each).
   *
   * @param bufferBytes the bandwidth buffer, 0 for the default (8x the last-level cache, at least 256 MB)
   */
  public static Calibration measure(int threads, double seconds, long bufferBytes) {
    Kernels k = vectorApiPresent() ? vectorKernel() : new ScalarKernel();
    boolean vector = !(k instanceof ScalarKernel);
    long buffer = bufferBytes > 0 ? bufferBytes : defaultBufferBytes();
    double flops = vector ? measureFlops(k, threads, seconds * 0.4) : Double.NaN;
    double bw = measureBandwidth(k, threads, seconds * 0.6, buffer);
    return new Calibration(flops, bw, threads, k.vectorBits(), buffer);
  }

  private static Kernels vectorKernel() {
    try {
      return (Kernels) Class.forName("dev.gptneo.engine.bench.VectorKernel").getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      return new ScalarKernel();
    }
  }

  /** 8 times the last-level cache (from sysfs), at least 256 MB and at most 1 GB. */
  static long defaultBufferBytes() {
    long llc = 32L << 20;
    for (int i = 4; i >= 0; i--) {
      Path p = Path.of("/sys/devices/system/cpu/cpu0/cache/index" + i + "/size");
      try {
        if (Files.isRegularFile(p)) {
          String s = Files.readString(p).trim().toUpperCase(Locale.ROOT);
          long mult = s.endsWith("K") ? 1024 : s.endsWith("M") ? 1 << 20 : 1;
          llc = Long.parseLong(s.replaceAll("[^0-9]", "")) * mult;
          break;
        }
      } catch (IOException | NumberFormatException e) {
        // keep the default
      }
    }
    return Math.min(1L << 30, Math.max(256L << 20, 8 * llc));
  }

  /** The two loops; the Vector API one is only loaded when the module is present. */
  interface Kernels {
    /** {@code iters} rounds of register-only FMAs; returns a value that depends on all of them. */
    float fma(int iters, float seed);

    /** FLOPs one {@link #fma} call with {@code iters} does. */
    double fmaFlops(int iters);

    /** Reads a[from, to); returns their sum. */
    float sum(float[] a, int from, int to);

    int vectorBits();
  }

  static final class ScalarKernel implements Kernels {
    @Override
    public float fma(int iters, float seed) {
      float a0 = seed, a1 = seed + 1, a2 = seed + 2, a3 = seed + 3;
      for (int i = 0; i < iters; i++) {
        a0 = Math.fma(a0, 0.999999f, 1e-7f);
        a1 = Math.fma(a1, 0.999999f, 1e-7f);
        a2 = Math.fma(a2, 0.999999f, 1e-7f);
        a3 = Math.fma(a3, 0.999999f, 1e-7f);
      }
      return a0 + a1 + a2 + a3;
    }

    @Override
    public double fmaFlops(int iters) {
      return 8.0 * iters;
    }

    @Override
    public float sum(float[] a, int from, int to) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int i = from;
      for (; i + 3 < to; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
      }
      for (; i < to; i++) {
        s0 += a[i];
      }
      return s0 + s1 + s2 + s3;
    }

    @Override
    public int vectorBits() {
      return 32;
    }
  }

  /**
   * Elements per {@link Kernels#sum} call and FMA rounds per {@link Kernels#fma} call: C2 compiled
   * one call that looped over a whole buffer with its vectors boxed (on-stack replacement, it seems),
   * which made the calibration read a third of the bandwidth in some runs; short calls do not.
   */
  static final int SUM_CHUNK = 1 << 14;
  static final int FMA_ITERS = 1 << 12;

  /** The sum of all of a, SUM_CHUNK elements per call. */
  static float sumAll(Kernels k, float[] a) {
    float s = 0;
    for (int from = 0; from < a.length; from += SUM_CHUNK) {
      s += k.sum(a, from, Math.min(a.length, from + SUM_CHUNK));
    }
    return s;
  }

  private static double measureFlops(Kernels k, int threads, double seconds) {
    int iters = FMA_ITERS;
    double perCall = k.fmaFlops(iters);
    // warm up (C2) on this thread, then rounds of calls on every thread
    long warmEnd = System.nanoTime() + 200_000_000L;
    float sink = 0;
    while (System.nanoTime() < warmEnd) {
      sink += k.fma(iters, sink * 1e-9f);
    }
    // about 20 ms per round
    long t0 = System.nanoTime();
    sink += k.fma(iters, 0.5f);
    double callSeconds = Math.max(1e-6, (System.nanoTime() - t0) / 1e9);
    int calls = (int) Math.max(4, Math.min(1_000_000, 0.02 / callSeconds));
    int rounds = (int) Math.max(3, seconds / 0.02);
    double best = runRounds(threads, rounds, t -> {
      float s = 0;
      for (int c = 0; c < calls; c++) {
        s += k.fma(iters, s * 1e-9f + t);
      }
      return s;
    });
    blackhole(sink);
    return calls * perCall * threads / best;
  }

  private static double measureBandwidth(Kernels k, int threads, double seconds, long bufferBytes) {
    int perThread = (int) Math.min(Integer.MAX_VALUE - 64, bufferBytes / Float.BYTES / threads);
    float[][] parts = new float[threads][];
    try {
      for (int t = 0; t < threads; t++) {
        parts[t] = new float[perThread];
      }
    } catch (OutOfMemoryError e) {
      parts = null;
      return measureBandwidth(k, threads, seconds, bufferBytes / 4); // a small -Xmx: a smaller buffer
    }
    float[][] buf = parts;
    // first touch on the reading thread, and warm-up of the loop
    runRounds(threads, 1, t -> {
      java.util.Arrays.fill(buf[t], 1f);
      return sumAll(k, buf[t]) + sumAll(k, buf[t]);
    });
    long t0 = System.nanoTime();
    runRounds(threads, 1, t -> sumAll(k, buf[t]));
    double roundSeconds = Math.max(1e-4, (System.nanoTime() - t0) / 1e9);
    int rounds = (int) Math.max(3, Math.min(50, seconds / roundSeconds));
    double best = runRounds(threads, rounds, t -> sumAll(k, buf[t]));
    return (double) perThread * Float.BYTES * threads / best;
  }

  interface Work {
    float run(int thread);
  }

  /** Runs {@code work} on {@code threads} threads at once, {@code rounds} times; returns the fastest round's seconds. */
  private static double runRounds(int threads, int rounds, Work work) {
    CyclicBarrier start = new CyclicBarrier(threads);
    CyclicBarrier end = new CyclicBarrier(threads);
    double[] best = {Double.MAX_VALUE};
    AtomicReference<Throwable> error = new AtomicReference<>();
    Thread[] ts = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      ts[t] = new Thread(() -> {
        float sink = 0;
        try {
          for (int r = 0; r < rounds; r++) {
            start.await();
            long t0 = System.nanoTime();
            sink += work.run(id);
            end.await();
            if (id == 0) {
              best[0] = Math.min(best[0], (System.nanoTime() - t0) / 1e9);
            }
          }
        } catch (Throwable e) {
          error.compareAndSet(null, e);
          start.reset();
          end.reset();
        }
        blackhole(sink);
      }, "gptneo-calibration-" + t);
      ts[t].setDaemon(true);
      ts[t].start();
    }
    for (Thread t : ts) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted during calibration", e);
      }
    }
    if (error.get() != null) {
      throw new IllegalStateException("calibration failed: " + error.get(), error.get());
    }
    return best[0];
  }

  private static volatile float blackholeSink;

  static void blackhole(float v) {
    if (v == 1.2345e-38f) {
      blackholeSink = v;
    }
  }
}
