package dev.gptneo.engine.ops.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * What a GPU can do, measured on it in a fraction of a second, for the bench's "% of the machine's
 * limit" ({@code bin/gptneo bench --device cuda}; docs/BENCHMARKS.md):
 * <ul>
 *   <li>{@link #gemmFlops}: a cuBLAS fp16 GEMM of 8192^3 (fp32 accumulation, fp16 out, random
 *       operands), the kind of GEMM prefill runs: its practical peak, below the datasheet's;</li>
 *   <li>{@link #readBytesPerSecond}: one kernel ({@code read_words}) reading a buffer of up to
 *       1 GiB, far beyond L2, once (two such buffers in turn): what batch-1 decode does with the
 *       weights.</li>
 * </ul>
 * Each is the best of repeated timings (a timing only ever comes out slower than the device).
 */
public final class GpuLimits {
  static final int GEMM_SIZE = 8192;
  static final long READ_BYTES = 1L << 30;
  static final long MIN_READ_BYTES = 256L << 20; // several times an H100's or H200's 50-60 MB of L2
  private static final int GEMMS_PER_TIMING = 4;   // ~5 ms on an H100: the host's wait costs ~0.5%
  private static final int READS_PER_TIMING = 8;
  private static final int READ_THREADS = 256;
  private static final int READ_BLOCKS_PER_SM = 8;
  private static final int FILL_BYTES = 2 << 20;   // random values, repeated over each operand

  /** The device, as the driver names it. */
  public final String device;
  /** FLOP/s (2 per multiply-add) of the GEMM; NaN where it could not run (not enough free memory). */
  public final double gemmFlops;
  /** Bytes per second read from device memory; NaN where it could not run. */
  public final double readBytesPerSecond;

  GpuLimits(String device, double gemmFlops, double readBytesPerSecond) {
    this.device = device;
    this.gemmFlops = gemmFlops;
    this.readBytesPerSecond = readBytesPerSecond;
  }

  /**
   * Measures device {@code device} for about {@code seconds} (at least three timings of each).
   *
   * @throws IllegalStateException with the reason when CUDA cannot run in this JVM
   */
  public static GpuLimits measure(int device, double seconds) {
    if (!CudaSupport.available()) {
      throw new IllegalStateException(CudaSupport.reason());
    }
    try (Gpu gpu = CudaBackend.devices.apply(device)) {
      return measure(gpu, seconds, System::nanoTime);
    }
  }

  static GpuLimits measure(Gpu gpu, double seconds, LongSupplier nanos) {
    KernelFunction read = gpu.load("elementwise.cu", KernelSources.read("elementwise.cu"), KernelSources.headers())
        .get("read_words");
    return new GpuLimits(gpu.describe(), gemmFlops(gpu, seconds / 2, nanos),
        readBandwidth(gpu, read, seconds / 2, nanos));
  }

  /** E.g. "cuBLAS fp16 GEMM 8192^3 812.4 TFLOP/s, device memory read 3.02 TB/s". */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "cuBLAS fp16 GEMM %d^3 %.1f TFLOP/s, device memory read %.2f TB/s",
        GEMM_SIZE, gemmFlops / 1e12, readBytesPerSecond / 1e12);
  }

  private static double gemmFlops(Gpu gpu, double seconds, LongSupplier nanos) {
    final int n = GEMM_SIZE;
    long bytes = 2L * n * n;
    long x = 0, w = 0, y = 0;
    try {
      x = gpu.malloc(bytes);
      w = gpu.malloc(bytes);
      y = gpu.malloc(bytes);
      fillHalf(gpu, x, bytes, 1);
      fillHalf(gpu, w, bytes, 2);
      long xs = x, ws = w, ys = y;
      double best = bestSeconds(gpu, seconds, nanos, () -> {
        for (int i = 0; i < GEMMS_PER_TIMING; i++) {
          gpu.gemmTo16(Precision.F16, xs, n, n, ws, n, ys, n);
        }
      });
      return GEMMS_PER_TIMING * 2.0 * n * n * n / best;
    } catch (OutOfMemoryError e) {
      return Double.NaN;
    } finally {
      free(gpu, x, w, y);
    }
  }

  /**
   * Reads alternate between two buffers of READ_BYTES (an eighth of the free memory where that is
   * less), so that no read finds the end of the one before in L2.
   */
  private static double readBandwidth(Gpu gpu, KernelFunction read, double seconds, LongSupplier nanos) {
    long bytes = Math.min(READ_BYTES, gpu.freeBytes() / 8) & -(1L << 20);
    if (bytes < MIN_READ_BYTES) {
      return Double.NaN;
    }
    int blocks = gpu.multiprocessors() * READ_BLOCKS_PER_SM;
    long first = 0, second = 0, out = 0;
    try {
      first = gpu.malloc(bytes);
      second = gpu.malloc(bytes);
      out = gpu.malloc(4L * blocks);
      long[][] args = {read.encode(first, (int) (bytes / 16), out), read.encode(second, (int) (bytes / 16), out)};
      double best = bestSeconds(gpu, seconds, nanos, () -> {
        for (int i = 0; i < READS_PER_TIMING; i++) {
          gpu.launch(read, blocks, 1, READ_THREADS, 0, args[i % 2]);
        }
      });
      return READS_PER_TIMING * (double) bytes / best;
    } catch (OutOfMemoryError e) {
      return Double.NaN;
    } finally {
      free(gpu, first, second, out);
    }
  }

  /** The shortest of at least three timings of {@code work} (after one untimed run), within about {@code seconds}. */
  private static double bestSeconds(Gpu gpu, double seconds, LongSupplier nanos, Runnable work) {
    work.run(); // loads cuBLAS's kernel or the module, and warms the clocks
    gpu.synchronize();
    double best = Double.POSITIVE_INFINITY;
    long end = nanos.getAsLong() + (long) (seconds * 1e9);
    for (int i = 0; i < 3 || nanos.getAsLong() < end && i < 1000; i++) {
      long t0 = nanos.getAsLong();
      work.run();
      gpu.synchronize();
      best = Math.min(best, Math.max(nanos.getAsLong() - t0, 1) / 1e9);
    }
    return best;
  }

  /** Random fp16 values of magnitude 2^-5 .. 1 (power draw, and with it the clocks, depends on the data). */
  private static void fillHalf(Gpu gpu, long address, long bytes, long seed) {
    ByteBuffer chunk = ByteBuffer.allocateDirect((int) Math.min(FILL_BYTES, bytes)).order(ByteOrder.LITTLE_ENDIAN);
    SplittableRandom random = new SplittableRandom(seed);
    while (chunk.hasRemaining()) {
      chunk.putShort((short) (random.nextInt(2) << 15 | (10 + random.nextInt(5)) << 10 | random.nextInt(1024)));
    }
    for (long at = 0; at < bytes; at += chunk.capacity()) {
      ByteBuffer part = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      part.position(0).limit((int) Math.min(chunk.capacity(), bytes - at));
      gpu.upload(address + at, part);
    }
  }

  private static void free(Gpu gpu, long... addresses) {
    for (long a : addresses) {
      if (a != 0) {
        gpu.free(a);
      }
    }
  }
}
