package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.ops.cpu.CpuOps;
import dev.gptneo.engine.ops.cpu.VectorSupport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every GPU operation against the CPU reference (the scalar kernels) on random inputs, in each
 * precision: embedding, layer norm, the three linear epilogues, row gathers, and attention over
 * steps that mix prompt chunks and decode tokens of several sequences, on global and local layers,
 * with windows smaller than, equal to and larger than the sequences, and odd sizes (head_dim 16,
 * 32, 128, 130). Inputs are exact in every precision, so only the order of fp32 sums differs.
 * Needs a GPU; {@link #theChecksPassOnTheCpu} runs the same checks between two CPU backends.
 */
class CudaOpsVsCpuTest {
  @TempDir
  Path tmp;

  static Ops gpu(Precision p) {
    assumeTrue(CudaSupport.available(), "no usable GPU: " + CudaSupport.reason());
    return new CudaOps(new DriverGpu(0), p);
  }

  /** The GPU's ops built with a system property set: the backend reads its properties when built. */
  static Ops gpu(Precision p, String property, String value) {
    return WithProperty.build(property, value, () -> gpu(p));
  }

  static String dtype(Precision p) {
    return p.name();
  }

  @ParameterizedTest
  @EnumSource(Precision.class)
  void embedLayerNormGatherAndLinear(Precision p) {
    try (Ops gpu = gpu(p); Ops cpu = CpuOps.scalar(2)) {
      OpsInputs in = new OpsInputs(tmp, 1);
      checkEmbed(gpu, cpu, dtype(p), in);
      checkLayerNorm(gpu, cpu, dtype(p), in);
      checkGather(gpu, cpu, dtype(p), in);
      checkLinear(gpu, cpu, dtype(p), in, p == Precision.F32 ? 1e-5 : 4e-5);
    }
  }

  /** Attention on the CUDA cores in fp32 (simt; the tensor-core prefill kernel is tested below). */
  @ParameterizedTest
  @EnumSource(Precision.class)
  void attentionMixedStepsAllWindows(Precision p) {
    try (Ops gpu = gpu(p, CudaKernels.PREFILL_ATTENTION_PROPERTY, "simt"); Ops cpu = CpuOps.scalar(2)) {
      checkAttention(gpu, cpu, dtype(p), new OpsInputs(tmp, 2), 1e-4);
    }
  }

  /** q|k|v-like stacked matrices multiplied part by part (gptneo.cuda.splitStackedRows), against the CPU. */
  @ParameterizedTest
  @EnumSource(value = Precision.class, names = {"F32", "F16"})
  void stackedMatricesPartByPart(Precision p) {
    try (Ops gpu = gpu(p, CudaOps.SPLIT_STACKED_ROWS_PROPERTY, "5"); Ops cpu = CpuOps.scalar(2)) {
      OpsInputs in = new OpsInputs(tmp, 7);
      for (int[] shape : new int[][] {{70, 256, 96}, {300, 512, 128}}) {
        int rows = shape[0], k = shape[1], part = shape[2], n = 3 * part;
        float[] x = in.values(rows * k, 1f);
        float[] old = in.values(rows * n, 1f);
        float[][] w = {in.values(part * k, 0.125f), in.values(part * k, 0.125f), in.values(part * k, 0.125f)};
        for (Epilogue epilogue : new Epilogue[] {Epilogue.STORE, Epilogue.ADD}) {
          float[][] got = new float[2][];
          Ops[] both = {gpu, cpu};
          for (int b = 0; b < 2; b++) {
            Ops ops = both[b];
            Ops.Matrix m = ops.matrix(in.tensor(dtype(p), w[0], part, k), in.tensor(dtype(p), w[1], part, k),
                in.tensor(dtype(p), w[2], part, k));
            Ops.Activations out = in.activations(ops, dtype(p), old, rows, n);
            ops.linear(in.activations(ops, dtype(p), x, rows, k), m, null, out, rows, epilogue);
            got[b] = OpsInputs.read(ops, out, rows);
          }
          double worst = 0;
          for (int i = 0; i < got[0].length; i++) {
            worst = Math.max(worst, Math.abs(got[0][i] - got[1][i]) / (1 + Math.abs(got[1][i])));
          }
          assertTrue(worst <= 1e-3, "stacked " + rows + "x" + k + "x" + n + " " + epilogue + ": " + worst);
        }
      }
    }
  }

  /**
   * Prefill attention on the tensor cores (head sizes 64 and 128; the others fall back). The inputs
   * are exact in 16 bits; the softmax numerators P are rounded, which moves outputs |v| &lt;= 0.5 by
   * up to 2^-11 (f16) or 2^-8 (bf16) of them.
   */
  @ParameterizedTest
  @EnumSource(value = Precision.class, names = {"F16", "BF16"})
  void attentionOnTheTensorCores(Precision p) {
    try (Ops gpu = gpu(p, CudaKernels.PREFILL_ATTENTION_PROPERTY, "mma"); Ops cpu = CpuOps.scalar(2)) {
      checkAttention(gpu, cpu, dtype(p), new OpsInputs(tmp, 2), p == Precision.F16 ? 5e-4 : 4e-3);
    }
  }

  /** The opt-in tensor-core GEMM for 5-256 rows (k % 64 == 0), against the CPU's reference. */
  @ParameterizedTest
  @EnumSource(value = Precision.class, names = {"F16", "BF16"})
  void smallGemmsOnTheTensorCores(Precision p) {
    try (Ops gpu = gpu(p, CudaKernels.SMALL_GEMM_PROPERTY, "mma"); Ops cpu = CpuOps.scalar(2)) {
      checkLinear(gpu, cpu, dtype(p), new OpsInputs(tmp, 6), 4e-5);
    }
  }

  /**
   * GEMMs on cuBLASLt with their epilogues fused (gptneo.cuda.gemm=lt), against the CPU: bias and
   * residual add into fp32, the fallback to cuBLAS where cuBLASLt has no algorithm (odd k), and
   * gelu_new's fused 16-bit output through the MLP (checkMlp; also the goldens in device/gpu-checks.sh).
   */
  @ParameterizedTest
  @EnumSource(value = Precision.class, names = {"F16", "BF16"})
  void fusedGemmsOnCublasLt(Precision p) {
    linearAndMlpWith(p, CudaOps.GEMM_PROPERTY, "lt", 8);
  }

  /**
   * GEMMs of 5-256 rows on cuBLAS over four slices of k side by side, then sum_slices with the
   * epilogue (gptneo.cuda.splitK=4; k of 512 and 1024 split, 257 and 64 do not), and through the MLP.
   */
  @ParameterizedTest
  @EnumSource(value = Precision.class, names = {"F16", "BF16"})
  void splitKGemmsOnCublas(Precision p) {
    linearAndMlpWith(p, CudaOps.SPLIT_K_PROPERTY, "4", 12);
  }

  /** checkLinear and checkMlp on the GPU's ops built with property = value, inputs from seed and seed + 1. */
  private void linearAndMlpWith(Precision p, String property, String value, int seed) {
    try (Ops gpu = gpu(p, property, value); Ops cpu = CpuOps.scalar(2)) {
      checkLinear(gpu, cpu, dtype(p), new OpsInputs(tmp, seed), 4e-5);
      checkMlp(gpu, cpu, dtype(p), new OpsInputs(tmp, seed + 1), 4e-5, halfUlp(p));
    }
  }

  /** The MLP on the default path (cuBLAS, then bias_act writing gelu's 16-bit copy alone; the gemv at 3 rows). */
  @ParameterizedTest
  @EnumSource(value = Precision.class, names = {"F16", "BF16"})
  void mlpThroughTheSixteenBitHiddenLayer(Precision p) {
    try (Ops gpu = gpu(p); Ops cpu = CpuOps.scalar(2)) {
      checkMlp(gpu, cpu, dtype(p), new OpsInputs(tmp, 11), 4e-5, halfUlp(p));
    }
  }

  /** Half the spacing of p's numbers near 1 (round to nearest): 2^-11 for f16, 2^-8 for bf16. */
  static double halfUlp(Precision p) {
    return p == Precision.F16 ? 0x1p-11 : p == Precision.BF16 ? 0x1p-8 : 0;
  }

  /**
   * The layer norm fused into the one-row gemv (gptneo.cuda.fuseNorm), against the CPU's layer norm
   * then linear layer: block sizes of 320, 96 and 256 threads (the last splitting k), each epilogue.
   */
  @ParameterizedTest
  @EnumSource(value = Precision.class, names = {"F16", "BF16"})
  void layerNormFusedIntoTheGemv(Precision p) {
    try (Ops gpu = gpu(p, CudaOps.FUSE_NORM_PROPERTY, "true"); Ops cpu = CpuOps.scalar(2)) {
      checkNormLinear(gpu, cpu, dtype(p), new OpsInputs(tmp, 9), 4e-5);
    }
  }

  /** Mean pooling's row sums on the device: the host's double sums in row order, bit for bit. */
  @Test
  void rowSumsOnTheDeviceAreTheHostsBits() {
    try (CudaOps gpu = (CudaOps) gpu(Precision.F32)) {
      OpsInputs in = new OpsInputs(tmp, 5);
      int rows = 40;
      int cols = 300;
      Ops.Activations a = in.activations(gpu, "F32", in.values(rows * cols, 3f), rows, cols);
      int[] ranges = {0, 17, 17, 18, 18, 40};
      double[] sums = new double[3 * cols];
      assertTrue(gpu.sumsRows());
      gpu.sumRows(a, ranges, 3, sums);
      float[] back = OpsInputs.read(gpu, a, rows);
      for (int i = 0; i < 3; i++) {
        for (int c = 0; c < cols; c++) {
          double acc = 0;
          for (int r = ranges[2 * i]; r < ranges[2 * i + 1]; r++) {
            acc += back[r * cols + c];
          }
          assertEquals(acc, sums[i * cols + c], "range " + i + " column " + c);
        }
      }
    }
  }

  /**
   * choose_tokens against the host's tokens (GenerateJob's processors and sampler, through
   * HostChoice) on the same logits, uploaded in fp32 so they reach the device unrounded: greedy and
   * sampled rows, the exact path and the parallel ones, ties, -inf, signed zeros, penalties and
   * bans (ChoiceCases), at a vocab of 3001 and at GPT-Neo's 50257. Every token must agree, and
   * the log-probabilities of the rows that ask for them within ChoiceCases.logprobTolerance.
   */
  @Test
  void chooseTokensOnTheDeviceAsTheHost() {
    try (CudaOps gpu = (CudaOps) gpu(Precision.F32)) {
      OpsInputs in = new OpsInputs(tmp, 5);
      for (ChoiceCases cases : List.of(ChoiceCases.broad(3001, 21), ChoiceCases.broad(50257, 22),
          ChoiceCases.fullVocab(23))) {
        int rows = cases.rows();
        int[] got = new int[rows];
        double[] gotLogprobs = new double[rows];
        Ops.Activations logits = in.activations(gpu, "F32", cases.logits(), rows, cases.vocab);
        assertBitsEqual(cases.logits(), OpsInputs.read(gpu, logits, rows), cases.label + ": logits on the device");
        gpu.chooseTokens(logits, cases.choice, got, gotLogprobs);
        int[] want = cases.expected();
        double[] wantLogprobs = cases.expectedLogprobs();
        List<String> wrong = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
          if (got[r] != want[r]) {
            wrong.add(cases.names.get(r) + ": device " + got[r] + ", host " + want[r]);
          }
          if (!ChoiceCases.logprobsAgree(cases.vocab, wantLogprobs[r], gotLogprobs[r])) {
            wrong.add(cases.names.get(r) + ": logprob device " + gotLogprobs[r] + ", host " + wantLogprobs[r]);
          }
        }
        System.out.println("GPU choose_tokens, " + cases.label + ": " + (rows - wrong.size()) + " of " + rows
            + " rows as the host");
        assertTrue(wrong.isEmpty(), cases.label + ": " + wrong);
      }
    }
  }

  /** token_logprobs against LogitsProcessors.logProb on the same fp32 logits (TargetCases), at 3001 and 50257. */
  @Test
  void tokenLogprobsOnTheDeviceAsTheHost() {
    try (CudaOps gpu = (CudaOps) gpu(Precision.F32)) {
      OpsInputs in = new OpsInputs(tmp, 6);
      for (TargetCases cases : List.of(TargetCases.of(3001, 41), TargetCases.of(50257, 42))) {
        int rows = cases.rows();
        Ops.Activations logits = in.activations(gpu, "F32", cases.logits(), rows, cases.vocab);
        double[] got = new double[cases.targets.count()];
        gpu.tokenLogprobs(logits, cases.targets, got);
        double[] want = cases.expected();
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < want.length; i++) {
          if (!ChoiceCases.logprobsAgree(cases.vocab, want[i], got[i])) {
            wrong.add("target " + i + ": device " + got[i] + ", host " + want[i]);
          }
        }
        assertTrue(wrong.isEmpty(), "vocab " + cases.vocab + ": " + wrong);
      }
    }
  }

  /** beam_candidates against HostChoice.rank on the same fp32 logits (BeamCases), at 3001 and 50257. */
  @Test
  void beamCandidatesOnTheDeviceAsTheHost() {
    try (CudaOps gpu = (CudaOps) gpu(Precision.F32)) {
      OpsInputs in = new OpsInputs(tmp, 7);
      for (BeamCases cases : List.of(BeamCases.of(3001, 43), BeamCases.of(50257, 44))) {
        int rows = cases.rows();
        Ops.Activations logits = in.activations(gpu, "F32", cases.logits(), rows, cases.vocab);
        float[] scores = new float[rows * cases.choice.maxTopK()];
        int[] ids = new int[scores.length];
        gpu.rankTokens(logits, cases.choice, scores, ids);
        List<String> wrong = cases.differences(scores, ids);
        assertTrue(wrong.isEmpty(), "vocab " + cases.vocab + ": " + wrong);
      }
    }
  }

  /** The checks themselves, with the Vector API kernels in the GPU's place (no GPU needed). */
  @Test
  void theChecksPassOnTheCpu() {
    assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
    try (Ops fast = CpuOps.create(EngineOptions.Kernels.VECTOR, 2, true); Ops cpu = CpuOps.scalar(2)) {
      OpsInputs in = new OpsInputs(tmp, 3);
      checkEmbed(fast, cpu, "F16", in);
      checkLayerNorm(fast, cpu, "F32", in);
      checkGather(fast, cpu, "F32", in);
      checkLinear(fast, cpu, "BF16", in, 1e-5);
      checkNormLinear(fast, cpu, "BF16", in, 1e-5);
      checkMlp(fast, cpu, "BF16", in, 1e-5, 0);
      checkAttention(fast, cpu, "F32", in, 1e-4);
      ChoiceCases cases = ChoiceCases.broad(300, 1);
      Ops.Activations logits = in.activations(cpu, "F32", cases.logits(), cases.rows(), cases.vocab);
      assertBitsEqual(cases.logits(), OpsInputs.read(cpu, logits, cases.rows()), "choice logits through OpsInputs");
      BeamCases beams = BeamCases.of(300, 2); // the host's own continuations pass; a swapped pair does not
      int stride = beams.choice.maxTopK();
      float[] scores = new float[beams.rows() * stride];
      int[] ids = new int[scores.length];
      for (int r = 0; r < beams.rows(); r++) {
        for (int j = 0; j < beams.choice.topK(r); j++) {
          scores[r * stride + j] = beams.expected(r).scores()[j];
          ids[r * stride + j] = beams.expected(r).ids()[j];
        }
      }
      assertEquals(List.of(), beams.differences(scores, ids));
      int r = 2; // gauss, k 8: well-separated scores
      int swap = ids[r * stride];
      ids[r * stride] = ids[r * stride + 1];
      ids[r * stride + 1] = swap;
      assertEquals(2, beams.differences(scores, ids).size());
    }
  }

  static void assertBitsEqual(float[] expected, float[] got, String what) {
    assertTrue(expected.length == got.length, what + ": lengths");
    for (int i = 0; i < expected.length; i++) {
      int at = i;
      assertTrue(Float.floatToIntBits(expected[i]) == Float.floatToIntBits(got[i]),
          () -> what + ": " + got[at] + " at " + at + ", expected " + expected[at]);
    }
  }

  static void checkEmbed(Ops dev, Ops ref, String dtype, OpsInputs in) {
    int vocab = 50;
    int positions = 20;
    int hidden = 70;
    float[] te = in.values(vocab * hidden, 1f);
    float[] pe = in.values(positions * hidden, 1f);
    GptNeoConfig c = config(hidden, 1, 8, "global");
    int[] ids = {3, 0, 49, 3, 7, 12};
    float[][] got = new float[2][];
    Ops[] both = {dev, ref};
    for (int b = 0; b < 2; b++) {
      Ops ops = both[b];
      Ops.Matrix wte = ops.matrix(in.tensor(dtype, te, vocab, hidden));
      Ops.Matrix wpe = ops.matrix(in.tensor(dtype, pe, positions, hidden));
      try (SequenceCache first = ops.newSequenceCache(c, 10); SequenceCache second = ops.newSequenceCache(c, 10)) {
        Step step = new Step(8, 2);
        step.add(first, ids, 0, 4);
        step.add(second, ids, 4, 2);
        Ops.Activations out = ops.activations(8, hidden);
        ops.embed(step, wte, wpe, out);
        got[b] = OpsInputs.read(ops, out, 6);
      }
    }
    assertClose(got[1], got[0], 0, "embed");
  }

  static void checkLayerNorm(Ops dev, Ops ref, String dtype, OpsInputs in) {
    for (int[] shape : new int[][] {{37, 2560}, {3, 67}}) {
      int rows = shape[0];
      int cols = shape[1];
      float[] x = in.values(rows * cols, 2f);
      float[] gamma = in.values(cols, 1f);
      float[] beta = in.values(cols, 1f);
      float[][] got = new float[2][];
      Ops[] both = {dev, ref};
      for (int b = 0; b < 2; b++) {
        Ops ops = both[b];
        Ops.Activations xa = in.activations(ops, dtype, x, rows, cols);
        Ops.Activations out = ops.activations(rows, cols);
        ops.layerNorm(xa, ops.vector(in.tensor("F32", gamma, cols)), ops.vector(in.tensor("F32", beta, cols)), 1e-5f,
            out, rows);
        got[b] = OpsInputs.read(ops, out, rows);
      }
      assertClose(got[1], got[0], 1e-4, "layerNorm " + rows + "x" + cols);
    }
  }

  static void checkGather(Ops dev, Ops ref, String dtype, OpsInputs in) {
    int rows = 9;
    int cols = 33;
    float[] x = in.values(rows * cols, 1f);
    int[] pick = {8, 0, 8, 4};
    float[][] got = new float[2][];
    Ops[] both = {dev, ref};
    for (int b = 0; b < 2; b++) {
      Ops ops = both[b];
      Ops.Activations dst = ops.activations(4, cols);
      ops.gatherRows(in.activations(ops, dtype, x, rows, cols), pick, 4, dst);
      got[b] = OpsInputs.read(ops, dst, 4);
    }
    assertClose(got[1], got[0], 0, "gatherRows");
  }

  /** Tolerance per element: rel * sum over k of |x_k w_k| (+ rel), the size of what was summed. */
  static void checkLinear(Ops dev, Ops ref, String dtype, OpsInputs in, double rel) {
    // rows <= 4 run the gemv, whose epilogue is fused; with in >= 4096 and few columns it splits k
    for (int[] shape : new int[][] {{5, 257, 300}, {70, 64, 33}, {1, 768, 2304}, {3, 512, 1001}, {4, 1024, 37},
        {20, 512, 300}, {150, 1024, 130}, {1, 10240, 300}, {3, 4096, 1000}}) {
      int rows = shape[0];
      int k = shape[1];
      int n = shape[2];
      float[] w = in.values(n * k, 0.125f);
      float[] bias = in.values(n, 1f);
      float[] x = in.values(rows * k, 1f);
      float[] old = in.values(rows * n, 1f);
      double[] scale = new double[rows * n];
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < n; j++) {
          double s = 1;
          for (int i = 0; i < k; i++) {
            s += Math.abs(x[r * k + i] * w[j * k + i]);
          }
          scale[r * n + j] = s;
        }
      }
      for (Epilogue epilogue : Epilogue.values()) {
        float[][] got = new float[2][];
        Ops[] both = {dev, ref};
        for (int b = 0; b < 2; b++) {
          Ops ops = both[b];
          Ops.Activations xa = in.activations(ops, dtype, x, rows, k);
          Ops.Activations out = in.activations(ops, dtype, old, rows, n);
          ops.linear(xa, ops.matrix(in.tensor(dtype, w, n, k)), ops.vector(in.tensor("F32", bias, n)), out, rows,
              epilogue);
          got[b] = OpsInputs.read(ops, out, rows);
        }
        double worst = 0;
        for (int i = 0; i < got[0].length; i++) {
          worst = Math.max(worst, Math.abs(got[0][i] - got[1][i]) / (rel * scale[i]));
        }
        assertTrue(worst <= 1, String.format(Locale.ROOT, "linear %s %dx%dx%d %s: error %.3g x the tolerance",
            dtype, rows, k, n, epilogue, worst));
      }
    }
  }

  /** normLinear at one row (layer norm, then a linear layer, or both fused) against ref's. */
  static void checkNormLinear(Ops dev, Ops ref, String dtype, OpsInputs in, double rel) {
    for (int[] shape : new int[][] {{2560, 45}, {768, 19}, {4096, 300}}) {
      int k = shape[0];
      int n = shape[1];
      float[] x = in.values(k, 3f);
      float[] gamma = in.values(k, 1f);
      float[] beta = in.values(k, 1f);
      float[] w = in.values(n * k, 0.125f);
      float[] bias = in.values(n, 1f);
      float[] old = in.values(n, 1f);
      for (Epilogue epilogue : Epilogue.values()) {
        float[][] got = new float[2][];
        float[] normedRef = null;
        Ops[] both = {dev, ref};
        for (int b = 0; b < 2; b++) {
          Ops ops = both[b];
          Ops.Activations normed = ops.activations(1, k);
          Ops.Activations out = in.activations(ops, dtype, old, 1, n);
          ops.normLinear(in.activations(ops, dtype, x, 1, k), ops.vector(in.tensor(dtype, gamma, k)),
              ops.vector(in.tensor(dtype, beta, k)), 1e-5f, normed, ops.matrix(in.tensor(dtype, w, n, k)),
              ops.vector(in.tensor(dtype, bias, n)), out, 1, epilogue);
          got[b] = OpsInputs.read(ops, out, 1);
          if (b == 1) {
            normedRef = OpsInputs.read(ops, normed, 1);
          }
        }
        double worst = 0;
        for (int j = 0; j < n; j++) {
          double scale = 1;
          for (int i = 0; i < k; i++) {
            scale += Math.abs(normedRef[i] * w[j * k + i]);
          }
          worst = Math.max(worst, Math.abs(got[0][j] - got[1][j]) / (rel * scale));
        }
        assertTrue(worst <= 1, String.format(Locale.ROOT, "layer norm + linear %s %dx%d %s: error %.3g x the tolerance",
            dtype, k, n, epilogue, worst));
      }
    }
  }

  /**
   * out += gelu_new(x W1^T + b1) W2^T + b2 through a hidden layer only linear layers read
   * (Ops.linearInput, where the GPU may keep only its 16-bit copy): biases exact in dtype. dev's
   * hidden values may be rounded to dtype (hiddenRounding: half its spacing, relative), so the
   * tolerance is rel plus that, times the sum of |hidden_i W2_ji| (hidden from ref).
   */
  static void checkMlp(Ops dev, Ops ref, String dtype, OpsInputs in, double rel, double hiddenRounding) {
    for (int[] shape : new int[][] {{70, 256, 512, 256}, {150, 512, 1024, 512}, {3, 256, 512, 256}}) {
      int rows = shape[0], k = shape[1], hiddenCols = shape[2], n = shape[3];
      float[] x = in.values(rows * k, 1f);
      float[] w1 = in.values(hiddenCols * k, 0.125f);
      float[] b1 = in.values(hiddenCols, 1f);
      float[] w2 = in.values(n * hiddenCols, 0.125f);
      float[] b2 = in.values(n, 1f);
      float[] old = in.values(rows * n, 1f);
      float[][] got = new float[2][];
      float[] hiddenRef = null;
      Ops[] both = {dev, ref};
      for (int b = 0; b < 2; b++) {
        Ops ops = both[b];
        Ops.Activations hidden = ops.linearInput(rows, hiddenCols);
        Ops.Activations out = in.activations(ops, dtype, old, rows, n);
        ops.linear(in.activations(ops, dtype, x, rows, k), ops.matrix(in.tensor(dtype, w1, hiddenCols, k)),
            ops.vector(in.tensor(dtype, b1, hiddenCols)), hidden, rows, Epilogue.GELU_NEW);
        ops.linear(hidden, ops.matrix(in.tensor(dtype, w2, n, hiddenCols)), ops.vector(in.tensor(dtype, b2, n)), out,
            rows, Epilogue.ADD);
        got[b] = OpsInputs.read(ops, out, rows);
        if (b == 1) {
          hiddenRef = OpsInputs.read(ops, hidden, rows);
        }
      }
      double worst = 0;
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < n; j++) {
          double scale = 1;
          for (int i = 0; i < hiddenCols; i++) {
            scale += Math.abs(hiddenRef[r * hiddenCols + i] * w2[j * hiddenCols + i]);
          }
          int at = r * n + j;
          worst = Math.max(worst, Math.abs(got[0][at] - got[1][at]) / ((rel + hiddenRounding) * scale));
        }
      }
      assertTrue(worst <= 1, String.format(Locale.ROOT, "mlp %s %dx%dx%dx%d: error %.3g x the tolerance", dtype,
          rows, k, hiddenCols, n, worst));
    }
  }

  /** Three layers (local, global, local); four sequences joining and leaving over five steps. */
  static void checkAttention(Ops dev, Ops ref, String dtype, OpsInputs in, double tol) {
    int[][] capacities = {{100}, {12}, {80}, {8}};
    int[][] chunks = {{37, 1, 1, 50, 1}, {1, 1, 1, 1, 1}, {0, 0, 70, 1, 1}, {0, 0, 0, 7, 1}};
    for (int[] hh : new int[][] {{64, 4}, {96, 3}, {128, 2}, {256, 2}, {130, 1}}) {
      for (int window : new int[] {3, 16, 256}) {
        int hidden = hh[0];
        int heads = hh[1];
        GptNeoConfig c = config(hidden, heads, window, "local", "global", "local");
        Ops[] both = {dev, ref};
        List<List<SequenceCache>> caches = new ArrayList<>();
        for (Ops ops : both) {
          List<SequenceCache> list = new ArrayList<>();
          for (int[] cap : capacities) {
            list.add(ops.newSequenceCache(c, cap[0]));
          }
          caches.add(list);
        }
        int[] noIds = new int[200];
        for (int s = 0; s < chunks[0].length; s++) {
          Step[] steps = {new Step(256, 4), new Step(256, 4)};
          for (int b = 0; b < 2; b++) {
            for (int q = 0; q < chunks.length; q++) {
              if (chunks[q][s] > 0) {
                steps[b].add(caches.get(b).get(q), noIds, caches.get(b).get(q).length(), chunks[q][s]);
              }
            }
          }
          int tokens = steps[0].numTokens;
          for (int l = 0; l < c.numLayers; l++) {
            float[] qkv = in.values(tokens * 3 * hidden, 0.25f);
            float[][] got = new float[2][];
            for (int b = 0; b < 2; b++) {
              Ops ops = both[b];
              Ops.Activations qa = in.activations(ops, dtype, qkv, tokens, 3 * hidden);
              Ops.Activations out = ops.activations(tokens, hidden);
              ops.attention(steps[b], l, c.isLocal(l), window, heads, qa, out);
              got[b] = OpsInputs.read(ops, out, tokens);
            }
            assertClose(got[1], got[0], tol, String.format(Locale.ROOT,
                "attention %s hidden %d heads %d window %d step %d layer %d", dtype, hidden, heads, window, s, l));
          }
          for (int b = 0; b < 2; b++) {
            both[b].commit(steps[b]);
          }
        }
        caches.forEach(list -> list.forEach(SequenceCache::close));
      }
    }
  }

  static GptNeoConfig config(int hidden, int heads, int window, String... layers) {
    StringBuilder types = new StringBuilder();
    for (String l : layers) {
      types.append(types.length() == 0 ? "" : ",").append("[[\"").append(l).append("\"],1]");
    }
    return GptNeoConfig.parse("{\"model_type\":\"gpt_neo\",\"hidden_size\":" + hidden + ",\"num_heads\":" + heads
        + ",\"num_layers\":" + layers.length + ",\"attention_types\":[" + types + "],\"window_size\":" + window
        + ",\"max_position_embeddings\":256}", "test");
  }

  static void assertClose(float[] expected, float[] got, double tol, String what) {
    assertTrue(expected.length == got.length, what + ": lengths");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.abs(expected[i] - got[i]);
      if (!(e <= worst)) { // NaN counts as worst
        worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        at = i;
      }
    }
    double max = worst;
    int index = at;
    assertTrue(max <= tol, () -> what + ": max |error| " + max + " at " + index + " (expected " + expected[index]
        + ", got " + got[index] + ") > " + tol);
  }
}
