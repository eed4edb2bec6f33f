package dev.gptneo.engine.ops;

import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.ops.cpu.CpuOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the backend once, at engine start, and logs the choice and why. */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  private Backends() {}

  public static Ops create(EngineOptions options) {
    if (options.device.equals("cuda")) {
      throw new IllegalArgumentException("device 'cuda' is not available in this build; use --device cpu");
    }
    Ops ops = CpuOps.create(options.kernels, options.threads);
    LOG.info("backend: {}", ops.name());
    return ops;
  }
}
