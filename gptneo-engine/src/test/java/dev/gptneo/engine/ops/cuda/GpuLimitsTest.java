package dev.gptneo.engine.ops.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.bench.Bench;
import dev.gptneo.engine.bench.ModelSize;
import dev.gptneo.engine.weights.DType;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GpuLimits}, the bench's GPU limits: on {@link FakeGpu} what it launches and allocates (a
 * clock that advances 1 ms a reading makes every timing 1 ms), and on a GPU that read_words reads
 * every word and that the limits come out plausible. The emulator checks read_words' coverage too.
 */
class GpuLimitsTest {
  private static LongSupplier millisecondClock() {
    long[] now = {0};
    return () -> now[0] += 1_000_000;
  }

  @Test
  void measuresAGemmAndAReadOfOneGibibyteAndFreesEverything() {
    FakeGpu gpu = new FakeGpu(8L << 30);
    GpuLimits limits = GpuLimits.measure(gpu, 0, millisecondClock());
    double n = GpuLimits.GEMM_SIZE;
    assertEquals(4 * 2 * n * n * n / 1e-3, limits.gemmFlops, 1e3); // four GEMMs a timing
    assertEquals(8.0 * (1L << 30) / 1e-3, limits.readBytesPerSecond, 1e3); // eight reads a timing
    assertEquals("fake GPU", limits.device);
    assertEquals((1 + 3) * 4, gpu.gemmsTo16); // the untimed run, then three timings
    int reads = Collections.frequency(gpu.launches, "read_words");
    assertEquals(8 * 4, reads);
    assertEquals(132 * 8, gpu.launchGridX.get(gpu.launches.indexOf("read_words")));
    int firstRead = gpu.launches.indexOf("read_words");
    assertEquals((1 << 30) / 16, gpu.launchArgs.get(firstRead)[1]);
    assertTrue(gpu.launchArgs.get(firstRead)[0] != gpu.launchArgs.get(firstRead + 1)[0], "two buffers in turn");
    assertEquals(gpu.launchArgs.get(firstRead)[0], gpu.launchArgs.get(firstRead + 2)[0]);
    assertEquals(0, gpu.liveBytes());
    assertEquals(0, gpu.liveAllocations());
  }

  @Test
  void whatDoesNotFitIsNotMeasured() {
    FakeGpu small = new FakeGpu(600L << 20); // the GEMM's 384 MB fit; an eighth of the memory is under 256 MB
    GpuLimits limits = GpuLimits.measure(small, 0, millisecondClock());
    assertTrue(limits.gemmFlops > 0, limits.toString());
    assertTrue(Double.isNaN(limits.readBytesPerSecond), limits.toString());
    FakeGpu tiny = new FakeGpu(300L << 20); // not even the GEMM's third operand
    limits = GpuLimits.measure(tiny, 0, millisecondClock());
    assertTrue(Double.isNaN(limits.gemmFlops) && Double.isNaN(limits.readBytesPerSecond), limits.toString());
    assertEquals(0, small.liveBytes());
    assertEquals(0, tiny.liveBytes());
  }

  @Test
  void theBenchDividesByTheGpusLimits(@TempDir Path cache) {
    CudaSupport.Status status = CudaSupport.status();
    IntFunction<Gpu> devices = CudaBackend.devices;
    CudaSupport.status = new CudaSupport.Status(true, "fake GPU", 1);
    CudaBackend.devices = device -> new FakeGpu(8L << 30); // the engine's, then the limits' after it closed
    try {
      Bench.Spec spec = new Bench.Spec();
      spec.random = ModelSize.TINY;
      spec.cacheDir = cache;
      spec.dtype = DType.F16;
      spec.device = "cuda";
      spec.task = "generate";
      spec.newTokens = 3;
      spec.iterations = 1;
      spec.calibrationSeconds = 0.01;
      ObjectNode json = Bench.run(spec, new PrintStream(OutputStream.nullOutputStream()));
      assertEquals("cuda", json.get("device").asText());
      assertTrue(json.get("limits").asText().startsWith("cuda, fake GPU: cuBLAS fp16 GEMM 8192^3"), json.toString());
      // (pct_of_bandwidth needs decode steps slower than the fake device's noise: bandwidth_bound_tokens_per_s
      // divides the same bytes by the same limit)
      for (String f : List.of("peak_gflops_per_s", "peak_gb_per_s", "pct_of_peak", "bandwidth_bound_tokens_per_s")) {
        assertTrue(json.get(f).isNumber(), f + " in " + json);
      }
    } finally {
      CudaSupport.status = status;
      CudaBackend.devices = devices;
    }
  }

  @Test
  void onTheGpuReadWordsReadsEveryWordAndTheLimitsArePlausible() {
    assumeTrue(CudaSupport.available(), "no usable GPU: " + CudaSupport.reason());
    try (Gpu gpu = new DriverGpu(0)) {
      KernelFunction read = gpu.load("elementwise.cu", KernelSources.read("elementwise.cu"), KernelSources.headers())
          .get("read_words");
      int words = 1_000_003;
      ByteBuffer host = ByteBuffer.allocateDirect(16 * words).order(ByteOrder.LITTLE_ENDIAN);
      SplittableRandom random = new SplittableRandom(7);
      int want = 0;
      while (host.hasRemaining()) {
        int v = random.nextInt();
        want ^= v;
        host.putInt(v);
      }
      host.flip();
      int blocks = 77;
      long src = gpu.malloc(16L * words);
      long out = gpu.malloc(4L * blocks);
      gpu.upload(src, host);
      gpu.launch(read, blocks, 1, 256, 0, read.encode(src, words, out));
      ByteBuffer got = gpu.download(out, 4L * blocks);
      int all = 0;
      for (int b = 0; b < blocks; b++) {
        all ^= got.getInt(4 * b);
      }
      assertEquals(want, all);
      gpu.free(src);
      gpu.free(out);
    }
    GpuLimits limits = GpuLimits.measure(0, 0.3);
    System.out.println("GPU limits: " + limits.device + ": " + limits);
    // an Ampere or newer GPU: tens of TFLOP/s on fp16 tensor cores at least, and a few hundred GB/s
    assertTrue(limits.gemmFlops > 20e12 && limits.gemmFlops < 5e15, limits.toString());
    assertTrue(limits.readBytesPerSecond > 200e9 && limits.readBytesPerSecond < 20e12, limits.toString());
  }
}
