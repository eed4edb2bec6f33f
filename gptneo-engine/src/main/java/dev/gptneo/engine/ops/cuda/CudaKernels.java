package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.config.GptNeoConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * The backend's kernels (the .cu resources) with their launch shapes. Each method launches one
 * kernel; arguments are checked against the compiled kernel's parameters before the launch.
 */
final class CudaKernels {
  /** Queries per prefill block: BQ in attention_prefill.cu. */
  static final int PREFILL_QUERIES = 64;
  private static final int PREFILL_KEYS = 32;    // BK
  private static final int PREFILL_THREADS = 256; // THREADS
  private static final int QS = PREFILL_QUERIES + 4;
  private static final int KS = PREFILL_KEYS + 2;
  private static final int PS = PREFILL_QUERIES + 4;
  static final int DECODE_THREADS = 256;
  private static final int MMA_THREADS = 128;     // MTHREADS in attention_prefill_mma.cu
  private static final int MMA_KEYS = 64;         // MK
  private static final int MMA_PAD = 8;           // PAD
  /**
   * System property: prefill attention on the tensor cores ({@code mma}, default: 16-bit operands,
   * for head sizes 64 and 128 in f16/bf16; other cases run simt) or the CUDA cores ({@code simt},
   * fp32 operands). mma passed HF's goldens at head sizes 64 and 128 on an H100 (CudaWideGoldenTest).
   */
  static final String PREFILL_ATTENTION_PROPERTY = "gptneo.cuda.prefillAttention";

  /** The prefill attention kernel this JVM asks for: {@link #PREFILL_ATTENTION_PROPERTY}, else mma. */
  static String prefillAttention() {
    return System.getProperty(PREFILL_ATTENTION_PROPERTY, "mma");
  }
  private static final int ROW_THREADS = 256;    // one block per row: embed, layer norm, gather, store
  private static final int STORE_THREADS = 128;
  private static final int MAX_STRIDE_BLOCKS = 4096; // grid-stride kernels
  /** Candidates choose_tokens keeps in shared memory: CHOICE_CAP in sampling.cu. */
  static final int CHOICE_CAP = 2048;
  private static final int CHOICE_SHARED = 28 * CHOICE_CAP; // key, e, val, p, id per candidate
  static final int CHOOSE_THREADS = 512;                     // its __launch_bounds__

  private final Gpu gpu;
  private final Map<String, KernelFunction> functions = new HashMap<>();
  private final boolean mmaPrefill;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CudaKernels.class);
  /** Files whose kernels have a fallback (the fp32 attention, the host's token choice): one failing to build is a warning. */
  static final java.util.Set<String> OPTIONAL = java.util.Set.of("attention_prefill_mma.cu", "sampling.cu",
      "ranking.cu", "gemm_rows.cu");
  /**
   * System property: GEMMs of 5 to 256 rows on our tensor-core kernel ({@code mma}, 16-bit
   * weights, in % 64 == 0) or on cuBLAS ({@code cublas}, default until measured on a GPU).
   */
  static final String SMALL_GEMM_PROPERTY = "gptneo.cuda.smallGemm";
  private final boolean mmaSmallGemm;
  /**
   * System property: true gives a row the same bits whatever its batch (default false): every
   * linear layer on gemm_rows with k slices fixed per shape (no gemv, cuBLAS or split-k chosen by
   * the rows), decode attention unsplit, q|k|v in fp32, and prompts cut at multiples of {@link
   * #INVARIANT_CHUNK} tokens. 16-bit weights whose widths are multiples of 64.
   */
  static final String BATCH_INVARIANT_PROPERTY = "gptneo.cuda.batchInvariant";
  /** Prompt pieces end at multiples of this in the batch-invariant mode (a multiple of 64). */
  static final int INVARIANT_CHUNK = 256;
  /** Rows of one gemm_rows launch in the batch-invariant mode: bounds its partial sums. */
  static final int INVARIANT_ROWS = 256;
  final boolean batchInvariant = Boolean.getBoolean(BATCH_INVARIANT_PROPERTY);
  private final boolean gemvOn = !batchInvariant
      && !"false".equalsIgnoreCase(System.getProperty(GEMV_PROPERTY, "true"));
  private final java.util.Set<String> missing = new java.util.TreeSet<>();

  CudaKernels(Gpu gpu) {
    this.gpu = gpu;
    String attention = prefillAttention();
    if (!attention.equals("simt") && !attention.equals("mma")) {
      throw new IllegalArgumentException(PREFILL_ATTENTION_PROPERTY + " must be simt or mma, got '" + attention + "'");
    }
    String smallGemm = System.getProperty(SMALL_GEMM_PROPERTY, "cublas");
    if (!smallGemm.equals("cublas") && !smallGemm.equals("mma")) {
      throw new IllegalArgumentException(SMALL_GEMM_PROPERTY + " must be cublas or mma, got '" + smallGemm + "'");
    }
    boolean gemmRows = smallGemm.equals("mma") || batchInvariant;
    Map<String, String> headers = KernelSources.headers();
    for (String file : KernelSources.FILES) {
      if (file.equals("attention_prefill_mma.cu") && !attention.equals("mma")
          || file.equals("gemm_rows.cu") && !gemmRows) {
        continue; // not asked for: not compiled
      }
      try {
        functions.putAll(gpu.load(file, KernelSources.read(file), headers));
      } catch (RuntimeException e) {
        if (!OPTIONAL.contains(file) || batchInvariant && file.equals("gemm_rows.cu")) {
          throw e;
        }
        missing.add(file);
        LOG.warn("CUDA kernels of {} unavailable, falling back ({}): {}", file,
            fallback(file), e.getMessage());
      }
    }
    this.mmaPrefill = attention.equals("mma") && !missing.contains("attention_prefill_mma.cu");
    this.mmaSmallGemm = gemmRows && !missing.contains("gemm_rows.cu");
    if (batchInvariant) {
      LOG.info("batch-invariant mode ({}): every linear layer on gemm_rows, decode attention unsplit, prompts cut"
          + " at multiples of {} tokens", BATCH_INVARIANT_PROPERTY, INVARIANT_CHUNK);
    }
  }

  private static String fallback(String file) {
    switch (file) {
      case "sampling.cu": return "tokens chosen on the host";
      case "ranking.cu": return "beams ranked and tokens scored on the host";
      case "gemm_rows.cu": return "cuBLAS for small GEMMs";
      default: return "fp32 prefill attention";
    }
  }

  /** Whether the device chooses tokens (sampling.cu built). */
  boolean choosesTokens() {
    return !missing.contains("sampling.cu");
  }

  /** Whether the device ranks beams' continuations and scores listed tokens (ranking.cu built). */
  boolean ranksTokens() {
    return !missing.contains("ranking.cu");
  }

  /** What one layer's attention kernels read besides the step's tables. */
  static final class AttentionLayer {
    long qkv;          // (tokens, 3 * hidden) fp32 [q | k | v]
    long out;          // (tokens, hidden) fp32
    long outHalf;      // (tokens, hidden) 16-bit copy, or 0
    int heads;
    int hidden;
    int headDim;
    int globalsBefore; // global layers before this one: its place in each cache block
    int localsBefore;
    boolean local;
    int window;
  }

  void embed(Precision p, long wte, long wpe, StepTables t, long out, int hidden) {
    launch("embed_" + p.suffix, t.tokens, 1, ROW_THREADS, 0, wte, wpe, t.tokenIds, t.positions, out, hidden);
  }

  /**
   * out (rows, cols) fp32 and outHalf its 16-bit copy (either may be 0) = layerNorm(x [+ xBias]);
   * with xBias != 0 the kernel also writes x + xBias back to x (a residual's pending bias).
   */
  void layerNorm(Precision p, long x, long gamma, long beta, float eps, long out, long outHalf, int rows, int cols,
      long xBias) {
    launch("layernorm_" + p.suffix, rows, 1, ROW_THREADS, 0, x, gamma, beta, eps, out, outHalf, cols, xBias);
  }

  /**
   * y = gelu_new(y + bias) or y + bias, in place; bias and yHalf may be 0. halfOnly: the result goes
   * to yHalf alone (y keeps the GEMM's output).
   */
  void biasAct(Precision p, long y, long bias, long yHalf, int rows, int cols, boolean gelu, boolean halfOnly) {
    boolean quads = cols % 4 == 0; // a thread per 4 elements of a row (bias_act in elementwise.cu)
    launch("bias_act_" + p.suffix, quads ? (cols / 4 + 255) / 256 : strideBlocks((long) rows * cols),
        quads ? Math.min(rows, 65535) : 1, 256, 0, y, bias, yHalf, rows, cols, gelu ? 1 : 0, halfOnly ? 1 : 0);
  }

  /** out (n) = x (n) in precision p. */
  void cast(Precision p, long x, long out, int n) {
    launch("cast_" + p.suffix, strideBlocks(n), 1, 256, 0, x, out, n);
  }

  void gatherRows(long src, long rows, long dst, int cols, int count) {
    launch("gather_rows", count, 1, ROW_THREADS, 0, src, rows, dst, cols);
  }

  /**
   * Prefill attention for the step's prompt chunks; with storeKv the blocks also cache the chunks'
   * keys and values (only where no query of the step reads a cached slot a fresh key goes to:
   * CudaOps). halfQkv: a.qkv is the 16-bit copy alone (the tensor-core kernel only,
   * {@link #prefillOnTensorCores}).
   */
  void attentionPrefill(Precision p, StepTables t, AttentionLayer a, boolean storeKv, boolean halfQkv) {
    int store = storeKv ? 1 : 0;
    if (halfQkv && !prefillOnTensorCores(p, a.headDim)) {
      throw new IllegalStateException("16-bit q|k|v needs the tensor-core prefill attention, not " + p + " at head"
          + " size " + a.headDim);
    }
    if (prefillOnTensorCores(p, a.headDim)) {
      int d = a.headDim;
      int shared = 2 * (PREFILL_QUERIES * (d + MMA_PAD) + MMA_KEYS * (d + MMA_PAD) + d * (MMA_KEYS + MMA_PAD));
      launch("attention_prefill_mma_" + p.suffix + "_d" + d + (halfQkv ? "_h" : ""), t.tileCount, a.heads,
          MMA_THREADS, shared, a.qkv, a.out, a.outHalf, t.tiles, t.seqStart, t.past, t.cacheBase, t.capacity,
          a.hidden, a.headDim, a.globalsBefore, a.localsBefore, a.local ? 1 : 0, a.window, store);
      return;
    }
    int maxd = a.headDim <= 64 ? 64 : a.headDim <= 128 ? 128 : 256;
    if (a.headDim > 256) {
      throw new CudaException("head_dim " + a.headDim + " is larger than the attention kernels' 256");
    }
    int shared = Float.BYTES * (maxd * (QS + KS + PREFILL_KEYS) + PREFILL_KEYS * PS);
    launch("attention_prefill_" + p.suffix + "_d" + maxd, t.tileCount, a.heads, PREFILL_THREADS, shared,
        a.qkv, a.out, a.outHalf, t.tiles, t.seqStart, t.past, t.cacheBase, t.capacity, a.hidden, a.headDim,
        a.globalsBefore, a.localsBefore, a.local ? 1 : 0, a.window, store);
  }

  /** Whether prompt chunks at this precision and head size run on the tensor-core attention kernel. */
  boolean prefillOnTensorCores(Precision p, int headDim) {
    return mmaPrefill && p.isHalf() && (headDim == 64 || headDim == 128);
  }

  /**
   * Decode attention; storeKv: the decode blocks also cache the tokens' keys and values (then no
   * {@link #kvStore}). With splits &gt; 1 (see {@link #decodeSplits}) each (sequence, head) runs as
   * that many blocks over parts of its keys (grid y: heads x splits): partial holds (pairs, splits,
   * 2 + head_dim) floats and tickets one zeroed int per (sequence, head) pair; else both may be 0.
   */
  void attentionDecode(Precision p, StepTables t, AttentionLayer a, boolean storeKv, int splits, long partial,
      long tickets) {
    int keys = decodeKeys(a, t.decodeKeyBound); // a bound, as recordings replay it
    // the two-pass kernel's (other head sizes), which covers the one-pass (8 blockDim + 2 blockDim / G)
    int shared = Float.BYTES * (a.headDim + keys + Math.max(8 * DECODE_THREADS, a.headDim));
    launch("attention_decode_" + p.suffix, t.decodeCount, a.heads * splits, DECODE_THREADS, shared, a.qkv, a.out,
        a.outHalf, t.decodeSeqs, t.seqStart, t.past, t.cacheBase, t.capacity, a.hidden, a.headDim,
        a.globalsBefore, a.localsBefore, a.local ? 1 : 0, a.window, storeKv ? 1 : 0, partial, tickets);
  }

  /**
   * Blocks per (sequence, head) of decode attention: 1 unless the step's pairs leave most
   * multiprocessors idle (batch 1-6 at 20 heads on an H100), then enough parts of about
   * DECODE_SPLIT_KEYS keys each to reach about two blocks per multiprocessor. From the recorded
   * shape only (pairs and the key bound), so a CUDA graph replays it. The one-pass kernel only
   * ({@link #onePassDecode}); never batch-invariant (the split depends on the step's pairs).
   */
  int decodeSplits(AttentionLayer a, int decodeCount, int keyBound) {
    int pairs = decodeCount * a.heads;
    if (!splitDecode || batchInvariant || !onePassDecode(a.headDim) || pairs >= gpu.multiprocessors()) {
      return 1;
    }
    int parts = (decodeKeys(a, keyBound) + DECODE_SPLIT_KEYS - 1) / DECODE_SPLIT_KEYS;
    return Math.max(1, Math.min(parts, splitDecodeBlocks() / pairs));
  }

  /** The most blocks a split decode attention launches (pairs x splits): two a multiprocessor. */
  int splitDecodeBlocks() {
    return 2 * gpu.multiprocessors();
  }

  /** Whether decode attention runs the one-pass kernel: head sizes 8 G, G a power of two from 2 to 32. */
  static boolean onePassDecode(int headDim) {
    return headDim >= 16 && headDim <= 256 && Integer.bitCount(headDim) == 1;
  }

  /** The most keys a decode token of this layer sees: the step's bound, at most a local window. */
  private static int decodeKeys(AttentionLayer a, int keyBound) {
    return a.local ? Math.min(a.window, keyBound) : keyBound;
  }


  /** Stores the step's keys and values of one layer in each sequence's cache. */
  void kvStore(Precision p, StepTables t, AttentionLayer a) {
    launch("kv_store_" + p.suffix, t.tokens, 1, STORE_THREADS, 0, a.qkv, t.tokenSeq, t.seqStart, t.past,
        t.cacheBase, t.capacity, a.hidden, a.headDim, a.globalsBefore, a.localsBefore, a.local ? 1 : 0, a.window);
  }

  /**
   * Copies one layer of a sequence's cache into another's block: the last {@code kept} positions
   * of from, each to its slot in to (kv_copy in attention_decode.cu). Nothing when kept is 0.
   */
  void kvCopy(Precision p, CudaSequenceCache from, CudaSequenceCache to, int kept, int globalsBefore,
      int localsBefore, boolean local) {
    if (kept > 0) {
      GptNeoConfig c = from.config;
      launch("kv_copy_" + p.suffix, (kept * c.headDim + 255) / 256, 2 * c.numHeads, 256, 0, from.address,
          from.capacity, to.address, to.capacity, from.length, c.hiddenSize, c.headDim, globalsBefore, localsBefore,
          local ? 1 : 0, c.windowSize);
    }
  }

  /** gemm_rows' two stages of shared memory: 2 x (x and w: 128 rows x (64 + 8) 16-bit values). */
  private static final int GEMM_ROWS_SHARED = 2 * 2 * 128 * (64 + 8) * 2;

  /** Whether {@link #gemmRows} serves rows x in at precision p (else cuBLAS); any rows when batch-invariant. */
  boolean gemmRowsServes(Precision p, int rows, int in) {
    return mmaSmallGemm && p.isHalf() && (batchInvariant || rows > GEMV_ROWS && rows <= 256) && in % 64 == 0;
  }

  /**
   * Slices of k for gemmRows: enough blocks for two per multiprocessor, at least 4 chunks of 64 each.
   * Batch-invariant: those of one 128-row block whatever the rows, so a row's k order is its shape's.
   */
  int gemmRowsSplits(int rows, int in, int out) {
    int blocks = ((out + 127) / 128) * (batchInvariant ? 1 : (rows + 127) / 128);
    int want = (2 * gpu.multiprocessors() + blocks - 1) / blocks;
    return Math.max(1, Math.min(Math.min(16, want), in / 64 / 4));
  }

  /**
   * y (rows, out) = [y +] act(x (rows, in) times w^T + bias) on the tensor cores, x and w 16-bit:
   * the linear layer and its epilogue (bias and yHalf may be 0); with splits &gt; 1 the slices write
   * partial (splits, rows, out) fp32 and a second kernel adds them up and applies the epilogue.
   */
  void gemmRows(Precision p, long x, int rows, int in, long w, int out, long y, long partial, int splits, long bias,
      long yHalf, boolean accumulate, boolean gelu) {
    launch("gemm_rows_" + p.suffix, ((out + 127) / 128) * ((rows + 127) / 128), splits, 256, GEMM_ROWS_SHARED, x, rows,
        in, w, out,
        splits == 1 ? y : partial, splits, bias, yHalf, accumulate ? 1 : 0, gelu ? 1 : 0);
    if (splits > 1) {
      sumSlices(p, partial, splits, rows, out, y, bias, yHalf, accumulate, gelu);
    }
  }

  /**
   * y (rows, out) = [y +] act(the sum of partial (slices, rows, out) fp32, slice 0 first, + bias),
   * yHalf its 16-bit copy when not 0: the second stage of a linear layer split over k.
   */
  void sumSlices(Precision p, long partial, int slices, int rows, int out, long y, long bias, long yHalf,
      boolean accumulate, boolean gelu) {
    launch("sum_slices_" + p.suffix, strideBlocks((long) rows * out), 1, 256, 0, partial, slices, rows, out, y, bias,
        yHalf, accumulate ? 1 : 0, gelu ? 1 : 0);
  }

  /**
   * System property: false runs decode attention as one block per (sequence, head) always (default
   * true: split over the keys when few pairs would leave the device idle, {@link #decodeSplits}).
   */
  static final String SPLIT_DECODE_PROPERTY = "gptneo.cuda.splitDecode";
  /** Keys per part when decode attention splits (one pass of 16 streams x 4 keys at head size 128). */
  static final int DECODE_SPLIT_KEYS = 64;
  private final boolean splitDecode = !"false".equalsIgnoreCase(System.getProperty(SPLIT_DECODE_PROPERTY, "true"));

  /** Most rows {@link #gemv} takes: GEMV_ROWS in elementwise.cu. */
  static final int GEMV_ROWS = 4;
  /** System property: false sends small-batch GEMMs to cuBLAS too (default: gemv for rows &lt;= 4). */
  static final String GEMV_PROPERTY = "gptneo.cuda.gemv";

  /** Whether {@link #gemv} serves rows x in (else a GEMM). */
  boolean gemvServes(int rows, int in) {
    return gemvOn && rows <= GEMV_ROWS && in % 8 == 0;
  }

  /** Output columns per gemv block: GEMV_COLS in elementwise.cu. */
  static final int GEMV_COLS = 8;
  private static final int GEMV_THREADS = 256;      // gemv_T's blockDim (2-4 rows)
  private static final int GEMV_RESIDENT = 3;       // gemv_T blocks per multiprocessor (GEMV_BLOCKS, 16-bit weights)
  private static final int GEMV1_REGISTERS = 64;    // gemv1_T's registers a thread (16-bit weights; its launch bounds)
  /**
   * System property: threads of a one-row gemv block ({@code auto}, default: the multiple of 32 in
   * 64-512 whose passes cover k with the least overshoot, nearest 256; or a number).
   */
  static final String GEMV_THREADS_PROPERTY = "gptneo.cuda.gemvThreads";
  private final int gemv1Threads = parseGemvThreads(System.getProperty(GEMV_THREADS_PROPERTY, "auto"));

  private static int parseGemvThreads(String value) {
    if (value.equals("auto")) {
      return 0;
    }
    try {
      int t = Integer.parseInt(value);
      if (t >= 64 && t <= 512 && t % 32 == 0) {
        return t;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException(GEMV_THREADS_PROPERTY + " must be auto or a multiple of 32 in 64-512, got '"
        + value + "'");
  }

  /** A gemv launch: its kernel, block size and slices of k. */
  record GemvShape(String kernel, int threads, int slices, int sliceLength) {}

  /**
   * How a gemv of rows x in x out runs. One row: gemv1_T, with a block size whose passes (8 elements
   * a thread each) cover in evenly (320 for 2,560: one pass, where 256 threads need a second pass
   * for a quarter of k). More: gemv_T with 256. k is split into slices of whole passes when the
   * column groups leave resident block slots empty; then enough slices (at most 16) for two blocks
   * per slot.
   */
  GemvShape gemvShape(Precision p, int rows, int in, int out) {
    boolean one = rows == 1;
    int threads = !one ? GEMV_THREADS : gemv1Threads > 0 ? gemv1Threads : evenThreads(in);
    int resident = !one ? GEMV_RESIDENT : Math.max(1, Math.min(65536 / (GEMV1_REGISTERS * threads), 2048 / threads));
    int stride = 8 * threads;
    int groups = (out + GEMV_COLS - 1) / GEMV_COLS;
    int capacity = resident * gpu.multiprocessors();
    int passes = (in + stride - 1) / stride;
    int slices = 1;
    if (groups < capacity && passes >= 2) {
      slices = Math.min(Math.min(16, passes), (2 * capacity + groups - 1) / groups);
    }
    return gemvShape(p, one, in, threads, slices);
  }

  /**
   * The gemv launch of {@code threads} a block with k in at most {@code slices} slices of whole
   * passes (8 elements a thread each): fewer when whole passes do not spread that far.
   */
  static GemvShape gemvShape(Precision p, boolean oneRow, int in, int threads, int slices) {
    int stride = 8 * threads;
    int passes = (in + stride - 1) / stride;
    int passesPerSlice = (passes + slices - 1) / slices;
    int used = (passes + passesPerSlice - 1) / passesPerSlice;
    int sliceLength = used == 1 ? in : (passes + used - 1) / used * stride; // as even as whole passes allow
    return new GemvShape((oneRow ? "gemv1_" : "gemv_") + p.suffix, threads, used, sliceLength);
  }

  /** The multiple of 32 in 64-512 whose passes of 8 elements a thread overshoot in least; ties: nearest 256. */
  static int evenThreads(int in) {
    int best = GEMV_THREADS;
    long bestOver = Long.MAX_VALUE;
    for (int t = 64; t <= 512; t += 32) {
      long stride = 8L * t;
      long over = (in + stride - 1) / stride * stride - in;
      if (over < bestOver || over == bestOver && Math.abs(t - 256) < Math.abs(best - 256)) {
        best = t;
        bestOver = over;
      }
    }
    return best;
  }

  /**
   * y (rows, out) = [y +] act(x (rows, in) fp32 times w^T (out, in) in p + bias): the linear layer
   * and its epilogue in one launch; rows &lt;= GEMV_ROWS, in % 8 == 0. bias and yHalf may be 0.
   * With shape.slices &gt; 1, partial holds (slices, rows, out) floats and tickets ceil(out / 8) zeroed ints.
   */
  void gemv(Precision p, GemvShape shape, long x, int rows, int in, long w, int out, long y, long bias, long yHalf,
      boolean accumulate, boolean gelu, long partial, long tickets) {
    gemv(p, shape, x, rows, in, w, out, y, bias, yHalf, accumulate, gelu, partial, tickets, 0, 0, 0f);
  }

  /**
   * {@link #gemv}, with the layer norm of x (gamma, beta, eps) fused in when gamma != 0 (gemv1_ln_T:
   * one row, a shape from {@link #gemvShape}; x is then the un-normalized row).
   */
  void gemv(Precision p, GemvShape shape, long x, int rows, int in, long w, int out, long y, long bias, long yHalf,
      boolean accumulate, boolean gelu, long partial, long tickets, long gamma, long beta, float eps) {
    if (gamma != 0 && (rows != 1 || !shape.kernel.startsWith("gemv1_"))) {
      throw new IllegalArgumentException("a layer norm fuses into the one-row gemv only, not " + shape);
    }
    String kernel = gamma == 0 ? shape.kernel : "gemv1_ln_" + p.suffix;
    String label = gpu.profiling()
        ? (gamma == 0 ? "gemv " : "layer norm + gemv ") + p.suffix + " rows " + rows + " " + in + "->" + out + " ("
            + shape.threads + " threads x " + shape.slices + " slices)"
        : null;
    launch(label, kernel, (out + GEMV_COLS - 1) / GEMV_COLS, shape.slices, shape.threads, 0, x, rows, in, w, out,
        y, bias, yHalf, accumulate ? 1 : 0, gelu ? 1 : 0, shape.sliceLength, partial, tickets, gamma, beta, eps);
  }

  /** sums (count, cols) double = row sums of src over each (from, to) pair of ranges. */
  void sumRows(long src, long ranges, long sums, int count, int cols) {
    launch("sum_rows", count, (cols + ROW_THREADS - 1) / ROW_THREADS, ROW_THREADS, 0, src, ranges, sums, cols);
  }

  /**
   * One token per row of logits (rows, cols) as the table says (sampling.cu); processes the logits in
   * place. table: rows x ChoiceRow; ids: its id lists; scratch: (rows, cols) floats; out: (rows) ints;
   * logprobs: (rows) doubles, written for the rows that ask.
   */
  void chooseTokens(long logits, int rows, int cols, long table, long ids, long scratch, long out, long logprobs) {
    launch("choose_tokens", rows, 1, CHOOSE_THREADS, CHOICE_SHARED, logits, cols, table, ids, scratch, out,
        logprobs);
  }

  /**
   * Each ranked row's best continuations from logits (rows, cols), processed in place (ranking.cu,
   * beam_candidates): scores and ids (rows, stride), row r's first top_k written, best first.
   */
  void beamCandidates(long logits, int rows, int cols, long table, long ids, int stride, long scores, long outIds) {
    launch("beam_candidates", rows, 1, CHOOSE_THREADS, 0, logits, cols, table, ids, stride, scores, outIds);
  }

  /**
   * Log-probabilities of listed tokens per row of logits (rows, cols) (ranking.cu): out[j] for j in
   * [rowFrom[r], rowFrom[r + 1]) is ids[j]'s in row r. rowFrom: (rows + 1) ints; out: doubles.
   */
  void tokenLogprobs(long logits, int rows, int cols, long rowFrom, long ids, long out) {
    launch("token_logprobs", rows, 1, CHOOSE_THREADS, 0, logits, cols, rowFrom, ids, out);
  }

  private static int strideBlocks(long n) {
    return (int) Math.max(1, Math.min(MAX_STRIDE_BLOCKS, (n + 255) / 256));
  }

  private void launch(String name, int gridX, int gridY, int block, int shared, Object... args) {
    launch(null, name, gridX, gridY, block, shared, args);
  }

  /** label: the launch's name in the profile, or null for the kernel's. */
  private void launch(String label, String name, int gridX, int gridY, int block, int shared, Object... args) {
    KernelFunction f = functions.get(name);
    if (f == null) {
      throw new IllegalStateException("no kernel " + name + " in " + KernelSources.FILES);
    }
    if (shared > f.sharedLimit) {
      if (shared > gpu.maxSharedBytes()) {
        throw new CudaException(name + " needs " + shared + " bytes of shared memory; this GPU allows "
            + gpu.maxSharedBytes());
      }
      gpu.allowShared(f, shared);
      f.sharedLimit = shared;
    }
    if (label != null) {
      gpu.launch(label, f, gridX, gridY, block, shared, f.encode(args));
    } else {
      gpu.launch(f, gridX, gridY, block, shared, f.encode(args));
    }
  }
}
