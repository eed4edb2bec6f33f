package dev.gptneo.engine.ops.cuda;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The device calls the CUDA backend makes, in one place: {@link DriverGpu} runs them on a GPU
 * through bytedeco, tests replace them. Device memory is addressed by plain {@code long}s. Every
 * call is ordered on one stream, so a download sees all earlier work. Not thread-safe: the
 * engine's scheduler thread makes all calls after construction.
 */
interface Gpu extends AutoCloseable {
  /** E.g. "NVIDIA H100 80GB HBM3 (cc 9.0, 132 SMs, 79.1 GiB)". */
  String describe();

  /** The most dynamic shared memory one block may use (after opting in). */
  int maxSharedBytes();

  /** Streaming multiprocessors: how many blocks it takes to keep the device busy. */
  int multiprocessors();

  long freeBytes();

  /** Device memory; throws {@link OutOfMemoryError} when the device has not enough free. */
  long malloc(long bytes);

  void free(long address);

  /** Copies src's remaining bytes to the device at dst. */
  void upload(long dst, ByteBuffer src);

  /** Copies bytes from the device; the little-endian view stays valid until the next download. */
  ByteBuffer download(long src, long bytes);

  /**
   * Compiles CUDA C (with the named headers) for this device and loads it. Returns the module's
   * kernels by name, with their parameters from the compiled PTX.
   */
  Map<String, KernelFunction> load(String file, String source, Map<String, String> headers);

  /** Lets a kernel use up to {@code bytes} of dynamic shared memory. */
  void allowShared(KernelFunction f, int bytes);

  /** Launches {@code f<<<(gridX, gridY), block, sharedBytes>>>} with arguments encoded by {@link KernelFunction#encode}. */
  void launch(KernelFunction f, int gridX, int gridY, int block, int sharedBytes, long[] args);

  /** Whether launches are timed (gptneo.cuda.profile): labels for {@link #launch(String, KernelFunction, int, int, int, int, long[])} are then worth building. */
  default boolean profiling() {
    return false;
  }

  /** {@link #launch}, named {@code label} in the launch profile (e.g. with the shape it works on). */
  default void launch(String label, KernelFunction f, int gridX, int gridY, int block, int sharedBytes, long[] args) {
    launch(f, gridX, gridY, block, sharedBytes, args);
  }

  /**
   * y (rows, out) fp32, rows ldy floats apart (ldy &gt;= out), = or += (when accumulate) x (rows, in)
   * times w^T, where w is (out, in) row-major; x and w are of type {@code p}; fp32 accumulation.
   */
  void gemm(Precision p, long x, int rows, int in, long w, int out, long y, int ldy, boolean accumulate);

  /**
   * {@link #gemm} writing y (rows, out) in type p, rows ldy elements apart: each fp32 accumulator
   * rounded once to p (the q|k|v of a prompt step whose attention reads only 16-bit values).
   */
  void gemmTo16(Precision p, long x, int rows, int in, long w, int out, long y, int ldy);

  /**
   * {@link #gemm} split over k into {@code slices} GEMMs that run side by side: partial (slices,
   * rows, out) fp32, slice s = x[:, s in / slices ..) times w[:, the same)^T, for the caller to add
   * in slice order (CudaKernels.sumSlices). in % slices == 0; x and w 16-bit.
   */
  void gemmSplitK(Precision p, long x, int rows, int in, long w, int out, long partial, int slices);

  /**
   * {@link #gemm} with its epilogue fused (cuBLASLt, gptneo.cuda.gemm=lt): y = x w^T (+ y when
   * accumulate) (+ bias when bias != 0), then gelu_new when gelu. y is fp32, rows ldy floats apart,
   * with an fp32 bias; or, when halfOut, of type p, rows ldy elements apart, with a bias of type p.
   * Every address 256-byte aligned. Returns false, having queued nothing, where the device has no
   * such GEMM: callers then run {@link #gemm} and their own epilogue.
   */
  default boolean gemmFused(Precision p, long x, int rows, int in, long w, int out, long y, int ldy, boolean halfOut,
      boolean accumulate, long bias, boolean gelu) {
    return false;
  }

  /** Waits for all queued work; reports asynchronous errors. */
  void synchronize();

  /** Whether launches and GEMMs can be recorded once and replayed as one unit (CUDA graphs). */
  default boolean canRecord() {
    return false;
  }

  /**
   * Starts recording: launches and GEMMs are recorded, not run, until {@link #endRecording}.
   * Copies, allocations and waits are errors meanwhile (the recording then fails).
   */
  default void beginRecording() {
    throw new UnsupportedOperationException("recording");
  }

  /** Ends recording; returns a handle for {@link #replay}. On failure throws, and is no longer recording. */
  default long endRecording() {
    throw new UnsupportedOperationException("recording");
  }

  /** Leaves recording mode after a failure, dropping what was recorded; a no-op when not recording. */
  default void abortRecording() {}

  /** Queues a recorded unit, with the arguments it was recorded with. */
  default void replay(long recording) {
    throw new UnsupportedOperationException("recording");
  }

  default void discard(long recording) {}

  @Override
  void close();
}
