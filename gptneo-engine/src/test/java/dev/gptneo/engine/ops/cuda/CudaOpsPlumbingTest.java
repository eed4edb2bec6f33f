package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.generate.GenerateJob;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.ops.TokenChoice;
import dev.gptneo.engine.tasks.EmbedJob;
import dev.gptneo.engine.tasks.ScoreJob;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.testing.TinyCheckpoints;
import dev.gptneo.engine.weights.Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend's host side on a {@link FakeGpu}: whole forward passes of real checkpoints,
 * with prompt chunks and decode steps mixed, launch every kernel with arguments of the kinds
 * the compiled kernels take, pointers into live memory and GEMM operands that fit; closing frees
 * everything. What the kernels compute is tested by KernelEmulationTest and, on a GPU, by
 * CudaOpsVsCpuTest.
 */
class CudaOpsPlumbingTest {
  @TempDir
  Path tmp;

  /**
   * Runs: step 1 a 70-token prompt (two prefill blocks) and a 5-token one; step 2 one decode token
   * each plus a new 3-token prompt; then the LM head on three rows, read back, and on three rows
   * whose tokens are chosen on the device (only the three ids come back).
   */
  static void runSteps(Path modelDir, CudaOps ops, FakeGpu fake) {
    GptNeoConfig config = GptNeoConfig.load(modelDir);
    Checkpoint checkpoint = Checkpoint.open(modelDir);
    GptNeoWeights weights = new GptNeoWeights(config, checkpoint, ops);
    GptNeoModel model = new GptNeoModel(config, weights, ops, 128, 8);
    int[] ids = new int[100];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (7 * i + 3) % config.vocabSize;
    }
    SequenceCache a = ops.newSequenceCache(config, 90);
    SequenceCache b = ops.newSequenceCache(config, 20);
    Step step = new Step(128, 4);
    step.add(a, ids, 0, 70);
    step.add(b, ids, 0, 5);
    model.forward(step);
    assertEquals(70, a.length());
    SequenceCache c = ops.newSequenceCache(config, 10);
    step.clear();
    step.add(a, ids, 70, 1);
    step.add(b, ids, 5, 2); // a second chunk: it reads cached keys, so local layers run kv_store
    step.add(c, ids, 0, 3);
    model.forward(step);
    float[] logits = new float[3 * config.vocabSize];
    model.head(weights.lmHead, null, new int[] {0, 2, 5}, 3, logits);
    TokenChoice choice = new TokenChoice(config.vocabSize, 3);
    choice.addSampled(1f, 50, 1.0, 0.5); // first a table without ids
    choice.addGreedy();
    int[] tokens = new int[3];
    double[] logprobs = new double[3];
    model.chooseTokens(new int[] {0, 2}, 2, choice, tokens, logprobs);
    choice.clear();
    choice.addGreedy();
    choice.penalize(1.2f, new int[] {3, 10, 17}, 3);
    choice.addSampled(0.8f, 50, 0.9, 0.5);
    choice.addSampled(1f, 0, 0.95, 0.25);
    choice.ban(config.vocabSize - 1);
    int downloadsBefore = fake.downloads.size();
    model.chooseTokens(new int[] {0, 2, 5}, 3, choice, tokens, logprobs);
    assertEquals(List.of(12L), fake.downloads.subList(downloadsBefore, fake.downloads.size()),
        "chooseTokens downloads the three ids and nothing else");
    choice.wantLogprob(); // the last row: the ids, padded to 8 bytes, then three doubles in the same download
    model.chooseTokens(new int[] {0, 2, 5}, 3, choice, tokens, logprobs);
    assertEquals(List.of(12L, 16L + 24L), fake.downloads.subList(downloadsBefore, fake.downloads.size()));
    assertTrue(Double.isNaN(logprobs[0]) && Double.isNaN(logprobs[1]), "rows that did not ask get NaN");
    assertEquals(0.0, logprobs[2], "the last row's, as the fake device reads back (zeros)");
    assertTrue(ops.freeDeviceBytes() > 0);
    assertEquals(config.cacheSlots(10) * 2L * config.hiddenSize * ops.precision().bytes,
        ops.sequenceCacheBytes(config, 10), "the cache holds the weights' precision");
    b.close();
    c.close();
  }

  @Test
  void demoModelInF16RunsEveryKernelWithinItsMemory() {
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps ops = new CudaOps(gpu, null);
    runSteps(Goldens.demoModel(), ops, gpu);
    assertEquals(Precision.F16, ops.precision(), "the demo checkpoint is fp16");
    for (String k : List.of("embed_f16", "layernorm_f16", "attention_prefill_f16_d64", "attention_decode_f16",
        "kv_store_f16", "bias_act_f16", "gather_rows", "gemv_f16", "choose_tokens")) {
      assertTrue(gpu.launches.contains(k), k + " was not launched: " + gpu.launches);
    }
    GptNeoConfig config = GptNeoConfig.load(Goldens.demoModel());
    // per layer: qkv, out, fc, proj for the two steps (75 and 6 rows); the LM head's 2 or 3 rows go to the gemv kernel
    // (model.head, then three chooseTokens)
    assertEquals(2 * 4 * config.numLayers, gpu.gemms);
    assertEquals(4, Collections.frequency(gpu.launches, "gemv_f16"));
    // kernels that feed a GEMM wrote 16-bit copies, and the gemv reads fp32: nothing needed a cast
    assertEquals(0, Collections.frequency(gpu.launches, "cast_f16"), gpu.launches.toString());
    // the MLP's gelu after cuBLAS writes only the 16-bit copy the next GEMM reads (its last argument, half_only)
    int geluHalfOnly = 0;
    for (int i = 0; i < gpu.launches.size(); i++) {
      long[] args = gpu.launchArgs.get(i);
      if (gpu.launches.get(i).equals("bias_act_f16") && args[5] == 1) {
        assertEquals(1, args[6], "gelu's bias_act writes the 16-bit copy alone");
        geluHalfOnly++;
      }
    }
    assertEquals(2 * config.numLayers, geluHalfOnly, "one gelu a layer in each of the two steps");
    ops.close();
    assertEquals(0, gpu.liveAllocations(), "memory left after close");
    assertTrue(gpu.closed);
  }

  /**
   * A decode step at batch 2: per layer two layer norms, four gemvs (bias, gelu and the residual
   * add in their epilogues) and one decode attention that also caches the keys and values; no
   * bias_act or kv_store launch. The MLP's second gemv (in 4096, 8 column groups) splits k in two.
   */
  @Test
  void decodeStepsFuseTheEpiloguesAndTheKvStore() {
    Path dir = TinyCheckpoints.write(tmp.resolve("wide-mlp"), TinyCheckpoints.spec().with(s -> {
      s.hidden = 64;
      s.heads = 2;
      s.intermediate = 4096;
      s.dtype = "F16";
    }));
    GptNeoConfig config = GptNeoConfig.load(dir);
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps ops = new CudaOps(gpu, null);
    GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(dir), ops), ops, 16, 4);
    SequenceCache a = ops.newSequenceCache(config, 12);
    SequenceCache b = ops.newSequenceCache(config, 12);
    int[] ids = {5, 9, 11, 3, 7, 2};
    Step step = new Step(16, 2);
    step.add(a, ids, 0, 3);
    step.add(b, ids, 0, 2);
    model.forward(step);
    assertFalse(gpu.launches.contains("kv_store_f16"), "a prompt from position 0: the attention kernels cache");
    for (int t = 3; t < 6; t++) {
      int from = gpu.launches.size();
      step.clear();
      step.add(a, ids, t, 1);
      step.add(b, ids, t - 1, 1);
      model.forward(step);
      List<String> decode = gpu.launches.subList(from, gpu.launches.size());
      { // eager at t = 3, recorded and replayed at 4, replayed at 5: the same launches
        int layers = config.numLayers;
        assertEquals(4 * layers, Collections.frequency(decode, "gemv_f16"), decode.toString());
        assertEquals(2 * layers + 1, Collections.frequency(decode, "layernorm_f16"));
        assertEquals(layers, Collections.frequency(decode, "attention_decode_f16"));
        assertFalse(decode.contains("kv_store_f16"), decode.toString());
        assertFalse(decode.contains("bias_act_f16"), decode.toString());
        List<Integer> gridY = gpu.launchGridY.subList(from, gpu.launches.size());
        for (int i = 0, gemv = 0; i < decode.size(); i++) {
          if (decode.get(i).equals("gemv_f16")) {
            assertEquals(gemv % 4 == 3 ? 2 : 1, gridY.get(i), "slices of k of gemv " + gemv + " (in 4096 only for proj)");
            gemv++;
          }
        }
      }
    }
    assertEquals(6, a.length());
    ops.close();
    assertEquals(0, gpu.liveAllocations());
  }

  /** One-row gemv blocks sized so that passes of 8 elements a thread cover k evenly; 2-4 rows keep 256. */
  @Test
  void gemvBlocksCoverKInWholePasses() {
    assertEquals(320, CudaKernels.evenThreads(2560), "one pass, where 256 threads need 1.25");
    assertEquals(256, CudaKernels.evenThreads(10240));
    assertEquals(96, CudaKernels.evenThreads(768));
    assertEquals(256, CudaKernels.evenThreads(2048));
    CudaKernels kernels = new CudaKernels(new FakeGpu(1L << 30));
    CudaKernels.GemvShape one = kernels.gemvShape(Precision.F16, 1, 10240, 2560);
    assertEquals("gemv1_f16", one.kernel());
    assertEquals(0, one.sliceLength() % (8 * one.threads()), "slices of whole passes");
    assertTrue((long) one.slices() * one.sliceLength() >= 10240 && (one.slices() - 1L) * one.sliceLength() < 10240);
    assertEquals(320, kernels.gemvShape(Precision.F16, 1, 2560, 7680).threads());
    CudaKernels.GemvShape four = kernels.gemvShape(Precision.BF16, 3, 2560, 7680);
    assertEquals("gemv_bf16", four.kernel());
    assertEquals(256, four.threads());
    System.setProperty(CudaKernels.GEMV_THREADS_PROPERTY, "256");
    try {
      assertEquals(256, new CudaKernels(new FakeGpu(1L << 30)).gemvShape(Precision.F16, 1, 2560, 7680).threads());
      System.setProperty(CudaKernels.GEMV_THREADS_PROPERTY, "100");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new CudaKernels(new FakeGpu(1L << 30)));
      assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
    } finally {
      System.clearProperty(CudaKernels.GEMV_THREADS_PROPERTY);
    }
  }

  /** A linear layer's input kept only in 16-bit (Ops.linearInput) feeds GEMMs; reading its fp32 data is an error. */
  @Test
  void activationsHeldIn16BitOnlyFeedGemmsAndNothingElse() {
    FakeGpu gpu = new FakeGpu(1L << 30);
    try (CudaOps ops = new CudaOps(gpu, Precision.F16)) {
      OpsInputs in = new OpsInputs(tmp, 7);
      Ops.Matrix fc = ops.matrix(in.tensor("F16", in.values(64 * 32, 0.125f), 64, 32));
      Ops.Matrix proj = ops.matrix(in.tensor("F16", in.values(32 * 64, 0.125f), 32, 64));
      Ops.Activations x = in.activations(ops, "F16", in.values(16 * 32, 1f), 16, 32);
      Ops.Activations hidden = ops.linearInput(16, 64);
      Ops.Activations out = ops.activations(16, 32);
      ops.linear(x, fc, ops.vector(in.tensor("F32", in.values(64, 1f), 64)), hidden, 16, Epilogue.GELU_NEW);
      assertEquals(1L, gpu.launchArgs.get(gpu.launches.lastIndexOf("bias_act_f16"))[6], "16-bit copy alone");
      ops.linear(hidden, proj, null, out, 16, Epilogue.ADD); // reads the copy: fine
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> ops.read(hidden, 16, new float[16 * 64]));
      assertTrue(e.getMessage().contains("16-bit copy"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> ops.linear(hidden, proj, null, out, 2, Epilogue.ADD),
          "the gemv reads fp32");
      ops.linear(x, fc, null, hidden, 2, Epilogue.GELU_NEW); // the gemv writes both again
      ops.read(hidden, 2, new float[2 * 64]);
    }
  }

  @Test
  void fp32CheckpointRunsInBf16AndOnRequestInFp32() {
    Path dir = TinyCheckpoints.write(tmp.resolve("tiny"), TinyCheckpoints.spec().with(s -> {
      s.hidden = 96;
      s.heads = 2; // head_dim 48
      s.window = 8;
      s.maxPositions = 128;
    }));
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps bf16 = new CudaOps(gpu, null);
    runSteps(dir, bf16, gpu);
    assertEquals(Precision.BF16, bf16.precision());
    assertTrue(gpu.launches.contains("cast_bf16"), "fp32 weights are converted on the device");
    assertTrue(gpu.launches.contains("attention_prefill_bf16_d64"));
    bf16.close();
    assertEquals(0, gpu.liveAllocations());

    FakeGpu gpu32 = new FakeGpu(1L << 30);
    CudaOps f32 = new CudaOps(gpu32, Precision.F32);
    runSteps(dir, f32, gpu32);
    assertEquals(Precision.F32, f32.precision());
    assertFalse(gpu32.launches.stream().anyMatch(k -> k.startsWith("cast_")), "no casts in fp32");
    assertTrue(gpu32.launches.contains("attention_decode_f32"));
    f32.close();
    assertEquals(0, gpu32.liveAllocations());
  }

  @Test
  void headDim128UsesTheWideKernelAndOptsIntoMoreSharedMemory() {
    Path dir = TinyCheckpoints.write(tmp.resolve("wide"), TinyCheckpoints.spec().with(s -> {
      s.hidden = 256;
      s.heads = 2; // head_dim 128, as GPT-Neo 1.3B and 2.7B
      s.dtype = "F16";
      s.maxPositions = 128;
    }));
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps ops = new CudaOps(gpu, null);
    runSteps(dir, ops, gpu);
    assertTrue(gpu.launches.contains("attention_prefill_mma_f16_d128"), "the tensor cores by default");
    ops.close();
    System.setProperty(CudaKernels.PREFILL_ATTENTION_PROPERTY, "simt");
    try {
      FakeGpu simt = new FakeGpu(1L << 30);
      CudaOps fp32 = new CudaOps(simt, null);
      runSteps(dir, fp32, simt);
      assertTrue(simt.launches.contains("attention_prefill_f16_d128"));
      fp32.close();
    } finally {
      System.clearProperty(CudaKernels.PREFILL_ATTENTION_PROPERTY);
    }
  }

  /** q|k|v part by part from gptneo.cuda.splitStackedRows rows: three GEMMs into y's column blocks. */
  @Test
  void stackedMatricesSplitFromTheConfiguredRows() {
    GptNeoConfig config = GptNeoConfig.load(Goldens.demoModel());
    FakeGpu fused = new FakeGpu(1L << 30);
    CudaOps one = new CudaOps(fused, null);
    runSteps(Goldens.demoModel(), one, fused);
    one.close();
    System.setProperty(CudaOps.SPLIT_STACKED_ROWS_PROPERTY, "7");
    try {
      FakeGpu split = new FakeGpu(1L << 30);
      CudaOps parts = new CudaOps(split, null);
      runSteps(Goldens.demoModel(), parts, split);
      // the 75-row step's q|k|v in three GEMMs, the 6-row step's in one; checkGemm bounds each y block
      assertEquals(fused.gemms + 2 * config.numLayers, split.gemms);
      parts.close();
      assertEquals(0, split.liveAllocations());
    } finally {
      System.clearProperty(CudaOps.SPLIT_STACKED_ROWS_PROPERTY);
    }
  }

  /**
   * Generation through the scheduler on the device path: greedy and sampled jobs, with penalties,
   * n-gram bans and min_new_tokens, in chunks of head rows, choose on the device and download only
   * the ids (4 bytes a row); a score job in the same engine reads only its log-probabilities.
   */
  @Test
  void generationChoosesOnTheDeviceAndDownloadsOnlyIds() throws Exception {
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps ops = new CudaOps(gpu, null);
    Path demo = Goldens.demoModel();
    GptNeoConfig config = GptNeoConfig.load(demo);
    GptNeoWeights weights = new GptNeoWeights(config, Checkpoint.open(demo), ops);
    int headRows = 4;
    GptNeoModel model = new GptNeoModel(config, weights, ops, 64, headRows);
    assertTrue(model.choosesTokens());
    GenerationParams greedy = GenerationParams.builder().maxNewTokens(5).repetitionPenalty(1.3)
        .noRepeatNgramSize(2).minNewTokens(2).build();
    GenerationParams sampled = GenerationParams.builder().maxNewTokens(4).doSample(true).topK(0).topP(0.9)
        .temperature(0.7).seed(3).build();
    int[] eos = {config.eosTokenIds[0]};
    try (Scheduler scheduler = new Scheduler(model, 8, 1L << 30)) {
      List<CompletableFuture<GenerateJob.Output>> outs = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        int[] prompt = {10 + i, 20, 30 + i};
        outs.add(scheduler.submit(new GenerateJob(prompt, prompt.length + 5, i % 2 == 0 ? greedy : sampled, eos,
            null)));
      }
      for (CompletableFuture<GenerateJob.Output> f : outs) {
        GenerateJob.Output out = f.get(60, TimeUnit.SECONDS);
        assertTrue(out.completionIds.length == 4 || out.completionIds.length == 5);
      }
      assertTrue(gpu.launches.contains("choose_tokens"));
      for (long bytes : gpu.downloads) {
        assertTrue(bytes <= 4L * headRows, "a download of " + bytes + " bytes while generating: " + gpu.downloads);
      }
      int before = gpu.downloads.size();
      scheduler.submit(new ScoreJob(new int[] {1, 2, 3}, 1)).get(60, TimeUnit.SECONDS);
      assertEquals(List.of(2L * 8), gpu.downloads.subList(before, gpu.downloads.size()),
          "a score job reads its two rows' log-probabilities, not their logits");
      assertTrue(gpu.launches.contains("token_logprobs"));
    }
    ops.close();
    assertEquals(0, gpu.liveAllocations());
  }

  /** Mean pooling on the device: each step's rows are summed there; only the sums and the last row cross. */
  @Test
  void embeddingsDownloadSumsAndTheLastRowOnly() throws Exception {
    FakeGpu gpu = new FakeGpu(1L << 30);
    CudaOps ops = new CudaOps(gpu, null);
    Path demo = Goldens.demoModel();
    GptNeoConfig config = GptNeoConfig.load(demo);
    GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(demo), ops), ops, 64, 8);
    assertTrue(model.sumsRows());
    int[] tokens = new int[100]; // two steps of at most 64 tokens
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = 7 * i + 1;
    }
    try (Scheduler scheduler = new Scheduler(model, 8, 1L << 30)) {
      int before = gpu.downloads.size();
      float[][] out = scheduler.submit(new EmbedJob(tokens, config.hiddenSize)).get(60, TimeUnit.SECONDS);
      assertEquals(config.hiddenSize, out[0].length);
      assertEquals(2, Collections.frequency(gpu.launches, "sum_rows"), "one sum per step");
      assertEquals(1, Collections.frequency(gpu.launches, "gather_rows"), "and the last row alone");
      assertEquals(List.of(8L * config.hiddenSize, 8L * config.hiddenSize, 4L * config.hiddenSize),
          gpu.downloads.subList(before, gpu.downloads.size()));
    }
    ops.close();
    assertEquals(0, gpu.liveAllocations());
  }

  /**
   * The opt-in tensor-core GEMM for 5-256 rows: the prompt steps' GEMMs launch it, split over k
   * where k is long, with the linear layers' epilogues (no bias_act: every GEMM of these steps has
   * at most 256 rows).
   */
  @Test
  void smallGemmsOnTheTensorCoresWhenAskedFor() {
    System.setProperty(CudaKernels.SMALL_GEMM_PROPERTY, "mma");
    try {
      FakeGpu gpu = new FakeGpu(1L << 30);
      try (CudaOps ops = new CudaOps(gpu, null)) {
        runSteps(Goldens.demoModel(), ops, gpu);
        assertTrue(gpu.launches.contains("gemm_rows_f16"), gpu.launches.toString());
        assertTrue(gpu.launches.contains("sum_slices_f16"), "the MLP's 512-deep GEMM is split over k");
        assertFalse(gpu.launches.contains("bias_act_f16"), "the epilogues run in gemm_rows and gemv: "
            + gpu.launches);
      }
      assertEquals(0, gpu.liveAllocations());
    } finally {
      System.clearProperty(CudaKernels.SMALL_GEMM_PROPERTY);
    }
  }

  /**
   * gptneo.cuda.fuseNorm at batch 1: per layer two gemv1_ln (the layer norms before q|k|v and the
   * MLP inside them) and two plain gemvs, one layer norm a step (ln_f, whose output is read); the
   * skipped output fails a reader with a message that names the fusion. At batch 2 nothing fuses.
   */
  @Test
  void layerNormsFuseIntoTheOneRowGemvWhenAskedFor() {
    GptNeoConfig config = GptNeoConfig.load(Goldens.demoModel());
    System.setProperty(CudaOps.FUSE_NORM_PROPERTY, "true");
    try {
      FakeGpu gpu = new FakeGpu(1L << 30);
      try (CudaOps ops = new CudaOps(gpu, null)) {
        GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(Goldens.demoModel()),
            ops), ops, 16, 4);
        SequenceCache a = ops.newSequenceCache(config, 12);
        SequenceCache b = ops.newSequenceCache(config, 12);
        int[] ids = {5, 9, 11, 3, 7, 2};
        Step step = new Step(16, 2);
        step.add(a, ids, 0, 3);
        model.forward(step);
        for (int t = 3; t < 6; t++) { // eager, recorded, replayed: the same launches
          int from = gpu.launches.size();
          step.clear();
          step.add(a, ids, t, 1);
          model.forward(step);
          List<String> decode = gpu.launches.subList(from, gpu.launches.size());
          int layers = config.numLayers;
          assertEquals(2 * layers, Collections.frequency(decode, "gemv1_ln_f16"), decode.toString());
          assertEquals(2 * layers, Collections.frequency(decode, "gemv1_f16"), decode.toString());
          assertEquals(1, Collections.frequency(decode, "layernorm_f16"), "ln_f only: " + decode);
        }
        int from = gpu.launches.size();
        step.clear();
        step.add(a, ids, 5, 1);
        step.add(b, ids, 0, 1);
        model.forward(step);
        List<String> two = gpu.launches.subList(from, gpu.launches.size());
        assertFalse(two.contains("gemv1_ln_f16"), "two rows: layer norm, then gemv");
        assertEquals(2 * config.numLayers + 1, Collections.frequency(two, "layernorm_f16"));
        // normed, skipped by the fusion, fails its next reader with a message that names why
        OpsInputs in = new OpsInputs(tmp, 5);
        int d = config.hiddenSize;
        Ops.Activations x = in.activations(ops, "F16", in.values(d, 1f), 1, d);
        Ops.Activations normed = ops.activations(1, d);
        Ops.Activations out = ops.activations(1, 8);
        Ops.Vector gain = ops.vector(in.tensor("F16", in.values(d, 1f), d));
        ops.normLinear(x, gain, gain, 1e-5f, normed, ops.matrix(in.tensor("F16", in.values(8 * d, 1f), 8, d)), null,
            out, 1, Epilogue.STORE);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ops.read(normed, 1, new float[d]));
        assertTrue(e.getMessage().contains("layer norm was fused into the linear layer"), e.getMessage());
      }
      assertEquals(0, gpu.liveAllocations());
    } finally {
      System.clearProperty(CudaOps.FUSE_NORM_PROPERTY);
    }
  }

  /**
   * gptneo.cuda.gemm=lt: the prompt steps' GEMMs run on cuBLASLt with their epilogues, so no
   * bias_act: the attention output and the MLP's second projection add their bias to the residual,
   * the MLP's first writes gelu_new straight to the 16-bit copy the second reads (with the
   * checkpoint's 16-bit bias). Where cuBLASLt has no algorithm, cuBLAS and bias_act run them.
   */
  @Test
  void fusedGemmsOnCublasLtWhenAskedFor() {
    System.setProperty(CudaOps.GEMM_PROPERTY, "lt");
    try {
      FakeGpu gpu = new FakeGpu(1L << 30);
      try (CudaOps ops = new CudaOps(gpu, null)) {
        runSteps(Goldens.demoModel(), ops, gpu);
        assertFalse(gpu.launches.contains("bias_act_f16"), gpu.launches.toString());
        Map<String, Long> kinds = gpu.fusedEpilogues.stream()
            .collect(Collectors.groupingBy(k -> k, TreeMap::new, Collectors.counting()));
        long layers = GptNeoConfig.load(Goldens.demoModel()).numLayers;
        assertEquals(Set.of("", "+y +bias", "+bias gelu ->16"), kinds.keySet(), kinds.toString());
        assertEquals(2 * kinds.get("+bias gelu ->16"), kinds.get("+y +bias"), kinds.toString());
        assertTrue(kinds.get("+bias gelu ->16") >= layers, kinds.toString());
      }
      assertEquals(0, gpu.liveAllocations());
      FakeGpu refusing = new FakeGpu(1L << 30);
      refusing.refuseFused = true;
      try (CudaOps ops = new CudaOps(refusing, null)) {
        runSteps(Goldens.demoModel(), ops, refusing);
        assertTrue(refusing.launches.contains("bias_act_f16"), refusing.launches.toString());
        assertEquals(0, refusing.fusedGemms);
      }
    } finally {
      System.clearProperty(CudaOps.GEMM_PROPERTY);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaLinear.parseGemm("cublass"));
    assertTrue(e.getMessage().contains("cublas or lt"), e.getMessage());
  }

  /** Kernels with a fallback that fail to build leave the backend running on the fallback. */
  @Test
  void optionalKernelsThatDoNotBuildFallBack() {
    FakeGpu gpu = new FakeGpu(1L << 30);
    gpu.failToBuild = "sampling.cu";
    Path demo = Goldens.demoModel();
    GptNeoConfig config = GptNeoConfig.load(demo);
    FakeGpu noRanking = new FakeGpu(1L << 30);
    noRanking.failToBuild = "ranking.cu";
    try (CudaOps ops = new CudaOps(noRanking, null)) {
      assertTrue(ops.choosesTokens(), "tokens are chosen on the device");
      assertFalse(ops.ranksTokens(), "beams are ranked on the host");
      assertFalse(ops.scoresTokens(), "tokens are scored on the host");
    }
    try (CudaOps ops = new CudaOps(gpu, null)) {
      assertFalse(ops.choosesTokens(), "tokens are chosen on the host");
      assertTrue(ops.ranksTokens() && ops.scoresTokens(), "beams are ranked and tokens scored on the device");
      GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(demo), ops), ops, 64, 8);
      try (Scheduler scheduler = new Scheduler(model, 8, 1L << 30)) {
        GenerationParams p = GenerationParams.builder().maxNewTokens(3).minNewTokens(3).build();
        GenerateJob.Output out = scheduler.submit(new GenerateJob(new int[] {5, 6, 7}, 10, p, config.eosTokenIds,
            null)).get(60, TimeUnit.SECONDS);
        assertEquals(3, out.completionIds.length);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
      assertFalse(gpu.launches.contains("choose_tokens"));
    }
    FakeGpu broken = new FakeGpu(1L << 30);
    broken.failToBuild = "attention_decode.cu";
    assertThrows(CudaException.class, () -> new CudaOps(broken, null), "no fallback for decode attention");
  }

  @Test
  void aFullDeviceFailsTheKvCacheWithOutOfMemory() {
    FakeGpu gpu = new FakeGpu(64L << 20);
    CudaOps ops = new CudaOps(gpu, Precision.F16);
    GptNeoConfig config = GptNeoConfig.load(Goldens.demoModel());
    OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> ops.newSequenceCache(config, 1 << 20));
    assertTrue(e.getMessage().contains("KV cache"), e.getMessage());
    // a freed cache block is reused, not allocated again
    SequenceCache s = ops.newSequenceCache(config, 100);
    long live = gpu.liveBytes();
    s.close();
    ops.newSequenceCache(config, 100).close();
    assertEquals(live, gpu.liveBytes());
    ops.close();
    assertEquals(0, gpu.liveAllocations());
  }

  @Test
  void aModelLargerThanTheDeviceIsAClearError() {
    FakeGpu gpu = new FakeGpu(4L << 20); // the demo's weights are 15 MB
    CudaOps ops = new CudaOps(gpu, null);
    Path demo = Goldens.demoModel();
    CudaException e = assertThrows(CudaException.class,
        () -> new GptNeoWeights(GptNeoConfig.load(demo), Checkpoint.open(demo), ops));
    assertTrue(e.getMessage().contains("does not fit on fake GPU"), e.getMessage());
    ops.close();
    assertEquals(0, gpu.liveAllocations());
  }

  @Test
  void argumentsOfTheWrongKindAreRefusedBeforeTheLaunch() {
    KernelFunction f = new KernelFunction("k", 0, new KernelFunction.Param[] {KernelFunction.Param.PTR,
        KernelFunction.Param.I32, KernelFunction.Param.F32});
    assertEquals(3, f.encode(1L, 2, 3f).length);
    assertEquals(Float.floatToRawIntBits(-1.5f) & 0xffffffffL, f.encode(0L, -7, -1.5f)[2]);
    assertEquals(-7L, f.encode(0L, -7, -1.5f)[1]);
    assertThrows(IllegalArgumentException.class, () -> f.encode(1, 2, 3f));
    assertThrows(IllegalArgumentException.class, () -> f.encode(1L, 2, 3.0));
    assertThrows(IllegalArgumentException.class, () -> f.encode(1L, 2));
  }
}
