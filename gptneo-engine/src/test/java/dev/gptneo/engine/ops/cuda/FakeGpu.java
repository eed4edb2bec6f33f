package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gptneo.engine.ops.cuda.KernelFunction.Param;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link Gpu} without a GPU, to test the backend's plumbing on any machine with nvcc: memory is
 * bookkeeping, kernels are the real ones' signatures (from nvcc's PTX), nothing computes. Every
 * launch, copy and GEMM is checked: pointer arguments must point into live allocations, GEMM
 * operands must fit in theirs, grids and shared memory must be legal. Downloads read zeros.
 */
final class FakeGpu implements Gpu {
  private static Map<String, Map<String, Param[]>> signatures; // file -> kernel -> params, compiled once

  private final TreeMap<Long, Long> live = new TreeMap<>(); // base -> bytes
  private final List<KernelFunction> functions = new ArrayList<>();
  private long next = 1L << 40;
  private long used;
  long capacity; // tests may lower it once the model is in place
  final List<String> launches = new ArrayList<>(); // kernel names in order
  final List<Integer> launchGridX = new ArrayList<>(); // their grids' x
  final List<Integer> launchGridY = new ArrayList<>(); // and y
  final List<long[]> launchArgs = new ArrayList<>();   // and arguments, as encoded
  final List<Long> downloads = new ArrayList<>();  // bytes of each download, in order
  int gemms;
  int fusedGemms;
  int gemmsTo16; // of those, the GEMMs that wrote 16-bit output (gemmTo16)
  final List<Integer> splitKSlices = new ArrayList<>(); // the slices of each split-k GEMM, in order
  final List<String> fusedEpilogues = new ArrayList<>(); // "+y", "+bias", "gelu", "->16": one line per fused GEMM
  boolean refuseFused; // as a device whose cuBLASLt has no algorithm would
  int refusals; // mallocs refused for lack of memory
  String failToBuild; // a .cu file whose load fails, as NVRTC failing would
  // recordings (CUDA graphs): each is a list of replayable checks
  private final List<List<Runnable>> recordings = new ArrayList<>();
  private List<Runnable> recording; // non-null while recording
  int recorded;
  int replays;
  int discarded;
  int syncs;
  boolean closed;
  // Gpu is not thread-safe: once a test calls oneThread(), every device call must come from one thread
  private volatile boolean oneThread;
  private volatile Thread owner;
  final List<String> wrongThreadCalls = java.util.Collections.synchronizedList(new ArrayList<>());

  FakeGpu(long capacity) {
    this.capacity = capacity;
    compileOnce();
  }

  private static synchronized void compileOnce() {
    if (signatures != null) {
      return;
    }
    Path nvcc = Nvcc.require();
    try {
      Path dir = Nvcc.sources(Files.createTempDirectory("gptneo-fake-gpu"));
      Map<String, Map<String, Param[]>> all = new HashMap<>();
      for (String file : KernelSources.FILES) {
        Nvcc.Result r = Nvcc.ptx(nvcc, dir.resolve(file), "compute_90");
        if (r.status != 0) {
          throw new IllegalStateException(file + " does not compile:\n" + r.output);
        }
        all.put(file, PtxEntries.parse(r.ptx));
      }
      signatures = all;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Bytes allocated and not freed. */
  long liveBytes() {
    return used;
  }

  int liveAllocations() {
    return live.size();
  }

  @Override
  public String describe() {
    return "fake GPU";
  }

  @Override
  public int multiprocessors() {
    return 132;
  }

  @Override
  public int maxSharedBytes() {
    return 227 * 1024;
  }

  @Override
  public long freeBytes() {
    return capacity - used;
  }

  @Override
  public long malloc(long bytes) {
    onOneThread("malloc");
    notRecording("malloc");
    if (bytes <= 0) {
      throw new IllegalArgumentException("malloc of " + bytes + " bytes");
    }
    if (used + bytes > capacity) {
      refusals++;
      throw new OutOfMemoryError("fake GPU full: " + bytes + " bytes asked, " + (capacity - used) + " free");
    }
    long base = next;
    next += (bytes + 511) / 256 * 256; // a gap after each block, so an overrun cannot land in the next
    live.put(base, bytes);
    used += bytes;
    return base;
  }

  @Override
  public void free(long address) {
    onOneThread("free");
    notRecording("free");
    Long bytes = live.remove(address);
    if (bytes == null) {
      throw new IllegalStateException("free of " + Long.toHexString(address) + ", not a live allocation");
    }
    used -= bytes;
  }

  /** Throws unless [address, address + bytes) lies in one live allocation. */
  void checkRange(String what, long address, long bytes) {
    Map.Entry<Long, Long> e = live.floorEntry(address);
    if (e == null || address + bytes > e.getKey() + e.getValue()) {
      throw new IllegalStateException(what + ": [" + Long.toHexString(address) + ", +" + bytes
          + ") is outside every live allocation" + (e == null ? "" : " (nearest " + Long.toHexString(e.getKey())
          + " +" + e.getValue() + ")"));
    }
  }

  @Override
  public void upload(long dst, ByteBuffer src) {
    onOneThread("upload");
    notRecording("upload");
    checkRange("upload", dst, src.remaining());
  }

  @Override
  public ByteBuffer download(long src, long bytes) {
    onOneThread("download");
    notRecording("download");
    checkRange("download", src, bytes);
    downloads.add(bytes);
    return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public Map<String, KernelFunction> load(String file, String source, Map<String, String> headers) {
    assertEquals(KernelSources.headers(), headers);
    if (file.equals(failToBuild)) {
      throw new CudaException("NVRTC could not compile " + file + " (as the test asks)");
    }
    Map<String, KernelFunction> out = new HashMap<>();
    signatures.get(file).forEach((name, params) -> {
      KernelFunction f = new KernelFunction(name, functions.size(), params);
      functions.add(f);
      out.put(name, f);
    });
    return out;
  }

  @Override
  public void allowShared(KernelFunction f, int bytes) {
    if (bytes > maxSharedBytes()) {
      throw new IllegalArgumentException(f.name + ": " + bytes + " bytes of shared memory");
    }
  }

  @Override
  public void launch(KernelFunction f, int gridX, int gridY, int block, int sharedBytes, long[] args) {
    onOneThread("launch");
    if (recording != null) {
      long[] copy = args.clone();
      recording.add(() -> checkLaunch(f, gridX, gridY, block, sharedBytes, copy));
      return;
    }
    checkLaunch(f, gridX, gridY, block, sharedBytes, args);
  }

  private void checkLaunch(KernelFunction f, int gridX, int gridY, int block, int sharedBytes, long[] args) {
    if (gridX < 0 || gridY < 1 || gridY > 65535 || block < 32 || block > 1024 || block % 32 != 0) {
      throw new IllegalStateException(f.name + ": grid (" + gridX + ", " + gridY + "), block " + block);
    }
    if (sharedBytes > f.sharedLimit) {
      throw new IllegalStateException(f.name + ": " + sharedBytes + " bytes of shared memory, allowed "
          + f.sharedLimit);
    }
    if (args.length != f.params.length) {
      throw new IllegalStateException(f.name + ": " + args.length + " arguments for " + f.params.length);
    }
    for (int i = 0; i < args.length; i++) {
      if (f.params[i] == Param.PTR && args[i] != 0) {
        checkRange(f.name + " argument " + i, args[i], 1);
      }
    }
    launches.add(f.name);
    launchGridX.add(gridX);
    launchGridY.add(gridY);
    launchArgs.add(args.clone());
  }

  @Override
  public void gemm(Precision p, long x, int rows, int in, long w, int out, long y, int ldy, boolean accumulate) {
    onOneThread("gemm");
    if (recording != null) {
      recording.add(() -> checkGemm(p, x, rows, in, w, out, y, ldy, 4));
      return;
    }
    checkGemm(p, x, rows, in, w, out, y, ldy, 4);
  }

  @Override
  public void gemmTo16(Precision p, long x, int rows, int in, long w, int out, long y, int ldy) {
    onOneThread("gemmTo16");
    if (!p.isHalf()) {
      throw new IllegalStateException("gemmTo16 in " + p);
    }
    Runnable check = () -> {
      checkGemm(p, x, rows, in, w, out, y, ldy, p.bytes);
      gemmsTo16++;
    };
    if (recording != null) {
      recording.add(check);
      return;
    }
    check.run();
  }

  @Override
  public void gemmSplitK(Precision p, long x, int rows, int in, long w, int out, long partial, int slices) {
    onOneThread("gemmSplitK");
    if (!p.isHalf() || slices < 2 || in % slices != 0) {
      throw new IllegalStateException("gemmSplitK: " + p + ", " + in + " in " + slices + " slices");
    }
    Runnable check = () -> {
      checkRange("gemmSplitK x", x, (long) rows * in * p.bytes);
      checkRange("gemmSplitK w", w, (long) out * in * p.bytes);
      checkRange("gemmSplitK partial", partial, 4L * slices * rows * out);
      splitKSlices.add(slices);
    };
    if (recording != null) {
      recording.add(check);
      return;
    }
    check.run();
  }

  /** Checks a GEMM's operands; y's elements are yBytes wide. Counts it in gemms. */
  private void checkGemm(Precision p, long x, int rows, int in, long w, int out, long y, int ldy, int yBytes) {
    if (ldy < out) {
      throw new IllegalStateException("gemm: y's rows " + ldy + " elements apart, narrower than out " + out);
    }
    checkRange("gemm x", x, (long) rows * in * p.bytes);
    checkRange("gemm w", w, (long) out * in * p.bytes);
    checkRange("gemm y", y, ((long) (rows - 1) * ldy + out) * yBytes);
    gemms++;
  }

  @Override
  public boolean gemmFused(Precision p, long x, int rows, int in, long w, int out, long y, int ldy, boolean halfOut,
      boolean accumulate, long bias, boolean gelu) {
    if (refuseFused) {
      return false;
    }
    Runnable check = () -> {
      if (ldy < out) {
        throw new IllegalStateException("gemmFused: y's rows " + ldy + " apart, narrower than out " + out);
      }
      for (long address : new long[] {x, w, y, bias}) {
        if (address % 256 != 0) {
          throw new IllegalStateException("gemmFused: address " + address + " not 256-byte aligned");
        }
      }
      checkRange("gemmFused x", x, (long) rows * in * p.bytes);
      checkRange("gemmFused w", w, (long) out * in * p.bytes);
      checkRange("gemmFused y", y, ((long) (rows - 1) * ldy + out) * (halfOut ? p.bytes : 4));
      if (bias != 0) {
        checkRange("gemmFused bias", bias, (long) out * (halfOut ? p.bytes : 4));
      }
      fusedGemms++;
      fusedEpilogues.add(((accumulate ? "+y " : "") + (bias != 0 ? "+bias " : "") + (gelu ? "gelu " : "")
          + (halfOut ? "->16" : "")).trim());
    };
    if (recording != null) {
      recording.add(check);
    } else {
      check.run();
    }
    return true;
  }

  @Override
  public void synchronize() {
    onOneThread("synchronize");
    notRecording("synchronize");
    syncs++;
  }

  @Override
  public boolean canRecord() {
    return true;
  }

  @Override
  public void beginRecording() {
    notRecording("beginRecording");
    recording = new ArrayList<>();
  }

  @Override
  public long endRecording() {
    if (recording == null) {
      throw new IllegalStateException("endRecording without beginRecording");
    }
    recordings.add(recording);
    recording = null;
    recorded++;
    return recordings.size() - 1;
  }

  @Override
  public void abortRecording() {
    recording = null;
  }

  /** Replays re-check every recorded launch and GEMM against the memory live now. */
  @Override
  public void replay(long handle) {
    onOneThread("replay");
    notRecording("replay");
    List<Runnable> r = recordings.get((int) handle);
    if (r == null) {
      throw new IllegalStateException("replay of discarded recording " + handle);
    }
    r.forEach(Runnable::run);
    replays++;
  }

  @Override
  public void discard(long handle) {
    recordings.set((int) handle, null);
    discarded++;
  }

  /** From now on every device call must come from the thread that makes the next one. */
  void oneThread() {
    owner = null;
    oneThread = true;
  }

  private void onOneThread(String what) {
    if (!oneThread) {
      return;
    }
    Thread t = Thread.currentThread();
    if (owner == null) {
      owner = t;
    } else if (owner != t && wrongThreadCalls.size() < 5) { // the first few say enough
      wrongThreadCalls.add(what + " on " + t.getName() + " (device calls so far on " + owner.getName() + ")");
    }
  }

  private void notRecording(String what) {
    if (recording != null) {
      recording = null;
      throw new IllegalStateException(what + " while recording a graph");
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}
