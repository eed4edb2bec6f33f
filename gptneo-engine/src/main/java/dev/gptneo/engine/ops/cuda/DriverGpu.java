package dev.gptneo.engine.ops.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_GEMM_DEFAULT;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasDestroy_v2;
import static org.bytedeco.cuda.global.cublas.cublasGemmEx;
import static org.bytedeco.cuda.global.cublas.cublasGemmStridedBatchedEx;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusString;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cublas.cublasSetWorkspace_v2;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16F;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;
import static org.bytedeco.cuda.global.cudart.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES;
import static org.bytedeco.cuda.global.cudart.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
import static org.bytedeco.cuda.global.cudart.cuFuncSetAttribute;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernelEx;
import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;
import static org.bytedeco.cuda.global.cudart.cudaErrorMemoryAllocation;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaGraphDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphExecDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphInstantiate;
import static org.bytedeco.cuda.global.cudart.cudaGraphLaunch;
import static org.bytedeco.cuda.global.cudart.cudaStreamBeginCapture;
import static org.bytedeco.cuda.global.cudart.cudaStreamCaptureModeThreadLocal;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamEndCapture;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaGetLastError;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemGetInfo;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;

import dev.gptneo.engine.ops.cuda.KernelFunction.Param;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUlaunchAttribute;
import org.bytedeco.cuda.cudart.CUlaunchConfig;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * {@link Gpu} on a real device through bytedeco: the CUDA runtime for memory, the driver API for
 * kernels (NVRTC-compiled, loaded once per JVM and device), cuBLAS for GEMMs, CUDA graphs for
 * recordings, and {@link BlasLt} for fused GEMMs. All work goes on one stream of its own. With {@link
 * BlasLt}, {@link Nvrtc} and {@link CudaSupport}, the only classes that touch bytedeco, so nothing
 * else loads CUDA's native libraries.
 */
final class DriverGpu implements Gpu {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DriverGpu.class);
  private static final int MAX_ARGS = 32;
  /** Modules stay loaded for the JVM's life: (device:file) -> its kernels. */
  private static final Map<String, Map<String, KernelFunction>> MODULES = new ConcurrentHashMap<>();
  private static final List<CUfunc_st> FUNCTIONS = new CopyOnWriteArrayList<>(); // KernelFunction.handle -> function
  private static final List<CUmod_st> LOADED = new CopyOnWriteArrayList<>();

  private final int device;
  private final String description;
  private final String arch;
  private final int maxShared;
  private final int multiprocessors;
  private final boolean syncEachLaunch = Boolean.getBoolean("gptneo.cuda.syncEachLaunch");
  // Programmatic dependent launch: kernels compiled with GPTNEO_PDL whose PTX waits first start while the previous
  // kernel finishes (common.cuh, after_previous_kernel). Off when the device is older than sm_90 or a launch fails.
  private boolean programmatic;
  private CUlaunchConfig programmaticLaunch; // its launch configuration, the attribute set once
  private CUlaunchAttribute programmaticAttribute; // held here: the configuration keeps only its address
  private final LaunchProfile profile = Boolean.getBoolean("gptneo.cuda.profile") ? new LaunchProfile() : null;
  private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> Boolean.FALSE);
  private final cublasContext blas = new cublasContext();
  private final LongPointer argSlots = new LongPointer(MAX_ARGS);     // one 8-byte slot per argument
  private final LongPointer argAddresses = new LongPointer(MAX_ARGS); // slot addresses: cuLaunchKernel's void**
  // The same memory typed as void**: bytedeco's Pointer overload of cuLaunchKernel is @ByPtrPtr (it would pass
  // the address of a temporary), and with it a null `extra` becomes a non-null void** that CUDA rejects.
  private final PointerPointer<Pointer> kernelParams = asPointerArray(argAddresses);
  private final FloatPointer one = new FloatPointer(1f);
  private final FloatPointer zero = new FloatPointer(0f);
  private static final long BLAS_WORKSPACE = 32L << 20; // cuBLAS's own, so it allocates nothing while recording
  // All work, copies included, goes on one stream of this backend's own: ordered, and recordable as
  // a graph without touching the legacy default stream that other engines in the JVM may use.
  private final CUstream_st stream = new CUstream_st();
  private final long blasWorkspace;
  private final List<CUgraphExec_st> graphs = new java.util.ArrayList<>(); // recording handle -> graph
  private boolean recording;
  private final BlasLt.Choice ltChoice = BlasLt.Choice.parse(System.getProperty(BlasLt.ALGO_PROPERTY));
  private BlasLt lt;            // made at the first fused GEMM outside a recording
  private boolean ltUnavailable; // making it failed: cuBLAS runs every GEMM
  private long ltWorkspace;     // (BlasLt.WORKSPACE_BYTES) its own, so it allocates nothing while recording
  private BytePointer pinned;   // page-locked host buffer for downloads
  private long pinnedBytes;
  private boolean closed;

  DriverGpu(int device) {
    this.device = device;
    bind();
    cudaDeviceProp p = new cudaDeviceProp();
    check(cudaGetDeviceProperties(p, device), "cudaGetDeviceProperties");
    arch = "compute_" + p.major() + p.minor();
    maxShared = (int) p.sharedMemPerBlockOptin();
    multiprocessors = p.multiProcessorCount();
    description = String.format(Locale.ROOT, "%s (cc %d.%d, %d SMs, %.1f GiB, device %d)", p.name().getString(),
        p.major(), p.minor(), p.multiProcessorCount(), p.totalGlobalMem() / (double) (1L << 30), device);
    checkBlas(cublasCreate_v2(blas), "cublasCreate");
    check(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking), "cudaStreamCreate");
    checkBlas(cublasSetStream_v2(blas, stream), "cublasSetStream");
    blasWorkspace = malloc(BLAS_WORKSPACE);
    checkBlas(cublasSetWorkspace_v2(blas, at(blasWorkspace), BLAS_WORKSPACE), "cublasSetWorkspace");
    for (int i = 0; i < MAX_ARGS; i++) {
      argAddresses.put(i, argSlots.address() + 8L * i);
    }
    boolean askedEarlyLaunch = Boolean.getBoolean(PROGRAMMATIC_PROPERTY);
    programmatic = askedEarlyLaunch && p.major() >= 9;
    if (askedEarlyLaunch && !programmatic) {
      LOG.info("{}: programmatic dependent launch needs compute capability 9.0; kernels launch as usual", description);
    }
  }

  static final String PROGRAMMATIC_PROPERTY = "gptneo.cuda.pdl";

  /** cuLaunchKernelEx's configuration with CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION allowed. */
  private CUlaunchConfig programmaticLaunch() {
    if (programmaticLaunch == null) {
      CUlaunchAttribute attribute = programmaticAttribute = new CUlaunchAttribute(1);
      attribute.id(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
      attribute.value().programmaticStreamSerializationAllowed(1);
      IntPointer raw = new IntPointer(attribute).capacity(18).limit(18); // 72 bytes: id, pad, the value's union
      if (raw.get(0) != CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION || raw.get(2) != 1) {
        raw.put(0, CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION).put(2, 1);
      }
      programmaticLaunch = new CUlaunchConfig().attrs(attribute).numAttrs(1).hStream(stream).gridDimZ(1)
          .blockDimY(1).blockDimZ(1);
    }
    return programmaticLaunch;
  }

  /** The runtime makes the device's primary context current per thread: bind each calling thread once. */
  private void bind() {
    if (!bound.get()) {
      check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
      bound.set(Boolean.TRUE);
    }
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public int multiprocessors() {
    return multiprocessors;
  }

  @Override
  public int maxSharedBytes() {
    return maxShared;
  }

  @Override
  public long freeBytes() {
    bind();
    SizeTPointer free = new SizeTPointer(1);
    SizeTPointer total = new SizeTPointer(1);
    check(cudaMemGetInfo(free, total), "cudaMemGetInfo");
    return free.get();
  }

  @Override
  public long malloc(long bytes) {
    bind();
    Pointer p = new Pointer();
    int rc = cudaMalloc(p, bytes);
    if (rc == cudaErrorMemoryAllocation) {
      cudaGetLastError(); // clear it
      throw new OutOfMemoryError("cudaMalloc of " + (bytes >> 20) + " MiB failed: " + (freeBytes() >> 20)
          + " MiB free on " + description);
    }
    check(rc, "cudaMalloc(" + bytes + ")");
    return p.address();
  }

  @Override
  public void free(long address) {
    bind();
    check(cudaFree(at(address)), "cudaFree");
  }

  @Override
  public void upload(long dst, ByteBuffer src) {
    bind();
    int n = src.remaining();
    if (n == 0) {
      return;
    }
    if (src.isDirect()) {
      // pageable memory: the driver stages it before returning, so src may change right after
      check(cudaMemcpyAsync(at(dst), new BytePointer(src), n, cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync to the device");
    } else {
      BytePointer host = staging(n);
      host.asByteBuffer().put(src.duplicate());
      check(cudaMemcpyAsync(at(dst), host, n, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync to the device");
      check(cudaStreamSynchronize(stream), "cudaMemcpyAsync to the device"); // the pinned buffer is reused
    }
  }

  @Override
  public ByteBuffer download(long src, long bytes) {
    bind();
    BytePointer host = staging(bytes);
    check(cudaMemcpyAsync(host, at(src), bytes, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync from the device");
    check(cudaStreamSynchronize(stream), "cudaMemcpyAsync from the device");
    return host.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The pinned buffer, at least {@code bytes} long, positioned to view exactly {@code bytes}. */
  private BytePointer staging(long bytes) {
    if (bytes > pinnedBytes) {
      if (pinned != null) {
        check(cudaFreeHost(pinned), "cudaFreeHost");
      }
      long size = Math.max(bytes, 2 * pinnedBytes);
      pinned = new BytePointer();
      check(cudaMallocHost(pinned, size), "cudaMallocHost(" + size + ")");
      pinned.capacity(size);
      pinnedBytes = size;
    }
    pinned.position(0).limit(bytes);
    return pinned;
  }

  @Override
  public Map<String, KernelFunction> load(String file, String source, Map<String, String> headers) {
    bind();
    boolean early = programmatic;
    return MODULES.computeIfAbsent(device + ":" + file + (early ? ":pdl" : ""), key -> {
      String text = early ? "#define GPTNEO_PDL 1\n#line 1\n" + source : source;
      String ptx = PtxCache.get(arch, file, text, headers, () -> Nvrtc.compile(file, text, headers, arch));
      CUmod_st module = new CUmod_st();
      checkDriver(cuModuleLoadData(module, new BytePointer(ptx)), "cuModuleLoadData " + file);
      LOADED.add(module);
      Map<String, KernelFunction> kernels = new HashMap<>();
      Map<String, Param[]> entries = PtxEntries.parse(ptx);
      Set<String> waiting = early ? PtxEntries.waitingFirst(ptx) : Set.of();
      if (early) {
        LOG.info("{}: programmatic dependent launch for {} of {} kernels", file, waiting.size(), entries.size());
      }
      for (Map.Entry<String, Param[]> e : entries.entrySet()) {
        CUfunc_st f = new CUfunc_st();
        checkDriver(cuModuleGetFunction(f, module, e.getKey()), "cuModuleGetFunction " + e.getKey());
        synchronized (FUNCTIONS) {
          FUNCTIONS.add(f);
          kernels.put(e.getKey(), new KernelFunction(e.getKey(), FUNCTIONS.size() - 1, e.getValue(),
              waiting.contains(e.getKey())));
        }
      }
      return kernels;
    });
  }

  @Override
  public void allowShared(KernelFunction f, int bytes) {
    bind();
    checkDriver(cuFuncSetAttribute(FUNCTIONS.get(f.handle), CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
        "cuFuncSetAttribute " + f.name);
  }

  @Override
  public void launch(KernelFunction f, int gridX, int gridY, int block, int sharedBytes, long[] args) {
    launch(f.name, f, gridX, gridY, block, sharedBytes, args);
  }

  @Override
  public boolean profiling() {
    return profile != null;
  }

  @Override
  public void launch(String label, KernelFunction f, int gridX, int gridY, int block, int sharedBytes, long[] args) {
    bind();
    if (args.length > MAX_ARGS) {
      throw new IllegalArgumentException(f.name + ": more than " + MAX_ARGS + " arguments");
    }
    if (gridX == 0) {
      return; // nothing to do (CUDA rejects empty grids)
    }
    long t0 = profile != null ? profile.start(this::synchronize) : 0;
    argSlots.put(args, 0, args.length);
    int rc = programmatic && f.waitsFirst ? launchEarly(f, gridX, gridY, block, sharedBytes) : -1;
    if (rc != 0) {
      rc = cuLaunchKernel(FUNCTIONS.get(f.handle), gridX, gridY, 1, block, 1, 1, sharedBytes, stream, kernelParams,
          (PointerPointer<?>) null);
    }
    checkDriver(rc, "launching " + f.name + " <<<(" + gridX + ", " + gridY + "), " + block + ", " + sharedBytes
        + ">>>");
    if (syncEachLaunch) {
      check(cudaStreamSynchronize(stream), "kernel " + f.name);
    }
    if (profile != null) {
      profile.stop(label, t0, this::synchronize);
    }
  }

  /** Launches f with programmatic stream serialization; on a refusal, logs it, turns it off and returns the code. */
  private int launchEarly(KernelFunction f, int gridX, int gridY, int block, int sharedBytes) {
    CUlaunchConfig c = programmaticLaunch().gridDimX(gridX).gridDimY(gridY).blockDimX(block).sharedMemBytes(sharedBytes);
    int rc = cuLaunchKernelEx(c, FUNCTIONS.get(f.handle), kernelParams, (PointerPointer<?>) null);
    if (rc != 0) {
      programmatic = false;
      LOG.warn("{}: programmatic dependent launch of {} refused ({}); every kernel launches as usual from now on",
          description, f.name, driverError(rc));
    }
    return rc;
  }

  @Override
  public void gemm(Precision p, long x, int rows, int in, long w, int out, long y, int ldy, boolean accumulate) {
    gemmEx(p, x, rows, in, w, out, y, CUDA_R_32F, ldy, accumulate, "");
  }

  @Override
  public void gemmTo16(Precision p, long x, int rows, int in, long w, int out, long y, int ldy) {
    gemmEx(p, x, rows, in, w, out, y, dataType(p), ldy, false, " to 16-bit");
  }

  /** cublasGemmEx with fp32 accumulation, y of yType; what names the GEMM in errors and the profile. */
  private void gemmEx(Precision p, long x, int rows, int in, long w, int out, long y, int yType, int ldy,
      boolean accumulate, String what) {
    bind();
    long t0 = profile != null ? profile.start(this::synchronize) : 0;
    int type = dataType(p);
    // Column-major view: y^T (out, rows) = w (in, out)^T x^T (in, rows).
    checkBlas(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in, one, at(w), type, in, at(x), type, in,
        accumulate ? one : zero, at(y), yType, ldy, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx " + p + what + " (" + rows + " x " + in + ") x (" + out + " x " + in + ")^T");
    if (syncEachLaunch) {
      check(cudaStreamSynchronize(stream), "cublasGemmEx");
    }
    if (profile != null) {
      profile.stop(LaunchProfile.gemmName(p, rows, in, out) + what, t0, this::synchronize);
    }
  }


  @Override
  public void gemmSplitK(Precision p, long x, int rows, int in, long w, int out, long partial, int slices) {
    bind();
    long t0 = profile != null ? profile.start(this::synchronize) : 0;
    int type = dataType(p);
    int k = in / slices;
    // Column-major, as gemmEx: slice s is partial_s^T (out, rows) = w_s (k, out)^T x_s^T (k, rows), where w_s and
    // x_s start k * s elements into each row (leading dimension in); batched with those strides.
    checkBlas(cublasGemmStridedBatchedEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, k, one, at(w), type, in, k, at(x),
        type, in, k, zero, at(partial), CUDA_R_32F, out, (long) rows * out, slices, CUBLAS_COMPUTE_32F,
        CUBLAS_GEMM_DEFAULT), "cublasGemmStridedBatchedEx " + p + " (" + rows + " x " + in + ") x (" + out + " x " + in
        + ")^T in " + slices + " slices of k");
    if (syncEachLaunch) {
      check(cudaStreamSynchronize(stream), "cublasGemmStridedBatchedEx");
    }
    if (profile != null) {
      profile.stop(LaunchProfile.gemmName(p, rows, in, out) + " split-k " + slices, t0, this::synchronize);
    }
  }

  @Override
  public boolean gemmFused(Precision p, long x, int rows, int in, long w, int out, long y, int ldy, boolean halfOut,
      boolean accumulate, long bias, boolean gelu) {
    bind();
    if (lt == null) {
      if (recording || ltUnavailable) {
        return false; // its workspace cannot be allocated while recording
      }
      ltWorkspace = malloc(BlasLt.WORKSPACE_BYTES);
      try {
        lt = new BlasLt(stream, ltWorkspace, ltChoice, this::malloc, this::free);
      } catch (CudaException | LinkageError e) {
        ltUnavailable = true;
        cudaFree(at(ltWorkspace));
        LOG.warn("cuBLASLt unavailable, so GEMMs run on cuBLAS with bias_act after them: {}", e.toString());
        return false;
      }
    }
    BlasLt.Shape shape = new BlasLt.Shape(p, rows, in, out, ldy, halfOut, accumulate, bias != 0, gelu);
    long t0 = profile != null ? profile.start(this::synchronize) : 0;
    if (!lt.matmul(shape, x, w, y, bias, recording)) {
      return false;
    }
    if (syncEachLaunch) {
      check(cudaStreamSynchronize(stream), "cublasLtMatmul");
    }
    if (profile != null) {
      profile.stop(shape.label(), t0, this::synchronize);
    }
    return true;
  }

  @Override
  public void synchronize() {
    bind();
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  }

  /** Graphs need every launch to be one recordable call: not when each launch is waited for or timed. */
  @Override
  public boolean canRecord() {
    return !syncEachLaunch && profile == null;
  }

  @Override
  public void beginRecording() {
    bind();
    check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    recording = true;
  }

  @Override
  public long endRecording() {
    bind();
    recording = false;
    CUgraph_st graph = new CUgraph_st();
    check(cudaStreamEndCapture(stream, graph), "cudaStreamEndCapture");
    try {
      CUgraphExec_st exec = new CUgraphExec_st();
      check(cudaGraphInstantiate(exec, graph, 0L), "cudaGraphInstantiate");
      graphs.add(exec);
      return graphs.size() - 1;
    } finally {
      cudaGraphDestroy(graph); // the instantiated graph keeps what it needs
    }
  }

  @Override
  public void abortRecording() {
    if (!recording) {
      return;
    }
    recording = false;
    CUgraph_st graph = new CUgraph_st();
    if (cudaStreamEndCapture(stream, graph) == 0 && !graph.isNull()) {
      cudaGraphDestroy(graph);
    }
    cudaGetLastError(); // clear the capture's error
  }

  @Override
  public void replay(long handle) {
    bind();
    check(cudaGraphLaunch(graphs.get((int) handle), stream), "cudaGraphLaunch");
  }

  @Override
  public void discard(long handle) {
    CUgraphExec_st exec = graphs.set((int) handle, null);
    if (exec != null) {
      cudaGraphExecDestroy(exec);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    bind();
    if (profile != null) {
      profile.log(description);
    }
    for (int i = 0; i < graphs.size(); i++) {
      discard(i);
    }
    cublasDestroy_v2(blas);
    cudaFree(at(blasWorkspace));
    if (lt != null) {
      lt.close();
      cudaFree(at(ltWorkspace));
    }
    cudaStreamDestroy(stream);
    if (pinned != null) {
      cudaFreeHost(pinned);
      pinned = null;
    }
  }

  /** CUDA's cudaDataType for p. */
  static int dataType(Precision p) {
    return p == Precision.F32 ? CUDA_R_32F : p == Precision.F16 ? CUDA_R_16F : CUDA_R_16BF;
  }

  /** {@code addresses} as a {@code void**} over the same memory (no copy). */
  static PointerPointer<Pointer> asPointerArray(LongPointer addresses) {
    return new PointerPointer<>(addresses);
  }

  /** A pointer object for a device address. */
  static Pointer at(long deviceAddress) {
    return new DevicePointer(deviceAddress);
  }

  /** A named class: in an anonymous one, Pointer's own field {@code address} would hide a captured variable. */
  private static final class DevicePointer extends Pointer {
    DevicePointer(long deviceAddress) {
      this.address = deviceAddress;
    }
  }

  private static void check(int rc, String what) {
    if (rc != 0) {
      throw new CudaException(what + " failed: " + cudaGetErrorString(rc).getString() + " (cudaError " + rc + ")");
    }
  }

  private static void checkDriver(int rc, String what) {
    if (rc != 0) {
      throw new CudaException(what + " failed: " + driverError(rc));
    }
  }

  private static String driverError(int rc) {
    PointerPointer<BytePointer> message = new PointerPointer<>(1);
    cuGetErrorString(rc, message);
    BytePointer text = message.get(BytePointer.class, 0);
    return text == null || text.isNull() ? "CUresult " + rc : text.getString() + " (CUresult " + rc + ")";
  }

  private static void checkBlas(int rc, String what) {
    if (rc != 0) {
      throw new CudaException(what + " failed: " + cublasGetStatusString(rc).getString() + " (cublasStatus " + rc + ")");
    }
  }
}
