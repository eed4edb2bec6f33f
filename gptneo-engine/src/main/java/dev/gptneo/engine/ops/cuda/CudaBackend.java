package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Ops;

/** Creates the CUDA backend on a device; see {@link CudaSupport} for whether it can run. */
public final class CudaBackend {
  /**
   * System property for the GPU's weight precision: auto (default: the checkpoint's 16-bit type,
   * F32 checkpoints in BF16), f16, bf16, or f32 (fp32 GEMMs: slow, for checking against the CPU).
   */
  public static final String PRECISION_PROPERTY = "gptneo.cuda.precision";

  /** How a device index becomes a {@link Gpu}: the driver's. Tests of the whole engine put a fake device here. */
  static volatile java.util.function.IntFunction<Gpu> devices = DriverGpu::new;

  private CudaBackend() {}

  /** @throws IllegalStateException with the reason when CUDA cannot run in this JVM */
  public static Ops create(int device) {
    if (!CudaSupport.available()) {
      throw new IllegalStateException(CudaSupport.reason());
    }
    if (device >= CudaSupport.deviceCount()) {
      throw new IllegalArgumentException("device cuda:" + device + " does not exist: this machine has "
          + CudaSupport.deviceCount() + " CUDA device(s), numbered from 0");
    }
    Precision precision = Precision.parse(System.getProperty(PRECISION_PROPERTY, "auto"));
    Gpu gpu = devices.apply(device);
    try {
      return new CudaOps(gpu, precision);
    } catch (RuntimeException | Error e) {
      gpu.close();
      throw e;
    }
  }
}
