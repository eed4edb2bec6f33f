package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.testing.TinyCheckpoints;
import dev.gptneo.engine.weights.Checkpoint;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend's per-layer launch choices on a {@link FakeGpu}: where the attention kernels
 * cache keys and values themselves, which layer norms write only their 16-bit copy or add a
 * residual's pending bias, and over how many blocks decode attention splits a (sequence, head). What the kernels compute is tested by
 * KernelEmulationTest and, on a GPU, by CudaOpsVsCpuTest and the goldens.
 */
class CudaLayerPlumbingTest {
  /** store_kv's place among the prefill and decode attention kernels' arguments. */
  private static final int STORE_KV_ARGUMENT = 14;

  @TempDir
  Path tmp;

  /**
   * The attention kernels cache a step's keys and values (their argument store_kv) except where
   * a prompt chunk reads cached keys on a local layer, whose ring slots a fresh key may overwrite while
   * another block still reads them: that layer runs kv_store. gptneo.cuda.kvInAttention=false: always kv_store.
   */
  @Test
  void attentionKernelsCacheKeysWhereNoRingSlotIsStillRead() {
    Path dir = TinyCheckpoints.write(tmp.resolve("kv-in-attention"), TinyCheckpoints.spec().with(s -> s.dtype = "F16"));
    GptNeoConfig config = GptNeoConfig.load(dir);
    boolean[] local = {false, true}; // the tiny model's attention_types: global, local
    assertEquals(2, config.numLayers);
    for (boolean fused : new boolean[] {true, false}) {
      FakeGpu gpu = new FakeGpu(1L << 30);
      CudaOps ops = WithProperty.build(CudaOps.KV_IN_ATTENTION_PROPERTY, String.valueOf(fused),
          () -> new CudaOps(gpu, null));
      GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(dir), ops), ops, 16, 4);
      SequenceCache a = ops.newSequenceCache(config, 12);
      SequenceCache b = ops.newSequenceCache(config, 12);
      int[] ids = {5, 9, 11, 3, 7, 2, 8, 4};
      Step step = new Step(16, 2);
      step.add(a, ids, 0, 3); // prompts from position 0
      step.add(b, ids, 0, 2);
      int from = gpu.launches.size();
      model.forward(step);
      for (int l = 0; l < 2; l++) {
        assertEquals(fused ? 1 : 0, storeArgument(gpu, from, "attention_prefill", l), "layer " + l);
      }
      assertEquals(fused ? 0 : 2, count(gpu, from, "kv_store_f16"));
      step.clear();
      step.add(a, ids, 3, 4); // a prompt's second chunk: it reads cached keys
      step.add(b, ids, 2, 1); // and a decode token
      from = gpu.launches.size();
      model.forward(step);
      for (int l = 0; l < 2; l++) {
        int expected = fused && !local[l] ? 1 : 0;
        assertEquals(expected, storeArgument(gpu, from, "attention_prefill", l), "prefill, layer " + l);
        assertEquals(expected, storeArgument(gpu, from, "attention_decode", l), "decode, layer " + l);
      }
      assertEquals(fused ? 1 : 2, count(gpu, from, "kv_store_f16"), "kv_store for the local layer only");
      ops.close();
    }
  }

  /** The store_kv argument of the layer-th launch since from whose kernel name starts with prefix. */
  private static long storeArgument(FakeGpu gpu, int from, String prefix, int layer) {
    return gpu.launchArgs.get(launchIndex(gpu, from, prefix, layer))[STORE_KV_ARGUMENT];
  }

  /** The index in gpu.launches of the layer-th launch since from whose kernel name starts with prefix. */
  private static int launchIndex(FakeGpu gpu, int from, String prefix, int layer) {
    for (int i = from, seen = 0; i < gpu.launches.size(); i++) {
      if (gpu.launches.get(i).startsWith(prefix) && seen++ == layer) {
        return i;
      }
    }
    throw new AssertionError("no launch " + layer + " of " + prefix + " in "
        + gpu.launches.subList(from, gpu.launches.size()));
  }

  private static int count(FakeGpu gpu, int from, String kernel) {
    return Collections.frequency(gpu.launches.subList(from, gpu.launches.size()), kernel);
  }

  /**
   * Before a GEMM on 16-bit inputs (five rows and more) the layer norms of q|k|v and the MLP write
   * only their 16-bit copy (layernorm's out argument 0); ln_f, whose fp32 output the heads read, and
   * the layer norms before a gemv (which reads fp32) write both. Reading such a copy-only output as
   * fp32 fails, naming why.
   */
  @Test
  void layerNormsBeforeAGemmWriteOnlyTheirSixteenBitCopy() {
    GptNeoConfig config = GptNeoConfig.load(Goldens.demoModel());
    FakeGpu gpu = new FakeGpu(1L << 30);
    try (CudaOps ops = new CudaOps(gpu, null)) {
      GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(Goldens.demoModel()),
          ops), ops, 16, 4);
      SequenceCache a = ops.newSequenceCache(config, 12);
      int[] ids = {5, 9, 11, 3, 7, 2, 8};
      Step step = new Step(16, 1);
      step.add(a, ids, 0, 6);
      model.forward(step);
      assertEquals(2 * config.numLayers, layerNormsWithoutFp32(gpu, 0), "ln_1 and ln_2 of every layer");
      assertEquals(2 * config.numLayers + 1, Collections.frequency(gpu.launches, "layernorm_f16"));
      int from = gpu.launches.size();
      step.clear();
      step.add(a, ids, 6, 1);
      model.forward(step);
      assertEquals(0, layerNormsWithoutFp32(gpu, from), "a decode step: the gemv reads fp32");
      OpsInputs in = new OpsInputs(tmp, 6);
      int d = config.hiddenSize;
      int rows = 5;
      Ops.Activations x = in.activations(ops, "F16", in.values(rows * d, 1f), rows, d);
      Ops.Activations normed = ops.activations(rows, d);
      Ops.Activations out = ops.activations(rows, 8);
      Ops.Vector gain = ops.vector(in.tensor("F16", in.values(d, 1f), d));
      ops.normLinear(x, gain, gain, 1e-5f, normed, ops.matrix(in.tensor("F16", in.values(8 * d, 1f), 8, d)), null,
          out, rows, Epilogue.STORE);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> ops.read(normed, rows, new float[rows * d]));
      assertTrue(e.getMessage().contains("layer norm's only reader was the GEMM after it"), e.getMessage());
    }
    assertEquals(0, gpu.liveAllocations());
  }

  /** layernorm launches since from whose fp32 output (argument 4) is 0. */
  private static int layerNormsWithoutFp32(FakeGpu gpu, int from) {
    int n = 0;
    for (int i = from; i < gpu.launches.size(); i++) {
      if (gpu.launches.get(i).startsWith("layernorm_") && gpu.launchArgs.get(i)[4] == 0) {
        n++;
      }
    }
    return n;
  }

  /**
   * On cuBLAS' path a residual layer's bias (attention's output projection, the MLP's second) is
   * left to the next layer norm, which adds it as it reads x (layernorm's last argument): one
   * bias_act a layer (gelu's) instead of three. Anything else that reads or writes x first has the
   * bias added by a bias_act of its own. gptneo.cuda.foldBias=false: three bias_act a layer.
   */
  @Test
  void residualBiasesFoldIntoTheNextLayerNorm() {
    GptNeoConfig config = GptNeoConfig.load(Goldens.demoModel());
    int layers = config.numLayers;
    for (boolean fold : new boolean[] {true, false}) {
      FakeGpu gpu = new FakeGpu(1L << 30);
      try (CudaOps ops = WithProperty.build(CudaLinear.FOLD_BIAS_PROPERTY, String.valueOf(fold),
          () -> new CudaOps(gpu, null))) {
        GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(Goldens.demoModel()),
            ops), ops, 16, 4);
        SequenceCache a = ops.newSequenceCache(config, 12);
        Step step = new Step(16, 1);
        step.add(a, new int[] {5, 9, 11, 3, 7, 2, 8}, 0, 6);
        model.forward(step);
        assertEquals(fold ? layers : 3 * layers, Collections.frequency(gpu.launches, "bias_act_f16"));
        // every layer norm but the first layer's ln_1 (after the embedding) takes a pending bias
        assertEquals(fold ? 2 * layers : 0, layerNorms(gpu, 0, true), gpu.launches.toString());
        assertEquals(fold ? 1 : 2 * layers + 1, layerNorms(gpu, 0, false));
      }
      assertEquals(0, gpu.liveAllocations());
    }

    // a pending bias meets another reader, a writer, or a layer norm of other rows: bias_act first
    FakeGpu gpu = new FakeGpu(1L << 30);
    try (CudaOps ops = new CudaOps(gpu, null)) {
      OpsInputs in = new OpsInputs(tmp, 7);
      int d = 64;
      int rows = 6;
      Ops.Activations h = in.activations(ops, "F16", in.values(rows * 32, 1f), rows, 32);
      Ops.Activations x = in.activations(ops, "F16", in.values(rows * d, 1f), rows, d);
      Ops.Matrix w = ops.matrix(in.tensor("F16", in.values(d * 32, 1f), d, 32));
      Ops.Vector bias = ops.vector(in.tensor("F16", in.values(d, 1f), d));
      Ops.Vector gain = ops.vector(in.tensor("F16", in.values(d, 1f), d));
      Ops.Activations normed = ops.activations(rows, d);
      ops.linear(h, w, bias, x, rows, Epilogue.ADD);
      int from = gpu.launches.size();
      ops.read(x, rows, new float[rows * d]);
      assertEquals(java.util.List.of("bias_act_f16"), gpu.launches.subList(from, gpu.launches.size()), "a read");
      ops.linear(h, w, bias, x, rows, Epilogue.ADD);
      from = gpu.launches.size();
      ops.linear(h, w, null, x, rows, Epilogue.ADD);
      assertEquals("bias_act_f16", gpu.launches.get(from), "an accumulating writer");
      ops.linear(h, w, bias, x, rows, Epilogue.ADD);
      from = gpu.launches.size();
      ops.layerNorm(x, gain, gain, 1e-5f, normed, rows - 1);
      assertEquals(java.util.List.of("bias_act_f16", "layernorm_f16"), gpu.launches.subList(from, gpu.launches.size()),
          "a layer norm of other rows");
      assertEquals(0, gpu.launchArgs.get(gpu.launches.size() - 1)[7]);
    }
    assertEquals(0, gpu.liveAllocations());
  }

  /** layernorm launches since from that add a pending bias to x (argument 7 nonzero), or that do not. */
  private static int layerNorms(FakeGpu gpu, int from, boolean withBias) {
    int n = 0;
    for (int i = from; i < gpu.launches.size(); i++) {
      if (gpu.launches.get(i).startsWith("layernorm_") && (gpu.launchArgs.get(i)[7] != 0) == withBias) {
        n++;
      }
    }
    return n;
  }

  /**
   * A step of prompts from position 0 alone, on the tensor-core attention: the q|k|v GEMM writes
   * only its 16-bit copy (gemmTo16) and attention runs the kernels that read it (_h). A step with a
   * decode token, or gptneo.cuda.halfQkv=false, keeps fp32 q|k|v.
   */
  @Test
  void promptStepsOnTheTensorCoresGetSixteenBitQkv() {
    Path dir = TinyCheckpoints.write(tmp.resolve("qkv-16"), TinyCheckpoints.spec().with(s -> {
      s.hidden = 128;
      s.heads = 2; // head size 64: the tensor-core kernel
      s.dtype = "F16";
    }));
    GptNeoConfig config = GptNeoConfig.load(dir);
    for (boolean half : new boolean[] {true, false}) {
      FakeGpu gpu = new FakeGpu(1L << 30);
      try (CudaOps ops = WithProperty.build(CudaOps.HALF_QKV_PROPERTY, String.valueOf(half),
          () -> new CudaOps(gpu, null))) {
        GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(dir), ops), ops, 16, 4);
        SequenceCache a = ops.newSequenceCache(config, 16);
        SequenceCache b = ops.newSequenceCache(config, 16);
        int[] ids = {5, 9, 11, 3, 7, 2, 8, 4, 6, 1};
        Step step = new Step(16, 2);
        step.add(a, ids, 0, 6);
        step.add(b, ids, 0, 3);
        model.forward(step);
        assertEquals(half ? config.numLayers : 0, gpu.gemmsTo16);
        assertEquals(half ? config.numLayers : 0, count(gpu, 0, "attention_prefill_mma_f16_d64_h"));
        assertEquals(half ? 0 : config.numLayers, count(gpu, 0, "attention_prefill_mma_f16_d64"));
        step.clear();
        step.add(a, ids, 6, 1); // a decode token: q|k|v in fp32 for the decode kernel
        step.add(b, ids, 3, 4);
        int from = gpu.launches.size();
        model.forward(step);
        assertEquals(half ? config.numLayers : 0, gpu.gemmsTo16, "no more 16-bit q|k|v");
        assertEquals(config.numLayers, count(gpu, from, "attention_prefill_mma_f16_d64"));
      }
      assertEquals(0, gpu.liveAllocations());
    }
  }

  /**
   * Decode attention splits a (sequence, head) over blocks (grid y: heads x splits) when the step's
   * pairs leave most multiprocessors idle: about 64 keys a part, up to two blocks a multiprocessor,
   * from the recorded shape only; never for the two-pass head sizes, and not with
   * gptneo.cuda.splitDecode=false.
   */
  @Test
  void decodeAttentionSplitsOverTheKeysWhenFewPairsWouldIdleTheDevice() {
    CudaKernels kernels = new CudaKernels(new FakeGpu(1L << 30)); // 132 multiprocessors
    CudaKernels.AttentionLayer a = new CudaKernels.AttentionLayer();
    a.heads = 20;
    a.headDim = 128;
    a.window = 256;
    assertEquals(4, kernels.decodeSplits(a, 1, 256), "batch 1 at 2.7B's shape: 256 keys in 4 parts");
    assertEquals(13, kernels.decodeSplits(a, 1, 2048), "long contexts: up to two blocks a multiprocessor");
    assertEquals(2, kernels.decodeSplits(a, 6, 2048), "120 pairs");
    assertEquals(1, kernels.decodeSplits(a, 7, 2048), "140 pairs fill the device");
    a.local = true;
    assertEquals(4, kernels.decodeSplits(a, 1, 2048), "a local layer sees at most its window");
    a.headDim = 32;
    assertEquals(4, kernels.decodeSplits(a, 1, 2048), "head size 32 (the demo model's): the one-pass kernel");
    a.headDim = 96;
    assertEquals(1, kernels.decodeSplits(a, 1, 2048), "the two-pass kernel does not split");
    for (int headDim : new int[] {16, 32, 64, 128, 256}) {
      assertTrue(CudaKernels.onePassDecode(headDim), "one pass at head size " + headDim);
    }
    for (int headDim : new int[] {8, 20, 48, 96, 130, 512}) {
      assertFalse(CudaKernels.onePassDecode(headDim), "two passes at head size " + headDim);
    }
    CudaKernels off = WithProperty.build(CudaKernels.SPLIT_DECODE_PROPERTY, "false",
        () -> new CudaKernels(new FakeGpu(1L << 30)));
    a.headDim = 128;
    assertEquals(1, off.decodeSplits(a, 1, 2048));

    // through a model at head size 64: the global layer's decode splits (partial sums and tickets
    // passed), the local one's (window 4) does not; eager, recorded and replayed alike
    Path dir = TinyCheckpoints.write(tmp.resolve("head-64"), TinyCheckpoints.spec().with(s -> {
      s.hidden = 128;
      s.heads = 2;
      s.dtype = "F16";
    }));
    GptNeoConfig config = GptNeoConfig.load(dir);
    FakeGpu gpu = new FakeGpu(1L << 30);
    try (CudaOps ops = new CudaOps(gpu, null)) {
      GptNeoModel model = new GptNeoModel(config, new GptNeoWeights(config, Checkpoint.open(dir), ops), ops, 16, 4);
      SequenceCache seq = ops.newSequenceCache(config, 12);
      int[] ids = {5, 9, 11, 3, 7, 2, 8, 4};
      Step step = new Step(16, 1);
      step.add(seq, ids, 0, 3);
      model.forward(step);
      for (int t = 3; t < 6; t++) {
        step.clear();
        step.add(seq, ids, t, 1);
        int from = gpu.launches.size();
        model.forward(step);
        int global = launchIndex(gpu, from, "attention_decode", 0);
        int local = launchIndex(gpu, from, "attention_decode", 1);
        assertEquals(2 * 4, gpu.launchGridY.get(global), "2 heads x 4 parts of the 256-key bound");
        assertTrue(gpu.launchArgs.get(global)[15] != 0 && gpu.launchArgs.get(global)[16] != 0);
        assertEquals(2, gpu.launchGridY.get(local), "window 4: one part");
      }
    }
    assertEquals(0, gpu.liveAllocations());
  }

  /**
   * gptneo.cuda.splitK: how many slices of k a GEMM gets. auto: 2.7B's decode GEMMs at 128 rows on
   * 132 multiprocessors get 5 (q|k|v, 60 blocks of y), 8 (2,560 wide), 4 (the MLP's first, 80 blocks)
   * and 8 (the MLP's second, 10,240 deep); the gemv's rows, prefill's and short k get none.
   */
  @Test
  void splitKSlicesPerShape() {
    int auto = CudaLinear.SPLIT_K_AUTO;
    assertEquals(5, CudaLinear.splitKSlices(auto, 132, 128, 2560, 7680));
    assertEquals(8, CudaLinear.splitKSlices(auto, 132, 128, 2560, 2560));
    assertEquals(4, CudaLinear.splitKSlices(auto, 132, 128, 2560, 10240));
    assertEquals(8, CudaLinear.splitKSlices(auto, 132, 32, 10240, 2560));
    assertEquals(1, CudaLinear.splitKSlices(auto, 132, 4, 2560, 2560), "the gemv's rows");
    assertEquals(1, CudaLinear.splitKSlices(auto, 132, 257, 2560, 2560), "prefill");
    assertEquals(1, CudaLinear.splitKSlices(auto, 132, 128, 128, 2560), "k too short to split");
    assertEquals(2, CudaLinear.splitKSlices(auto, 132, 128, 512, 300), "partial sums no larger than the weights");
    assertEquals(1, CudaLinear.splitKSlices(auto, 132, 128, 2560, 50257), "enough blocks already");
    assertEquals(4, CudaLinear.splitKSlices(4, 132, 20, 512, 300));
    assertEquals(1, CudaLinear.splitKSlices(4, 132, 20, 320, 300), "slices of whole 64s only");
    assertEquals(1, CudaLinear.splitKSlices(0, 132, 128, 2560, 2560), "off");
    assertEquals(0, CudaLinear.parseSplitK(null));
    assertEquals(0, CudaLinear.parseSplitK("off"));
    assertEquals(auto, CudaLinear.parseSplitK(" Auto "));
    assertEquals(3, CudaLinear.parseSplitK("3"));
    for (String bad : new String[] {"9", "-2", "yes"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaLinear.parseSplitK(bad));
      assertTrue(e.getMessage().contains("gptneo.cuda.splitK must be off, auto or a number"), e.getMessage());
    }
  }

  /**
   * With gptneo.cuda.splitK=2 every GEMM of 5-256 rows on 16-bit weights runs as one batched cuBLAS
   * GEMM over two slices of k, then sum_slices with the layer's epilogue: no bias_act, no residual
   * bias left to the layer norms (the demo model's head size, 32, keeps q|k|v in fp32: no gemmTo16).
   */
  @Test
  void splitKGemmsThenSumSlices() {
    FakeGpu gpu = new FakeGpu(1L << 30);
    try (CudaOps ops = WithProperty.build(CudaOps.SPLIT_K_PROPERTY, "2", () -> new CudaOps(gpu, null))) {
      CudaOpsPlumbingTest.runSteps(Goldens.demoModel(), ops, gpu);
      int layers = 6;
      assertEquals(2 * layers * 4, gpu.splitKSlices.size(), "both steps: q|k|v, out, fc and proj");
      assertTrue(gpu.splitKSlices.stream().allMatch(s -> s == 2), gpu.splitKSlices.toString());
      assertEquals(gpu.splitKSlices.size(), Collections.frequency(gpu.launches, "sum_slices_f16"));
      assertEquals(0, Collections.frequency(gpu.launches, "bias_act_f16"), gpu.launches.toString());
      assertEquals(0, gpu.gemms, "no plain GEMM: the LM head's 3 rows run the gemv");
    }
    assertEquals(0, gpu.liveAllocations());
  }
}
