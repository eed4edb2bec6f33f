package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.ops.TokenChoice;
import dev.gptneo.engine.ops.TokenTargets;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.TensorView;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The GPU backend: weights uploaded once in fp16/bf16 (or fp32), fp32 activations on the device,
 * GEMMs in cuBLAS with fp32 accumulation, everything else in the kernels of the .cu resources.
 * Work is queued on one stream; only {@link #read} waits for it. Same shapes and semantics as the
 * CPU backend (see {@link Ops}); one scheduler thread drives it.
 */
public final class CudaOps implements Ops {
  private static final int UPLOAD_CHUNK = 1 << 22; // elements per copy when a weight changes type
  /** System property: false turns CUDA graphs for decode steps off (default on where the device can record). */
  public static final String GRAPHS_PROPERTY = "gptneo.cuda.graphs";
  /** System property: from how many rows q|k|v is multiplied as three GEMMs (default: never). */
  public static final String SPLIT_STACKED_ROWS_PROPERTY = CudaLinear.SPLIT_STACKED_ROWS_PROPERTY;
  /** System property: cublas (default: cuBLAS, then bias_act) or lt (cuBLASLt, epilogues fused). */
  public static final String GEMM_PROPERTY = CudaLinear.GEMM_PROPERTY;
  /** System property: false stores every prompt step's k and v by kv_store (default true; {@link #attention}). */
  public static final String KV_IN_ATTENTION_PROPERTY = "gptneo.cuda.kvInAttention";
  /** System property: false keeps q|k|v in fp32 always (default true: 16 bits where attention rounds them anyway). */
  public static final String HALF_QKV_PROPERTY = "gptneo.cuda.halfQkv";
  /** System property: false runs beams, zero-shot labels and shared starts whole (default true: kv_copy). */
  public static final String COPY_CACHES_PROPERTY = "gptneo.cuda.copyCaches";
  /** System property: true fuses the layer norms into the one-row gemv (default false). */
  public static final String FUSE_NORM_PROPERTY = CudaLinear.FUSE_NORM_PROPERTY;
  /** System property: off (default), auto or 2-8: GEMMs of 5-256 rows on cuBLAS split over k (see CudaLinear). */
  public static final String SPLIT_K_PROPERTY = CudaLinear.SPLIT_K_PROPERTY;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CudaOps.class);

  private final Gpu gpu;
  private final CudaKernels kernels;
  private final Precision requested;  // null: the first matrix's dtype decides
  private Precision precision;        // weights, KV cache and GEMM inputs
  private final DevicePool cachePool;
  private final StepTables tables;
  private final List<Long> owned = new ArrayList<>(); // weights, activations, scratch: freed at close
  private final CudaKernels.AttentionLayer layer = new CudaKernels.AttentionLayer();
  private final CudaLinear linearLayers;              // gemv, gemm_rows, cuBLASLt or cuBLAS + bias_act
  private final Scratch intTable = new Scratch(this); // ints: gathered rows, summed row ranges
  private ByteBuffer intTableHost;                    // the host side of intTable
  private ByteBuffer uploadChunk;     // host fp32 chunk of a weight that changes type
  private int memoryGeneration;      // bumped when a buffer is freed (recordings hold addresses)
  private final Scratch rowSums = new Scratch(this);  // (count, cols) double row sums
  private final Scratch decodePartials = new Scratch(this);        // (pairs, splits, 2 + head_dim) floats
  private final Scratch decodeTickets = Scratch.tickets(this);     // (pairs) ints
  private final HeadReductions headReductions;        // chosen tokens and log-probabilities from LM logits
  private boolean closed;
  private final DecodeGraphs graphs;  // null: every step runs eagerly
  private boolean tablesUploaded;     // run() uploaded this step's tables before its body
  private final boolean kvInAttention =
      !"false".equalsIgnoreCase(System.getProperty(KV_IN_ATTENTION_PROPERTY, "true"));
  private final boolean halfQkv = !"false".equalsIgnoreCase(System.getProperty(HALF_QKV_PROPERTY, "true"));
  private final boolean copyCaches = !"false".equalsIgnoreCase(System.getProperty(COPY_CACHES_PROPERTY, "true"));
  private int headDim;                // the model's, from its first sequence cache (0 before)

  CudaOps(Gpu gpu, Precision requested) {
    this.gpu = gpu;
    this.requested = requested;
    this.kernels = new CudaKernels(gpu);
    this.linearLayers = new CudaLinear(this, gpu, kernels);
    this.headReductions = new HeadReductions(this, gpu, kernels);
    this.cachePool = new DevicePool(gpu);
    this.tables = new StepTables(gpu);
    boolean wanted = !"false".equalsIgnoreCase(System.getProperty(GRAPHS_PROPERTY, "true"));
    this.graphs = wanted && gpu.canRecord() ? new DecodeGraphs(gpu) : null;
  }

  /**
   * Decode-only steps (one new token per sequence) are recorded as a CUDA graph the second time
   * their shape is seen, and replayed after that: one launch instead of ~11 per layer. Prompt
   * steps, and anything a recording cannot take, run eagerly.
   */
  @Override
  public void run(Step step, Runnable body) {
    if (graphs == null || !StepTables.decodeOnly(step)) {
      body.run();
      return;
    }
    tables.upload(step); // copies cannot be recorded: the step's tables go first
    tablesUploaded = true;
    try {
      if (!graphs.run(step.numTokens, tables.decodeKeyBound, tables.generation + memoryGeneration, body)) {
        LOG.warn("CUDA graphs turned off for this engine: {}", graphs.failure());
      }
    } finally {
      tablesUploaded = false;
    }
  }

  @Override
  public String name() {
    return "cuda(" + gpu.describe() + ", " + (precision == null ? "precision from the checkpoint"
        : precision.suffix + " weights, fp32 accumulation") + ")";
  }

  /** The weights' precision, decided by the first matrix; null before. */
  Precision precision() {
    return precision;
  }

  @Override
  public long freeDeviceBytes() {
    return gpu.freeBytes();
  }

  @Override
  public long sequenceCacheBytes(GptNeoConfig config, int capacityTokens) {
    return CudaSequenceCache.bytes(config, capacityTokens, activePrecision());
  }

  @Override
  public boolean choosesTokens() {
    return kernels.choosesTokens();
  }

  @Override
  public void chooseTokens(Activations logits, TokenChoice choice, int[] dst, double[] logprobs) {
    headReductions.chooseTokens((CudaActivations) logits, choice, dst, logprobs);
  }

  @Override
  public boolean ranksTokens() {
    return kernels.ranksTokens(); // ranking.cu
  }

  @Override
  public void rankTokens(Activations logits, TokenChoice choice, float[] scores, int[] ids) {
    headReductions.rankTokens((CudaActivations) logits, choice, scores, ids);
  }

  @Override
  public boolean scoresTokens() {
    return kernels.ranksTokens(); // ranking.cu, with beam_candidates
  }

  @Override
  public void tokenLogprobs(Activations logits, TokenTargets targets, double[] dst) {
    headReductions.tokenLogprobs((CudaActivations) logits, targets, dst);
  }

  /**
   * The rows the host still processes (warpers that choose on the host, beams' logits) on the
   * common fork-join pool: the GPU leaves the host's cores free.
   */
  @Override
  public void forEachTask(int n, java.util.function.IntConsumer task) {
    if (n <= 1) {
      Ops.super.forEachTask(n, task);
    } else {
      java.util.stream.IntStream.range(0, n).parallel().forEach(task);
    }
  }

  @Override
  public Matrix matrix(TensorView... stacked) {
    if (precision == null) {
      precision = requested != null ? requested : Precision.forCheckpoint(stacked[0].dtype);
    }
    int rows = 0;
    int cols = stacked[0].dim(1);
    if (kernels.batchInvariant) {
      CudaLinear.checkInvariantServes(precision, cols);
    }
    for (TensorView t : stacked) {
      if (t.rank() != 2 || t.dim(1) != cols) {
        throw new IllegalArgumentException("stacked matrices must share the in dimension: " + t);
      }
      rows += t.dim(0);
    }
    long address = alloc((long) rows * cols * precision.bytes);
    long at = address;
    for (TensorView t : stacked) {
      upload(t, at);
      at += t.numel() * precision.bytes;
    }
    boolean equalParts = java.util.Arrays.stream(stacked).allMatch(t -> t.dim(0) == stacked[0].dim(0));
    return new CudaMatrix(address, rows, cols, precision, equalParts ? stacked.length : 1);
  }

  /** Copies a weight to the device in the model's precision, converting on the device when needed. */
  private void upload(TensorView t, long dst) {
    if (precision.matches(t.dtype)) {
      gpu.upload(dst, t.bytes());
      return;
    }
    long n = t.numel();
    boolean onDevice = precision.isHalf();
    long staging = onDevice ? alloc(4L * Math.min(n, UPLOAD_CHUNK)) : 0;
    if (uploadChunk == null) {
      uploadChunk = ByteBuffer.allocateDirect(4 * UPLOAD_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    }
    ByteBuffer chunk = uploadChunk;
    for (long from = 0; from < n; from += UPLOAD_CHUNK) {
      int count = (int) Math.min(UPLOAD_CHUNK, n - from);
      chunk.clear();
      if (t.dtype == DType.F32) {
        ByteBuffer src = t.bytes();
        src.position((int) (4 * from)).limit((int) (4 * (from + count)));
        chunk.put(src);
      } else {
        for (int i = 0; i < count; i++) {
          chunk.putFloat(t.getFloat(from + i));
        }
      }
      chunk.flip();
      if (onDevice) {
        gpu.upload(staging, chunk);
        kernels.cast(precision, staging, dst + from * precision.bytes, count);
      } else {
        gpu.upload(dst + 4 * from, chunk);
      }
    }
    if (onDevice) {
      gpu.synchronize(); // the casts read the staging buffer
      free(staging);
    }
  }

  @Override
  public Vector vector(TensorView weight) {
    float[] v = weight.toFloatArray();
    long address = alloc(4L * v.length);
    gpu.upload(address, floats(v, v.length));
    if (linearLayers.fusedGemms() && (weight.dtype == DType.F16 || weight.dtype == DType.BF16)) {
      // a 16-bit output's epilogue adds a bias of its own type: the checkpoint's, so nothing is rounded
      long copy = alloc(2L * v.length);
      gpu.upload(copy, weight.bytes());
      return new CudaVector(address, v.length, copy, weight.dtype);
    }
    return new CudaVector(address, v.length);
  }

  @Override
  public Activations activations(int rows, int cols) {
    return activations(rows, cols, false, false);
  }

  /** The MLP's hidden layer: with cuBLAS, gelu's epilogue writes only its 16-bit copy, which the next GEMM reads. */
  @Override
  public Activations linearInput(int rows, int cols) {
    return activations(rows, cols, true, false);
  }

  /** q|k|v: a prompt step's may hold only the 16-bit copy the tensor-core attention reads (see {@link #linear}). */
  @Override
  public Activations attentionInput(int rows, int cols) {
    return activations(rows, cols, false, true);
  }

  private Activations activations(int rows, int cols, boolean linearInput, boolean attentionInput) {
    CudaActivations a = new CudaActivations(alloc(4L * rows * cols), rows, cols, linearInput, attentionInput,
        this::addPendingBias);
    if (precision != null) {
      halfCopy(a); // now rather than at first use, so free memory measured after the model is what the KV cache gets
    }
    return a;
  }

  @Override
  public SequenceCache newSequenceCache(GptNeoConfig config, int capacityTokens) {
    if (precision == null) {
      precision = requested != null ? requested : Precision.F32; // no weights yet (kernel tests)
    }
    headDim = config.hiddenSize / config.numHeads;
    long bytes = CudaSequenceCache.bytes(config, capacityTokens, precision);
    try {
      return new CudaSequenceCache(cachePool, cachePool.take(bytes), bytes, capacityTokens, config);
    } catch (OutOfMemoryError e) {
      throw new OutOfMemoryError("GPU memory for the KV cache of a " + capacityTokens + "-token sequence ("
          + (bytes >> 20) + " MiB): " + e.getMessage());
    }
  }

  @Override
  public boolean copiesCaches() {
    return copyCaches;
  }

  @Override
  public int promptPieceTokens() {
    return kernels.batchInvariant ? CudaKernels.INVARIANT_CHUNK : 0;
  }

  @Override
  public boolean cachesFromAnyThread() {
    return false; // one thread drives the device (Gpu): the scheduler's
  }

  /** One kv_copy launch a layer: the positions from keeps, into to's slots; on the stream, after from's writes. */
  @Override
  public void copyCache(SequenceCache from, SequenceCache to) {
    CudaSequenceCache src = (CudaSequenceCache) from;
    CudaSequenceCache dst = (CudaSequenceCache) to;
    GptNeoConfig model = src.config;
    if (dst.config != model || src.length > dst.capacity) {
      throw new IllegalArgumentException("KV caches of different models, or " + src.length
          + " positions into a cache of " + dst.capacity);
    }
    int globals = 0;
    int locals = 0;
    for (int l = 0; l < model.numLayers; l++) {
      int kept = Math.min(src.length, model.cacheSlots(l, src.capacity));
      kernels.kvCopy(activePrecision(), src, dst, kept, globals, locals, model.isLocal(l));
      if (model.isLocal(l)) {
        locals++;
      } else {
        globals++;
      }
    }
    dst.length = src.length;
  }

  @Override
  public void embed(Step step, Matrix wte, Matrix wpe, Activations out) {
    CudaMatrix te = (CudaMatrix) wte;
    CudaActivations o = (CudaActivations) out;
    if (!tablesUploaded) {
      tables.upload(step);
    }
    o.settle();
    kernels.embed(te.precision, te.address, ((CudaMatrix) wpe).address, tables, o.address, te.cols);
    o.wrote(0);
  }

  @Override
  public void layerNorm(Activations x, Vector gamma, Vector beta, float eps, Activations out, int rows) {
    CudaActivations o = (CudaActivations) out;
    o.settle();
    long half = halfCopy(o);
    layerNorm((CudaActivations) x, (CudaVector) gamma, (CudaVector) beta, eps, o.address, half, rows);
    o.wrote(half != 0 ? rows : 0);
  }

  /** The layer norm kernel; it adds x's pending bias as it reads x (and writes x + bias back). */
  private void layerNorm(CudaActivations x, CudaVector gamma, CudaVector beta, float eps, long out, long half,
      int rows) {
    long xBias = x.takePendingBias(rows); // before fp32(), which would add it with a launch of its own
    kernels.layerNorm(activePrecision(), x.fp32("layer norm"), gamma.address, beta.address, eps, out, half, rows,
        x.cols, xBias);
  }

  @Override
  public void linear(Activations x, Matrix w, Vector bias, Activations out, int rows, Epilogue epilogue) {
    CudaActivations in = (CudaActivations) x;
    CudaActivations o = (CudaActivations) out;
    CudaMatrix m = (CudaMatrix) w;
    if (in.cols != m.cols || o.cols != m.rows) {
      throw new IllegalArgumentException("linear: x (" + in.cols + " cols) times [" + m.rows + ", " + m.cols
          + "]^T into " + o.cols + " cols");
    }
    if (qkvTo16(o, m, bias, rows, epilogue)) {
      linearLayers.runTo16(in, m, o, rows, halfCopy(o));
      return;
    }
    // gelu's output feeds the MLP's second GEMM: its 16-bit copy
    long half = epilogue == Epilogue.GELU_NEW ? halfCopy(o) : 0;
    linearLayers.run(in, m, (CudaVector) bias, o, rows, epilogue, half);
  }

  /**
   * At batch 1 with gptneo.cuda.fuseNorm, one gemv launch that normalizes x as it reads it; normed
   * stays unwritten. Where a GEMM on 16-bit inputs follows, the layer norm writes only its 16-bit copy.
   */
  @Override
  public void normLinear(Activations x, Vector gamma, Vector beta, float eps, Activations normed, Matrix w,
      Vector bias, Activations out, int rows, Epilogue epilogue) {
    CudaMatrix m = (CudaMatrix) w;
    CudaActivations o = (CudaActivations) out;
    boolean fused = linearLayers.fusesNorm(rows, m);
    if (x.cols() != m.cols || o.cols != m.rows || !fused && !linearLayers.readsHalfInput(rows, m)) {
      Ops.super.normLinear(x, gamma, beta, eps, normed, w, bias, out, rows, epilogue);
      return;
    }
    if (!fused) { // the layer norm writes only the 16-bit copy the GEMM reads
      CudaActivations n = (CudaActivations) normed;
      n.settle();
      layerNorm((CudaActivations) x, (CudaVector) gamma, (CudaVector) beta, eps, 0, halfCopy(n), rows);
      n.wroteNormedHalfOnly(rows);
      linear(normed, w, bias, out, rows, epilogue);
      return;
    }
    long half = epilogue == Epilogue.GELU_NEW ? halfCopy(o) : 0;
    linearLayers.runNormed((CudaActivations) x, (CudaVector) gamma, (CudaVector) beta, eps, m, (CudaVector) bias, o,
        epilogue, half);
    ((CudaActivations) normed).skipped();
  }

  @Override
  public void attention(Step step, int layerIndex, boolean local, int window, int numHeads, Activations qkv,
      Activations out) {
    if (!tables.matches(step)) {
      tables.upload(step);
    }
    CudaActivations o = (CudaActivations) out;
    o.settle();
    CudaKernels.AttentionLayer a = layer;
    CudaActivations in = (CudaActivations) qkv;
    boolean qkvIn16 = in.attentionHalfOnly(step.numTokens); // see qkvTo16
    a.qkv = qkvIn16 ? in.half : in.fp32("attention");
    a.out = o.address;
    a.outHalf = halfCopy(o);
    a.heads = numHeads;
    a.hidden = o.cols;
    a.headDim = o.cols / numHeads;
    a.local = local;
    a.window = window;
    a.globalsBefore = 0;
    a.localsBefore = 0;
    GptNeoConfig model = ((CudaSequenceCache) step.caches[0]).config; // one model: one layer pattern
    for (int l = 0; l < layerIndex; l++) {
      if (model.isLocal(l)) {
        a.localsBefore++;
      } else {
        a.globalsBefore++;
      }
    }
    Precision p = activePrecision();
    // The attention kernels cache the step's keys and values themselves (no kv_store launch) unless
    // a prompt chunk on a local layer reads cached keys: its ring slots are reused, so a fresh key
    // could overwrite a slot that another block's earlier query still reads. Global layers never
    // reuse a slot, and a chunk from position 0 reads no cached key.
    boolean attentionStores = tables.tileCount == 0 || kvInAttention && (!local || tables.promptsFromStart);
    if (qkvIn16 && (!attentionStores || tables.decodeCount > 0)) {
      throw new IllegalStateException("16-bit q|k|v in a step that needs them in fp32"); // qkvTo16 rules it out
    }
    if (tables.tileCount > 0) {
      kernels.attentionPrefill(p, tables, a, attentionStores, qkvIn16);
    }
    if (tables.decodeCount > 0) {
      int splits = kernels.decodeSplits(a, tables.decodeCount, tables.decodeKeyBound);
      // sized for any split step, so that a longer context never moves them (which would make every
      // recorded decode step stale): pairs x splits blocks, one ticket a pair
      int most = kernels.splitDecodeBlocks();
      long partial = splits > 1 ? decodePartials.atLeast(4L * most * (2 + a.headDim)) : 0;
      long tickets = splits > 1 ? decodeTickets.atLeast(4L * most) : 0;
      kernels.attentionDecode(p, tables, a, attentionStores, splits, partial, tickets);
    }
    if (!attentionStores) {
      kernels.kvStore(p, tables, a);
    }
    o.wrote(a.outHalf != 0 ? step.numTokens : 0);
  }

  @Override
  public void commit(Step step) {
    for (int s = 0; s < step.numSeqs; s++) {
      ((CudaSequenceCache) step.caches[s]).length += step.newTokens(s);
    }
  }

  @Override
  public void gatherRows(Activations src, int[] rows, int count, Activations dst) {
    long table = uploadInts(rows, count);
    CudaActivations d = (CudaActivations) dst;
    d.settle();
    kernels.gatherRows(((CudaActivations) src).fp32("gather"), table, d.address, src.cols(), count);
    d.wrote(0);
  }

  /** The first n of values in the device's int table (gathered rows, row ranges): queued, in stream order. */
  private long uploadInts(int[] values, int n) {
    long table = intTable.atLeast(4L * Math.max(n, 64));
    if (intTableHost == null || intTableHost.capacity() < 4 * n) {
      intTableHost = ByteBuffer.allocateDirect(4 * Math.max(n, 64)).order(ByteOrder.LITTLE_ENDIAN);
    }
    ByteBuffer b = intTableHost;
    b.clear();
    for (int i = 0; i < n; i++) {
      b.putInt(values[i]);
    }
    b.flip();
    gpu.upload(table, b);
    return table;
  }

  @Override
  public boolean sumsRows() {
    return true;
  }

  @Override
  public void sumRows(Activations src, int[] ranges, int count, double[] dst) {
    int cols = src.cols();
    long bytes = 8L * count * cols;
    long sums = rowSums.atLeast(bytes);
    long table = uploadInts(ranges, 2 * count);
    kernels.sumRows(((CudaActivations) src).fp32("row sums"), table, sums, count, cols);
    gpu.download(sums, bytes).asDoubleBuffer().get(dst, 0, count * cols);
  }

  @Override
  public void read(Activations x, int rows, float[] dst) {
    int n = rows * x.cols();
    gpu.download(((CudaActivations) x).fp32("read"), 4L * n).asFloatBuffer().get(dst, 0, n);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      gpu.synchronize();
      if (graphs != null) {
        graphs.close();
      }
      cachePool.close();
      tables.close();
      owned.forEach(gpu::free);
      owned.clear();
    } finally {
      gpu.close();
    }
  }

  /** The precision of the kernels' 16-bit copies and caches; fp32 until a matrix decides. */
  private Precision activePrecision() {
    return precision != null ? precision : Precision.F32;
  }

  /** The 16-bit copy of an activation buffer for kernels that feed a GEMM; 0 when GEMMs run in fp32. */
  private long halfCopy(CudaActivations a) {
    Precision p = activePrecision();
    if (!p.isHalf()) {
      return 0;
    }
    if (a.half == 0) {
      a.half = alloc((long) a.rows * a.cols * p.bytes);
    }
    return a.half;
  }

  /**
   * Whether this GEMM writes q|k|v's 16-bit copy alone: a step of prompt chunks only, each from
   * position 0 (so no kv_store, which reads fp32, and no decode token), whose attention runs on the
   * tensor cores; that kernel rounds q, k and v to 16 bits anyway, so it reads the same values
   * (emulated bit for bit) in half the bytes. This step's tables are on the device (embed).
   */
  private boolean qkvTo16(CudaActivations o, CudaMatrix m, Vector bias, int rows, Epilogue epilogue) {
    return halfQkv && !kernels.batchInvariant && kvInAttention && o.attentionInput && bias == null
        && epilogue == Epilogue.STORE
        && linearLayers.readsHalfInput(rows, m) && tables.tokens == rows && tables.tileCount > 0
        && tables.decodeCount == 0 && tables.promptsFromStart && kernels.prefillOnTensorCores(m.precision, headDim);
  }

  /** Adds a residual's pending bias (see {@link CudaActivations#deferBias}) with a bias_act pass of its own. */
  private void addPendingBias(CudaActivations a) {
    kernels.biasAct(activePrecision(), a.address, a.pendingBias(), 0, a.pendingRows(), a.cols, false, false);
  }

  /** Queues zeros into bytes of device memory at address. */
  void uploadZeros(long address, long bytes) {
    gpu.upload(address, ByteBuffer.allocateDirect(Math.toIntExact(bytes)));
  }

  /** Waits for the queued work (before a buffer it may read is freed). */
  void synchronizeDevice() {
    gpu.synchronize();
  }

  /** Memory for weights, activations and scratch; too little is an error about the model, not the heap. */
  long alloc(long bytes) {
    long address;
    try {
      address = gpu.malloc(Math.max(bytes, 4));
    } catch (OutOfMemoryError e) {
      throw new CudaException("the model does not fit on " + gpu.describe() + ": " + e.getMessage()
          + " (weights and activations; a smaller max batch of tokens needs smaller activations)");
    }
    owned.add(address);
    return address;
  }

  void free(long address) {
    owned.remove(address);
    gpu.free(address);
    memoryGeneration++; // recordings may hold the address
  }

  private static ByteBuffer floats(float[] v, int n) {
    ByteBuffer b = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v, 0, n);
    return b;
  }
}
