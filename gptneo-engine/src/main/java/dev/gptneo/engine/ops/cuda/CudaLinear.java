package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Epilogue;

/**
 * The GPU's linear layers, y = [y +] act(x w^T + b), by the number of rows: the gemv for 1-4
 * (decode at small batch; its epilogue fused), the tensor-core gemm_rows for 5-256 when asked
 * for, cuBLASLt with the epilogue fused when asked for, cuBLAS split over k and then sum_slices for
 * 5-256 when asked for, else cuBLAS and then bias_act.
 */
final class CudaLinear {
  /**
   * System property: from how many rows a stacked matrix (q|k|v) is multiplied part by part on
   * cuBLAS, one GEMM per part into y's column blocks (default: never, one GEMM).
   */
  static final String SPLIT_STACKED_ROWS_PROPERTY = "gptneo.cuda.splitStackedRows";
  /**
   * System property: cublas (default) runs GEMMs on cuBLAS and then bias_act for the bias and
   * gelu_new; lt runs 16-bit GEMMs on cuBLASLt with those fused into the GEMM (BlasLt).
   */
  static final String GEMM_PROPERTY = "gptneo.cuda.gemm";
  /**
   * System property: true fuses the layer norms before attention and the MLP into the one-row gemv
   * (gemv1_ln_T: decode at batch 1, two launches a layer fewer); default false until measured.
   */
  static final String FUSE_NORM_PROPERTY = "gptneo.cuda.fuseNorm";
  /**
   * System property: false adds a residual layer's bias after cuBLAS with bias_act (default true:
   * the next layer norm adds it as it reads the residual stream, one pass fewer; the same bits).
   */
  static final String FOLD_BIAS_PROPERTY = "gptneo.cuda.foldBias";
  /**
   * System property: off (default until measured), auto, or a number of slices: GEMMs of 5-256 rows
   * (decode at batch 5 and up) on cuBLAS as that many GEMMs over slices of k side by side, then
   * sum_slices with the epilogue. cuBLAS tiles y in blocks of about 128 x 128, so a 128-row GEMM
   * 2,560 wide has ~20 blocks for 132 multiprocessors: run 8 timed it at 0.4 TB/s of weights.
   */
  static final String SPLIT_K_PROPERTY = "gptneo.cuda.splitK";
  static final int SPLIT_K_AUTO = -1;
  private static final int SPLIT_K_MOST = 8;
  private static final int SPLIT_K_MAX_ROWS = 256;

  private final CudaOps owner; // the memory's owner
  private final Gpu gpu;
  private final CudaKernels kernels;
  private final int splitStackedRows = Integer.getInteger(SPLIT_STACKED_ROWS_PROPERTY, Integer.MAX_VALUE);
  private final boolean fusedGemms = parseGemm(System.getProperty(GEMM_PROPERTY));
  private final boolean fuseNorm = Boolean.getBoolean(FUSE_NORM_PROPERTY);
  private final boolean foldBias = !"false".equalsIgnoreCase(System.getProperty(FOLD_BIAS_PROPERTY, "true"));
  private final int splitK = parseSplitK(System.getProperty(SPLIT_K_PROPERTY));
  private final Scratch castInput;   // 16-bit GEMM input for activations without a 16-bit copy
  private final Scratch partialSums; // (slices, rows, out) fp32 partial sums of gemm_rows, split-k GEMMs and gemv
  private final Scratch gemvTickets; // ints: gemv's arrivals per column group, zero between launches

  CudaLinear(CudaOps owner, Gpu gpu, CudaKernels kernels) {
    this.owner = owner;
    this.gpu = gpu;
    this.kernels = kernels;
    this.castInput = new Scratch(owner);
    this.partialSums = new Scratch(owner);
    this.gemvTickets = Scratch.tickets(owner);
  }

  /** Parses gptneo.cuda.gemm: whether GEMMs run on cuBLASLt with their epilogues fused. */
  static boolean parseGemm(String value) {
    String v = value == null ? "cublas" : value.trim().toLowerCase(java.util.Locale.ROOT);
    switch (v) {
      case "cublas":
      case "":
        return false;
      case "lt":
      case "cublaslt":
        return true;
      default:
        throw new IllegalArgumentException(GEMM_PROPERTY + " must be cublas or lt; got '" + value + "'");
    }
  }

  /** Parses gptneo.cuda.splitK: 0 (off), {@link #SPLIT_K_AUTO}, or a number of slices, 2-8. */
  static int parseSplitK(String value) {
    String v = value == null ? "off" : value.trim().toLowerCase(java.util.Locale.ROOT);
    if (v.equals("off") || v.equals("false") || v.isEmpty() || v.equals("1")) {
      return 0;
    }
    if (v.equals("auto")) {
      return SPLIT_K_AUTO;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= 2 && n <= SPLIT_K_MOST) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException(SPLIT_K_PROPERTY + " must be off, auto or a number of slices from 2 to "
        + SPLIT_K_MOST + "; got '" + value + "'");
  }

  /**
   * Slices of k for a split-k cuBLAS GEMM of rows x in to out (1: none). A fixed setting is used where in
   * divides into slices of whole 64s. auto: enough 128 x 128 blocks of y for two per multiprocessor,
   * each slice at least 256 deep and whole 64s, at most 8, and no more partial sums than weights
   * (slices x rows x out fp32 &lt;= out x in 16-bit), so the second pass stays small.
   */
  static int splitKSlices(int setting, int multiprocessors, int rows, int in, int out) {
    if (setting == 0 || rows <= CudaKernels.GEMV_ROWS || rows > SPLIT_K_MAX_ROWS) {
      return 1;
    }
    if (setting > 0) {
      return in % (64 * setting) == 0 ? setting : 1;
    }
    int blocks = ((out + 127) / 128) * ((rows + 127) / 128);
    int want = (2 * multiprocessors + blocks - 1) / blocks;
    int most = Math.min(Math.min(want, SPLIT_K_MOST), Math.min(in / 256, in / (2 * rows)));
    for (int s = most; s >= 2; s--) {
      if (in % (64 * s) == 0) {
        return s;
      }
    }
    return 1;
  }

  /** Whether GEMMs run on cuBLASLt with their epilogues (gptneo.cuda.gemm=lt). */
  boolean fusedGemms() {
    return fusedGemms;
  }

  /** Whether the layer norm before m fuses into its gemv (gptneo.cuda.fuseNorm, one row). */
  boolean fusesNorm(int rows, CudaMatrix m) {
    return fuseNorm && rows == 1 && kernels.gemvServes(rows, m.cols);
  }

  /** Whether m's layer for rows rows reads only its input's 16-bit copy (a GEMM on 16-bit weights, not the gemv). */
  boolean readsHalfInput(int rows, CudaMatrix m) {
    return m.precision.isHalf() && !kernels.gemvServes(rows, m.cols);
  }

  /**
   * out (1, m.rows) as the epilogue says, from layerNorm(x) (gamma, beta, eps) in one gemv launch;
   * see {@link #fusesNorm}. half as for {@link #run}.
   */
  void runNormed(CudaActivations x, CudaVector gamma, CudaVector beta, float eps, CudaMatrix m, CudaVector bias,
      CudaActivations o, Epilogue epilogue, long half) {
    o.settle();
    gemv(x.fp32("layer norm + gemv"), m, bias, o, 1, epilogue, half, gamma.address, beta.address, eps);
    o.wrote(half != 0 ? 1 : 0);
  }

  /**
   * The gemv (rows &lt;= 4): one pass over the weights, reading x in fp32, with the epilogue; with
   * the layer norm of x fused in when gamma != 0 (one row).
   */
  private void gemv(long x, CudaMatrix m, CudaVector bias, CudaActivations o, int rows, Epilogue epilogue, long half,
      long gamma, long beta, float eps) {
    CudaKernels.GemvShape shape = kernels.gemvShape(m.precision, rows, m.cols, m.rows);
    int slices = shape.slices();
    long partial = slices > 1 ? partialSums.atLeast(4L * slices * rows * m.rows) : 0;
    int groups = (m.rows + CudaKernels.GEMV_COLS - 1) / CudaKernels.GEMV_COLS;
    long tickets = slices > 1 ? gemvTickets.atLeast(4L * groups) : 0;
    kernels.gemv(m.precision, shape, x, rows, m.cols, m.address, m.rows, o.address, bias == null ? 0 : bias.address,
        half, epilogue == Epilogue.ADD, epilogue == Epilogue.GELU_NEW, partial, tickets, gamma, beta, eps);
  }

  /**
   * out (rows, m.rows) as the epilogue says, from in (rows, m.cols); half: out's 16-bit copy to
   * write too (gelu's output, which the next GEMM reads), or 0.
   */
  void run(CudaActivations in, CudaMatrix m, CudaVector bias, CudaActivations o, int rows, Epilogue epilogue,
      long half) {
    o.settle(); // an accumulating layer adds to the data with its bias
    boolean gelu = epilogue == Epilogue.GELU_NEW;
    long biasAddress = bias == null ? 0 : bias.address;
    if (kernels.gemvServes(rows, m.cols)) {
      gemv(in.fp32("gemv"), m, bias, o, rows, epilogue, half, 0, 0, 0f); // decode at small batch
    } else {
      Stored stored = gemm(in, m, o, rows, epilogue, bias, half);
      boolean halfOnly = o.linearInput && half != 0; // the next GEMM reads the 16-bit copy alone
      if (stored == Stored.PRODUCT && foldBias && epilogue == Epilogue.ADD && bias != null && half == 0) {
        o.wrote(0);
        o.deferBias(biasAddress, rows); // a residual add: the next layer norm adds the bias as it reads
        return;
      }
      if (stored == Stored.PRODUCT && (bias != null || gelu)) {
        kernels.biasAct(m.precision, o.address, biasAddress, half, rows, m.rows, gelu, halfOnly);
        stored = halfOnly ? Stored.HALF_ONLY : Stored.ALL;
      }
      if (stored == Stored.HALF_ONLY) {
        o.wroteHalfOnly(rows);
        return;
      }
    }
    o.wrote(half != 0 ? rows : 0);
  }

  /** What {@link #gemm} stored: the bare product (the epilogue still to run), or the epilogue's output. */
  private enum Stored {
    PRODUCT,
    /** the fp32 output, and the 16-bit copy when one was asked for */
    ALL,
    /** the 16-bit copy alone (a linear layer's input) */
    HALF_ONLY
  }

  /**
   * cuBLAS, cuBLASLt or the tensor-core kernel for 5-256 rows, on 16-bit inputs when the weights
   * are 16-bit: the layer norm's, gelu's or attention's copy, else a cast. Returns what it stored:
   * cuBLAS leaves the epilogue (bias, gelu, 16-bit copy) to bias_act.
   */
  private Stored gemm(CudaActivations in, CudaMatrix m, CudaActivations o, int rows, Epilogue epilogue,
      CudaVector biasVector, long half) {
    long bias = biasVector == null ? 0 : biasVector.address;
    long input = gemmInput(in, m, rows);
    if (kernels.gemmRowsServes(m.precision, rows, m.cols)) {
      int splits = kernels.gemmRowsSplits(rows, m.cols, m.rows);
      int block = kernels.batchInvariant ? CudaKernels.INVARIANT_ROWS : rows; // rows a launch
      long partial = splits > 1 ? partialSums.atLeast(4L * splits * Math.min(block, rows) * m.rows) : 0;
      for (int r = 0; r < rows; r += block) {
        int n = Math.min(block, rows - r);
        long halfAt = half == 0 ? 0 : half + (long) r * m.rows * m.precision.bytes;
        kernels.gemmRows(m.precision, input + (long) r * m.cols * m.precision.bytes, n, m.cols, m.address, m.rows,
            o.address + 4L * r * m.rows, partial, splits, bias, halfAt, epilogue == Epilogue.ADD,
            epilogue == Epilogue.GELU_NEW);
      }
      return Stored.ALL;
    }
    if (kernels.batchInvariant) {
      checkInvariantServes(m.precision, m.cols); // throws: load time lets no such matrix through
    }
    boolean accumulate = epilogue == Epilogue.ADD;
    boolean split = m.parts > 1 && rows >= splitStackedRows;
    if (fusedGemms && m.precision.isHalf() && !split) {
      Stored stored = gemmFused(input, m, o, rows, epilogue, biasVector, half);
      if (stored != null) {
        return stored;
      }
    }
    int slices = m.precision.isHalf() && !split ? splitKSlices(splitK, gpu.multiprocessors(), rows, m.cols, m.rows) : 1;
    if (slices > 1) {
      long partial = partialSums.atLeast(4L * slices * rows * m.rows);
      gpu.gemmSplitK(m.precision, input, rows, m.cols, m.address, m.rows, partial, slices);
      kernels.sumSlices(m.precision, partial, slices, rows, m.rows, o.address, bias, half, accumulate,
          epilogue == Epilogue.GELU_NEW);
      return Stored.ALL;
    }
    if (split) {
      // one GEMM per stacked matrix (HF's separate q, k and v projections), into y's column blocks
      int part = m.rows / m.parts;
      for (int i = 0; i < m.parts; i++) {
        gpu.gemm(m.precision, input, rows, m.cols, m.address + (long) i * part * m.cols * m.precision.bytes, part,
            o.address + 4L * i * part, m.rows, accumulate);
      }
    } else {
      gpu.gemm(m.precision, input, rows, m.cols, m.address, m.rows, o.address, m.rows, accumulate);
    }
    return Stored.PRODUCT;
  }

  /** Batch-invariant runs only on gemm_rows: 16-bit weights whose input widths are multiples of 64. */
  static void checkInvariantServes(Precision p, int cols) {
    if (!p.isHalf() || cols % 64 != 0) {
      throw new IllegalArgumentException(CudaKernels.BATCH_INVARIANT_PROPERTY + " needs 16-bit weights whose input"
          + " widths are multiples of 64; this model has " + p.suffix + " weights with " + cols + " inputs (run f16 or"
          + " bf16, or turn the property off)");
    }
  }

  /** The GEMM's input: fp32 for fp32 weights, else in's 16-bit copy, or a cast of in when it has none. */
  private long gemmInput(CudaActivations in, CudaMatrix m, int rows) {
    if (!m.precision.isHalf()) {
      return in.fp32("gemm");
    }
    if (in.half != 0 && in.halfRows >= rows) {
      return in.half;
    }
    long input = castInput.atLeast((long) rows * m.cols * m.precision.bytes);
    kernels.cast(m.precision, in.fp32("cast"), input, rows * m.cols);
    return input;
  }

  /**
   * out's 16-bit copy (rows, m.rows) = in times m^T, each fp32 accumulator rounded once, and no
   * fp32 output: the q|k|v of a prompt step whose attention reads only 16-bit values (CudaOps).
   */
  void runTo16(CudaActivations in, CudaMatrix m, CudaActivations o, int rows, long half) {
    o.settle();
    gpu.gemmTo16(m.precision, gemmInput(in, m, rows), rows, m.cols, m.address, m.rows, half, m.rows);
    o.wroteAttentionHalfOnly(rows);
  }

  /**
   * The GEMM with its epilogue on cuBLASLt: gelu_new's output goes straight to the 16-bit copy the
   * next GEMM reads, the other epilogues to fp32. Null where cuBLASLt cannot take it.
   */
  private Stored gemmFused(long input, CudaMatrix m, CudaActivations o, int rows, Epilogue epilogue, CudaVector bias,
      long half) {
    if (epilogue == Epilogue.GELU_NEW) {
      long bias16 = bias == null ? 0 : bias.exactIn(m.precision);
      if (!o.linearInput || half == 0 || (bias != null && bias16 == 0)) {
        return null; // an fp32 output is wanted too, or the bias is not exact in 16 bits
      }
      boolean ran = gpu.gemmFused(m.precision, input, rows, m.cols, m.address, m.rows, half, m.rows, true, false,
          bias16, true);
      return ran ? Stored.HALF_ONLY : null;
    }
    boolean ran = gpu.gemmFused(m.precision, input, rows, m.cols, m.address, m.rows, o.address, m.rows, false,
        epilogue == Epilogue.ADD, bias == null ? 0 : bias.address, false);
    return ran ? Stored.ALL : null;
  }
}
