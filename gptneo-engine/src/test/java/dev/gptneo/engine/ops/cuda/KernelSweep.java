package dev.gptneo.engine.ops.cuda;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Times batch-1 decode's kernels alone, for tuning (device/gpu-checks.sh, tune mode): the one-row
 * gemv over block sizes and slices of k at a model's shapes, cuBLAS at 1, 32 and 128 rows on the
 * same shapes against cuBLAS split over k (gptneo.cuda.splitK=auto) and the opt-in tensor-core gemm_rows, the layer norm of one row and an empty
 * launch, and the layer norm before a gemv apart and fused into it (gemv1_ln). Each is a CUDA graph of back-to-back
 * launches, as decode steps replay them, so a launch's time includes the gap to the next one.
 * Prints microseconds a launch and GB/s of weights; "auto" marks the gemv shape the backend picks.
 * Usage: {@code java -cp ... dev.gptneo.engine.ops.cuda.KernelSweep [hidden [vocab]]} (2.7B's 2560, 50257).
 */
final class KernelSweep {
  private static final int[] THREADS = {128, 256, 320, 384, 512};
  private static final int[] SLICES = {1, 2, 3, 4, 6, 8};
  private static final int[] GEMM_ROWS = {1, 32, 128};
  private static final int ZERO_CHUNK = 16 << 20;

  private final Gpu gpu;
  private final CudaKernels kernels;
  private final int launches; // per graph
  private final int replays;  // timed, after one warm-up
  private final List<Long> buffers = new ArrayList<>();

  KernelSweep(Gpu gpu, int launches, int replays) {
    this.gpu = gpu;
    this.kernels = withSmallGemm(gpu);
    this.launches = launches;
    this.replays = replays;
  }

  /** One line per kernel configuration. */
  List<String> run(int hidden, int vocab) {
    Precision p = Precision.F16;
    int[][] shapes = {{hidden, 3 * hidden}, {hidden, hidden}, {hidden, 4 * hidden}, {4 * hidden, hidden},
        {hidden, vocab}};
    long maxWeights = 0;
    int maxIn = 0;
    int maxOut = 0;
    for (int[] s : shapes) {
      maxWeights = Math.max(maxWeights, (long) s[0] * s[1] * p.bytes);
      maxIn = Math.max(maxIn, s[0]);
      maxOut = Math.max(maxOut, s[1]);
    }
    int maxRows = GEMM_ROWS[GEMM_ROWS.length - 1];
    long w = zeros(maxWeights);                                   // (out, in) f16
    long x = zeros(4L * maxRows * maxIn);                         // (rows, in) fp32
    long x16 = zeros(2L * maxRows * maxIn);                       // (rows, in) f16: cuBLAS' input
    long y = zeros(4L * maxRows * maxOut);                        // (rows, out) fp32
    long partialFloats = (long) SLICES[SLICES.length - 1] * maxOut; // gemv's (slices, 1, out)
    for (int[] s : shapes) {
      for (int rows : GEMM_ROWS) {                                   // gemm_rows' and split-k's (slices, rows, out)
        partialFloats = Math.max(partialFloats, (long) kernels.gemmRowsSplits(rows, s[0], s[1]) * rows * s[1]);
        partialFloats = Math.max(partialFloats, (long) splitK(rows, s[0], s[1]) * rows * s[1]);
      }
    }
    long partial = zeros(4 * partialFloats);                          // fp32 partial sums
    long tickets = zeros(4L * ((maxOut + CudaKernels.GEMV_COLS - 1) / CudaKernels.GEMV_COLS));
    long gamma = zeros(4L * maxIn);
    List<String> lines = new ArrayList<>();
    try {
      lines.add(line("empty launch (gather_rows, 1 x 1)", time(() -> kernels.gatherRows(x, tickets, y, 1, 1)), 0));
      lines.add(line("layer norm, 1 row x " + hidden, time(() -> kernels.layerNorm(p, x, gamma, gamma, 1e-5f, y, x16, 1,
          hidden, 0)), 0));
      for (int[] s : shapes) {
        int in = s[0];
        int out = s[1];
        long bytes = (long) in * out * p.bytes;
        CudaKernels.GemvShape auto = kernels.gemvShape(p, 1, in, out);
        Set<CudaKernels.GemvShape> tried = new LinkedHashSet<>();
        tried.add(auto);
        for (int threads : THREADS) {
          for (int slices : SLICES) {
            tried.add(CudaKernels.gemvShape(p, true, in, threads, slices));
          }
        }
        for (CudaKernels.GemvShape g : tried) {
          double micros = time(() -> kernels.gemv(p, g, x, 1, in, w, out, y, 0, 0, false, false, partial, tickets));
          lines.add(line(String.format(Locale.ROOT, "gemv1 %d->%d: %d threads x %d slices%s", in, out, g.threads(),
              g.slices(), g.equals(auto) ? " (auto)" : ""), micros, bytes));
        }
        if (out == 3 * hidden || out == 4 * hidden) { // q|k|v and the MLP's first: after a layer norm, apart or fused
          long gemvOut = y + 4L * in; // after the layer norm's output row
          double apart = time(() -> {
            kernels.layerNorm(p, x, gamma, gamma, 1e-5f, y, 0, 1, in, 0);
            kernels.gemv(p, auto, y, 1, in, w, out, gemvOut, 0, 0, false, false, partial, tickets);
          });
          lines.add(line(String.format(Locale.ROOT, "layer norm + gemv1 %d->%d (auto)", in, out), apart, bytes));
          double fused = time(() -> kernels.gemv(p, auto, x, 1, in, w, out, y, 0, 0, false, false, partial, tickets,
              gamma, gamma, 1e-5f));
          lines.add(line(String.format(Locale.ROOT, "gemv1_ln %d->%d (auto)", in, out), fused, bytes));
        }
        for (int rows : GEMM_ROWS) {
          double micros = time(() -> gpu.gemm(p, x16, rows, in, w, out, y, out, false));
          lines.add(line(String.format(Locale.ROOT, "cuBLAS %d->%d, %d rows", in, out, rows), micros, bytes));
          int slices = splitK(rows, in, out);
          if (slices > 1) { // gptneo.cuda.splitK=auto: one batched GEMM over slices of k, then their sum
            double split = time(() -> {
              gpu.gemmSplitK(p, x16, rows, in, w, out, partial, slices);
              kernels.sumSlices(p, partial, slices, rows, out, y, 0, 0, false, false);
            });
            lines.add(line(String.format(Locale.ROOT, "cuBLAS split-k %d->%d, %d rows, %d slices + sum_slices", in, out,
                rows, slices), split, bytes));
          }
          if (rows > CudaKernels.GEMV_ROWS && in % 64 == 0) { // gemm_rows (gptneo.cuda.smallGemm=mma), its own splits
            int splits = kernels.gemmRowsSplits(rows, in, out);
            double mma = time(() -> kernels.gemmRows(p, x16, rows, in, w, out, y, partial, splits, 0, 0, false, false));
            lines.add(line(String.format(Locale.ROOT, "gemm_rows %d->%d, %d rows, %d splits", in, out, rows, splits), mma,
                bytes));
          }
        }
      }
    } finally {
      gpu.synchronize();
      buffers.forEach(gpu::free);
      buffers.clear();
    }
    return lines;
  }

  private int splitK(int rows, int in, int out) {
    return CudaLinear.splitKSlices(CudaLinear.SPLIT_K_AUTO, gpu.multiprocessors(), rows, in, out);
  }

  /** The kernels, with the opt-in tensor-core GEMM for 5-256 rows (gemm_rows.cu) compiled too. */
  private static CudaKernels withSmallGemm(Gpu gpu) {
    return WithProperty.build(CudaKernels.SMALL_GEMM_PROPERTY, "mma", () -> new CudaKernels(gpu));
  }

  /**
   * Microseconds a launch: one eager launch, then a graph of {@code launches} launches, replayed
   * once to warm up, then timed.
   */
  private double time(Runnable launch) {
    launch.run(); // once eagerly: modules load and shared-memory limits are set outside the recording
    gpu.synchronize();
    gpu.beginRecording();
    long graph;
    try {
      for (int i = 0; i < launches; i++) {
        launch.run();
      }
    } finally {
      graph = gpu.endRecording();
    }
    try {
      gpu.replay(graph);
      gpu.synchronize();
      long t0 = System.nanoTime();
      for (int r = 0; r < replays; r++) {
        gpu.replay(graph);
      }
      gpu.synchronize();
      return (System.nanoTime() - t0) / 1e3 / ((double) replays * launches);
    } finally {
      gpu.discard(graph);
    }
  }

  private static String line(String what, double micros, long bytes) {
    String rate = bytes == 0 ? "" : String.format(Locale.ROOT, "  %6.2f TB/s", bytes / (micros * 1e6));
    return String.format(Locale.ROOT, "%-52s %9.2f us%s", what, micros, rate);
  }

  private long zeros(long bytes) {
    long address = gpu.malloc(bytes);
    buffers.add(address);
    ByteBuffer chunk = ByteBuffer.allocateDirect((int) Math.min(bytes, ZERO_CHUNK));
    for (long at = 0; at < bytes; at += chunk.capacity()) {
      chunk.clear().limit((int) Math.min(chunk.capacity(), bytes - at));
      gpu.upload(address + at, chunk);
    }
    return address;
  }

  public static void main(String[] args) {
    if (!CudaSupport.available()) {
      System.out.println("kernel sweep skipped: " + CudaSupport.reason());
      return;
    }
    int hidden = args.length > 0 ? Integer.parseInt(args[0]) : 2560;
    int vocab = args.length > 1 ? Integer.parseInt(args[1]) : 50257;
    try (DriverGpu gpu = new DriverGpu(0)) {
      System.out.println("kernel sweep on " + gpu.describe() + ", hidden " + hidden + ", vocab " + vocab);
      new KernelSweep(gpu, 50, 4).run(hidden, vocab).forEach(System.out::println);
    }
  }
}
