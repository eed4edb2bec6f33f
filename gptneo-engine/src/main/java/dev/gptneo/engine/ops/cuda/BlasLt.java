package dev.gptneo.engine.ops.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLASLT_EPILOGUE_BIAS;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_EPILOGUE_DEFAULT;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_EPILOGUE_GELU;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_EPILOGUE_GELU_BIAS;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_DESC_BIAS_POINTER;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_DESC_EPILOGUE;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_DESC_TRANSA;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_DESC_TRANSB;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES;
import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasLtCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtDestroy;
import static org.bytedeco.cuda.global.cublas.cublasLtGetStatusString;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmul;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulAlgoGetHeuristic;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulDescCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulDescDestroy;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulDescSetAttribute;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulPreferenceCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulPreferenceDestroy;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulPreferenceSetAttribute;
import static org.bytedeco.cuda.global.cublas.cublasLtMatrixLayoutCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtMatrixLayoutDestroy;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;
import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulAlgo_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cuBLASLt GEMMs for {@link DriverGpu} ({@link Gpu#gemmFused}): the bias, gelu_new and a 16-bit
 * output in the GEMM's own epilogue, so no bias_act pass reads and writes the product again.
 * cuBLASLt's GELU is the tanh form, which is gelu_new. One plan per shape and epilogue: the
 * descriptors and an algorithm. By default the algorithm is the heuristic's first, which depends
 * only on the shape, so results repeat from run to run; {@link Choice} can time the heuristic's
 * candidates instead.
 */
final class BlasLt implements AutoCloseable {
  /** System property: which of the heuristic's algorithms a new shape runs, see {@link Choice}. */
  static final String ALGO_PROPERTY = "gptneo.cuda.ltAlgo";
  static final long WORKSPACE_BYTES = 32L << 20;
  private static final Logger LOG = LoggerFactory.getLogger(BlasLt.class);
  private static final int CANDIDATES = 8;  // algorithms a survey times
  private static final int REPEATS = 5;     // timed runs per candidate, after one warm-up
  private static final int MAX_PLANS = 512; // prompt chunks make many row counts: the least recent go

  /** How a new shape picks its algorithm. */
  enum Choice {
    /** the heuristic's first: the same in every run */
    HEURISTIC,
    /** time the heuristic's first {@value #CANDIDATES} once per shape and log them, but run the first (for tuning) */
    SURVEY,
    /** time them and run the fastest: may differ between runs, and so may the last bits of the results */
    FASTEST;

    static Choice parse(String s) {
      String v = s == null ? "heuristic" : s.trim().toLowerCase(Locale.ROOT);
      switch (v) {
        case "heuristic":
        case "":
          return HEURISTIC;
        case "survey":
          return SURVEY;
        case "fastest":
          return FASTEST;
        default:
          throw new IllegalArgumentException(ALGO_PROPERTY + " must be heuristic, survey or fastest; got '" + s + "'");
      }
    }
  }

  /** A GEMM's shape, types and epilogue: what a plan is for. */
  record Shape(Precision p, int rows, int in, int out, int ldy, boolean halfOut, boolean accumulate, boolean bias,
      boolean gelu) {
    int epilogue() {
      return bias ? (gelu ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
          : gelu ? CUBLASLT_EPILOGUE_GELU : CUBLASLT_EPILOGUE_DEFAULT;
    }

    /** y's bytes as cuBLASLt writes them: rows rows of out elements, ldy apart. */
    long outBytes() {
      return ((long) (rows - 1) * ldy + out) * (halfOut ? p.bytes : 4);
    }

    /** The launch profile's name: rows in buckets, as for cuBLAS. */
    String label() {
      return LaunchProfile.gemmName(p, rows, in, out) + epilogueName();
    }

    @Override
    public String toString() {
      return "gemm " + p.suffix + " (" + rows + " x " + in + ") x (" + out + " x " + in + ")^T" + epilogueName();
    }

    private String epilogueName() {
      return " lt" + (accumulate ? " +y" : "") + (bias ? " +bias" : "") + (gelu ? " gelu" : "")
          + (halfOut ? " ->" + p.suffix : "");
    }
  }

  /** Descriptors and the chosen algorithm of one shape; null {@code algo} when cuBLASLt has none. */
  private static final class Plan {
    cublasLtMatmulDescOpaque_t desc;
    cublasLtMatrixLayoutOpaque_t a;    // w, column-major (in, out)
    cublasLtMatrixLayoutOpaque_t b;    // x, column-major (in, rows)
    cublasLtMatrixLayoutOpaque_t y;    // C and D, column-major (out, rows), ldy apart
    cublasLtMatmulHeuristicResult_t candidates; // (found) the heuristic's results
    cublasLtMatmulAlgo_t algo;         // points into candidates
    long bias;                         // the bias pointer the descriptor holds now
    boolean proven;                    // launched once without an error
  }

  private final cublasLtContext handle = new cublasLtContext();
  private final CUstream_st stream;
  private final long workspace;          // (WORKSPACE_BYTES) bytes of device memory
  private final Choice choice;
  private final LongUnaryOperator malloc; // device memory for a survey's output
  private final LongConsumer free;
  private final cublasLtMatmulPreferenceOpaque_t preference;
  private final FloatPointer one = new FloatPointer(1f);
  private final FloatPointer zero = new FloatPointer(0f);
  private final IntPointer int32 = new IntPointer(1);    // an attribute's value
  private final LongPointer int64 = new LongPointer(1);
  private boolean refusalLogged;
  private final Map<Shape, Plan> plans = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Shape, Plan> eldest) {
      if (size() > MAX_PLANS) {
        destroy(eldest.getValue());
        return true;
      }
      return false;
    }
  };

  BlasLt(CUstream_st stream, long workspace, Choice choice, LongUnaryOperator malloc, LongConsumer free) {
    this.stream = stream;
    this.workspace = workspace;
    this.choice = choice;
    this.malloc = malloc;
    this.free = free;
    check(cublasLtCreate(handle), "cublasLtCreate");
    PointerPointer<Pointer> created = new PointerPointer<>(1);
    check(cublasLtMatmulPreferenceCreate(created), "cublasLtMatmulPreferenceCreate");
    preference = new cublasLtMatmulPreferenceOpaque_t(created.get(0));
    int64.put(0, WORKSPACE_BYTES);
    check(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, int64, 8),
        "cublasLtMatmulPreferenceSetAttribute");
    LOG.info("cuBLASLt GEMMs with fused epilogues, algorithm choice {}", choice.name().toLowerCase(Locale.ROOT));
  }

  /**
   * Queues y = x w^T (+ y) (+ bias) (gelu) on the stream: x (rows, in) and w (out, in) of type p,
   * y as the shape says. Returns false, queuing nothing, where cuBLASLt has no algorithm for it.
   * {@code recording}: no survey then (it would wait for the device).
   */
  boolean matmul(Shape s, long x, long w, long y, long bias, boolean recording) {
    Plan plan = plans.get(s);
    if (plan == null) {
      plan = create(s, x, w, y, bias, recording);
      plans.put(s, plan);
    }
    if (plan.algo == null) {
      return false;
    }
    if (s.bias() && plan.bias != bias) {
      setBias(plan, bias);
    }
    if (plan.proven) {
      run(plan, s, x, w, y, y);
      return true;
    }
    try { // a plan's first launch may still be refused: then cuBLAS takes the shape, as when no algorithm is found
      run(plan, s, x, w, y, y);
      plan.proven = true;
      return true;
    } catch (CudaException e) {
      LOG.warn("cuBLASLt refused its algorithm for {}, so cuBLAS and bias_act run it: {}", s, e.getMessage());
      plan.algo = null;
      return false;
    }
  }

  private void run(Plan plan, Shape s, long x, long w, long c, long d) {
    // Column-major view: y^T (out, rows) = w (in, out)^T x^T (in, rows) (+ y^T).
    check(cublasLtMatmul(handle, plan.desc, one, DriverGpu.at(w), plan.a, DriverGpu.at(x), plan.b,
        s.accumulate() ? one : zero, DriverGpu.at(c), plan.y, DriverGpu.at(d), plan.y, plan.algo,
        DriverGpu.at(workspace), WORKSPACE_BYTES, stream), "cublasLtMatmul " + s);
  }

  private Plan create(Shape s, long x, long w, long y, long bias, boolean recording) {
    Plan plan = new Plan();
    PointerPointer<Pointer> created = new PointerPointer<>(1);
    check(cublasLtMatmulDescCreate(created, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    plan.desc = new cublasLtMatmulDescOpaque_t(created.get(0));
    setInt(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T);
    setInt(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N);
    setInt(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, s.epilogue());
    if (s.bias()) {
      setBias(plan, bias);
    }
    int in = DriverGpu.dataType(s.p());
    plan.a = layout(in, s.in(), s.out(), s.in());
    plan.b = layout(in, s.in(), s.rows(), s.in());
    plan.y = layout(s.halfOut() ? in : CUDA_R_32F, s.out(), s.rows(), s.ldy());
    boolean timed = choice != Choice.HEURISTIC && !recording;
    int wanted = timed ? CANDIDATES : 1;
    plan.candidates = new cublasLtMatmulHeuristicResult_t(wanted);
    int[] found = new int[1];
    int rc = cublasLtMatmulAlgoGetHeuristic(handle, plan.desc, plan.a, plan.b, plan.y, plan.y, preference, wanted,
        plan.candidates, found);
    if (rc != 0 || found[0] == 0) {
      // once at INFO: prompt chunks of many lengths would repeat it per length
      String why = rc != 0 ? status(rc) : "none found";
      if (refusalLogged) {
        LOG.debug("cuBLASLt has no algorithm for {} ({}): cuBLAS and bias_act run it", s, why);
      } else {
        LOG.info("cuBLASLt has no algorithm for {} ({}): cuBLAS and bias_act run it (further such shapes at DEBUG)",
            s, why);
        refusalLogged = true;
      }
      return plan;
    }
    int chosen = timed && found[0] > 1 ? survey(plan, s, x, w, y, found[0]) : 0;
    plan.algo = plan.candidates.getPointer(chosen).algo();
    return plan;
  }

  /**
   * Times each candidate (one warm-up, then {@value #REPEATS} runs) on the call's operands into a
   * scratch output, logs the times, and returns the index to run: the fastest for
   * {@link Choice#FASTEST}, else 0 (the heuristic's first).
   */
  private int survey(Plan plan, Shape s, long x, long w, long y, int found) {
    long scratch = malloc.applyAsLong(s.outBytes()); // D: a survey must not change y (C = y is read)
    CUevent_st start = new CUevent_st();
    CUevent_st stop = new CUevent_st();
    check(cudaEventCreate(start), "cudaEventCreate");
    check(cudaEventCreate(stop), "cudaEventCreate");
    float[] micros = new float[found];
    FloatPointer millis = new FloatPointer(1);
    try {
      for (int i = 0; i < found; i++) {
        plan.algo = plan.candidates.getPointer(i).algo();
        micros[i] = Float.POSITIVE_INFINITY;
        try {
          run(plan, s, x, w, y, scratch); // warm-up
          check(cudaEventRecord(start, stream), "cudaEventRecord");
          for (int r = 0; r < REPEATS; r++) {
            run(plan, s, x, w, y, scratch);
          }
          check(cudaEventRecord(stop, stream), "cudaEventRecord");
          check(cudaEventSynchronize(stop), "cudaEventSynchronize");
          check(cudaEventElapsedTime(millis, start, stop), "cudaEventElapsedTime");
          micros[i] = 1000f * millis.get() / REPEATS;
        } catch (CudaException e) {
          LOG.info("cuBLASLt survey {}: candidate #{} failed: {}", s, i, e.getMessage());
        }
      }
    } finally {
      cudaEventDestroy(start);
      cudaEventDestroy(stop);
      free.accept(scratch);
    }
    int fastest = 0;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < found; i++) {
      if (micros[i] < micros[fastest]) {
        fastest = i;
      }
      sb.append(String.format(Locale.ROOT, " #%d %.1f", i, micros[i]));
    }
    LOG.info("cuBLASLt survey {}: us per GEMM{}; fastest #{} at {}% of #0's time", s, sb, fastest,
        Math.round(100 * micros[fastest] / micros[0]));
    return choice == Choice.FASTEST ? fastest : 0;
  }

  private void setBias(Plan plan, long bias) {
    int64.put(0, bias);
    check(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, int64, 8),
        "cublasLtMatmulDescSetAttribute(bias)");
    plan.bias = bias;
  }

  private void setInt(cublasLtMatmulDescOpaque_t desc, int attribute, int value) {
    int32.put(0, value);
    check(cublasLtMatmulDescSetAttribute(desc, attribute, int32, 4), "cublasLtMatmulDescSetAttribute");
  }

  private static cublasLtMatrixLayoutOpaque_t layout(int type, long rows, long cols, long ld) {
    PointerPointer<Pointer> created = new PointerPointer<>(1);
    check(cublasLtMatrixLayoutCreate(created, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
    return new cublasLtMatrixLayoutOpaque_t(created.get(0));
  }

  private static void destroy(Plan plan) {
    cublasLtMatmulDescDestroy(plan.desc);
    cublasLtMatrixLayoutDestroy(plan.a);
    cublasLtMatrixLayoutDestroy(plan.b);
    cublasLtMatrixLayoutDestroy(plan.y);
  }

  @Override
  public void close() {
    plans.values().forEach(BlasLt::destroy);
    plans.clear();
    cublasLtMatmulPreferenceDestroy(preference);
    cublasLtDestroy(handle);
  }

  private static String status(int rc) {
    return cublasLtGetStatusString(rc).getString() + " (cublasStatus " + rc + ")";
  }

  private static void check(int rc, String what) {
    if (rc != 0) {
      throw new CudaException(what + " failed: " + status(rc));
    }
  }
}
