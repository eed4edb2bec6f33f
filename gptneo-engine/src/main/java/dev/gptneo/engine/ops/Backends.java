package dev.gptneo.engine.ops;

import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.ops.cpu.CpuOps;
import dev.gptneo.engine.ops.cuda.CudaBackend;
import dev.gptneo.engine.ops.cuda.CudaSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the backend once, at engine start, and logs the choice and why. */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  private Backends() {}

  /**
   * device cpu: the CPU. cuda: the GPU, or an IllegalArgumentException saying why it cannot run.
   * auto: the GPU when a driver and a device are there and the backend starts, else the CPU.
   *
   * @param weightBytes the checkpoint's weight bytes: packed copies of that size go on the heap
   *     when they fit comfortably, else the kernels read the memory-mapped checkpoint
   */
  public static Ops create(EngineOptions options, long weightBytes) {
    switch (options.device) {
      case "cuda":
        requireAvailable(options);
        return cuda(options.deviceIndex, "asked for");
      case "auto":
        if (!CudaSupport.available()) {
          LOG.info("device auto: {}; running on the CPU", CudaSupport.reason());
          return cpu(options, weightBytes);
        }
        try {
          return cuda(options.deviceIndex, "device auto found " + CudaSupport.device());
        } catch (RuntimeException e) {
          LOG.warn("device auto: the CUDA backend did not start ({}); running on the CPU", e.toString());
          return cpu(options, weightBytes);
        }
      default:
        return cpu(options, weightBytes);
    }
  }

  /**
   * Fails fast, before anything is loaded or written, when options ask for a device this machine
   * cannot run: device cuda without a CUDA driver or device (an IllegalArgumentException saying why).
   */
  public static void requireAvailable(EngineOptions options) {
    if (options.device.equals("cuda") && !CudaSupport.available()) {
      throw new IllegalArgumentException("device 'cuda' is not available: " + CudaSupport.reason()
          + "; use --device cpu (or auto)");
    }
  }

  private static Ops cuda(int deviceIndex, String why) {
    Ops ops = CudaBackend.create(deviceIndex);
    LOG.info("backend: {} ({})", ops.name(), why);
    return ops;
  }

  private static Ops cpu(EngineOptions options, long weightBytes) {
    long heap = Runtime.getRuntime().maxMemory();
    boolean pack;
    String why;
    switch (options.weights) {
      case PACKED:
        pack = true;
        why = "asked for";
        break;
      case MAPPED:
        pack = false;
        why = "asked for";
        break;
      default:
        pack = weightBytes <= heap / 2;
        why = pack ? "fits in half of the " + (heap >> 20) + " MB heap"
            : "the " + (weightBytes >> 20) + " MB of weights do not fit in half of the " + (heap >> 20)
                + " MB heap (raise -Xmx, or spark.executor.memory, for packed weights: 1.4-2.5x faster)";
    }
    Ops ops = CpuOps.create(options.kernels, options.threads, pack);
    LOG.info("backend: {} ({})", ops.name(), why);
    return ops;
  }
}
