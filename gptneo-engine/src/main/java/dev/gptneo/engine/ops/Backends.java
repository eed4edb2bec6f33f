package dev.gptneo.engine.ops;

import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.ops.cpu.CpuOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the backend once, at engine start, and logs the choice and why. */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  private Backends() {}

  /**
   * @param weightBytes the checkpoint's weight bytes: packed copies of that size go on the heap
   *     when they fit comfortably, else the kernels read the memory-mapped checkpoint
   */
  public static Ops create(EngineOptions options, long weightBytes) {
    if (options.device.equals("cuda")) {
      throw new IllegalArgumentException("device 'cuda' is not available in this build; use --device cpu");
    }
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
                + " MB heap (raise -Xmx for packed weights, about 1.3x faster)";
    }
    Ops ops = CpuOps.create(options.kernels, options.threads, pack);
    LOG.info("backend: {} ({})", ops.name(), why);
    return ops;
  }
}
