package dev.gptneo.engine.ops.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the Vector API (incubator module {@code jdk.incubator.vector}) is in this JVM. The
 * vector kernels' classes are only loaded when it is, so a JVM without the flag still runs.
 */
public final class VectorSupport {
  private static final Logger LOG = LoggerFactory.getLogger(VectorSupport.class);
  private static final boolean AVAILABLE = detect();

  private VectorSupport() {}

  public static boolean available() {
    return AVAILABLE;
  }

  /** The vector kernels; throws when -Dgptneo.cpu.vectorBits asks for a width they cannot use. */
  static CpuKernels kernels() {
    VectorWidth.check();
    return new VectorKernels();
  }

  private static boolean detect() {
    if (Boolean.getBoolean("gptneo.disableVector")) {
      LOG.info("Vector API disabled by -Dgptneo.disableVector=true: scalar kernels");
      return false;
    }
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      LOG.info("Vector API not present (start the JVM with --add-modules jdk.incubator.vector): scalar kernels");
      return false;
    }
    try {
      Class.forName("dev.gptneo.engine.ops.cpu.VectorKernels");
      return true;
    } catch (Throwable t) {
      LOG.warn("Vector API present but unusable ({}): scalar kernels", t.toString());
      return false;
    }
  }
}
