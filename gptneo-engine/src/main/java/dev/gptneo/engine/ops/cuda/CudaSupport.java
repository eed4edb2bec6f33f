package dev.gptneo.engine.ops.cuda;

import java.util.Locale;

/**
 * Whether this JVM can run the CUDA backend, and if not, why, in words. Checked once; never throws.
 * Without an NVIDIA driver, loading bytedeco's CUDA classes fails with
 * {@code UnsatisfiedLinkError: libcuda.so.1}: that becomes "no CUDA driver (libcuda.so.1 not found)".
 * The CUDA classes are only touched inside {@link Probe}, so a failure stays here.
 */
public final class CudaSupport {
  /** The kernels convert to bf16 in PTX (cvt.rn.bf16.f32): Ampere (compute capability 8.0) or newer. */
  static final int MIN_COMPUTE_CAPABILITY = 80;

  static volatile Status status; // checked once; tests of the whole engine on a fake device replace it

  private CudaSupport() {}

  /** The outcome of the check: available, or the reason it is not. */
  static final class Status {
    final boolean available;
    final String text; // the device when available, else the reason
    final int devices; // CUDA devices seen (0 when unavailable)

    Status(boolean available, String text) {
      this(available, text, 0);
    }

    Status(boolean available, String text, int devices) {
      this.available = available;
      this.text = text;
      this.devices = devices;
    }
  }

  /** True when a driver, a device of compute capability 8.0+, cuBLAS and NVRTC are all loadable. */
  public static boolean available() {
    return status().available;
  }

  /** Why the backend cannot run here (e.g. "no CUDA driver (libcuda.so.1 not found)"); null when it can. */
  public static String reason() {
    Status s = status();
    return s.available ? null : s.text;
  }

  /** The device the backend would use, e.g. "NVIDIA H100 80GB HBM3 (cc 9.0)"; null when unavailable. */
  public static String device() {
    Status s = status();
    return s.available ? s.text : null;
  }

  /** How many CUDA devices this JVM sees; 0 when the backend cannot run. */
  public static int deviceCount() {
    return status().devices;
  }

  static Status status() {
    Status s = status;
    if (s == null) {
      synchronized (CudaSupport.class) {
        if (status == null) {
          status = check();
        }
        s = status;
      }
    }
    return s;
  }

  private static Status check() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return new Status(false, "the CUDA backend ships for linux-x86_64 only; this JVM runs on " + os + "/" + arch);
    }
    try {
      return Probe.run(0);
    } catch (Throwable t) {
      return new Status(false, explain(t));
    }
  }

  /** Turns a loading failure into a reason a user can act on. */
  static String explain(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) { // the missing library, wherever it is named
      String m = String.valueOf(c.getMessage());
      if (m.contains("libcuda.so")) {
        return "no CUDA driver (libcuda.so.1 not found)";
      }
      for (String lib : new String[] {"libcudart", "libcublasLt", "libcublas", "libnvrtc"}) {
        if (m.contains(lib)) {
          return "CUDA library " + lib + " not found (" + firstLine(m) + "); add its folder to LD_LIBRARY_PATH";
        }
      }
    }
    String m = String.valueOf(t.getMessage());
    if (t instanceof NoClassDefFoundError && m.startsWith("org/bytedeco")) {
      return "the bytedeco CUDA jars are not on the classpath (" + m + ")";
    }
    return "CUDA cannot load: " + firstLine(t.toString());
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** Touches the CUDA classes; any linkage error escapes to {@link #check}. */
  private static final class Probe {
    static Status run(int device) {
      int[] v = new int[1];
      org.bytedeco.cuda.global.cudart.cudaDriverGetVersion(v);
      if (v[0] == 0) {
        return new Status(false, "no CUDA driver (cudaDriverGetVersion reports none)");
      }
      int[] count = new int[1];
      int rc = org.bytedeco.cuda.global.cudart.cudaGetDeviceCount(count);
      if (rc != 0 || count[0] == 0) {
        return new Status(false, "no CUDA device" + (rc != 0 ? " (cudaGetDeviceCount: "
            + org.bytedeco.cuda.global.cudart.cudaGetErrorString(rc).getString() + ")" : ""));
      }
      org.bytedeco.cuda.cudart.cudaDeviceProp p = new org.bytedeco.cuda.cudart.cudaDeviceProp();
      rc = org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties(p, device);
      if (rc != 0) {
        return new Status(false, "cannot query CUDA device " + device + ": "
            + org.bytedeco.cuda.global.cudart.cudaGetErrorString(rc).getString());
      }
      String name = p.name().getString() + " (cc " + p.major() + "." + p.minor() + ")";
      if (p.major() * 10 + p.minor() < MIN_COMPUTE_CAPABILITY) {
        return new Status(false, "GPU " + name + " is older than the backend's minimum, compute capability 8.0");
      }
      org.bytedeco.javacpp.Loader.load(org.bytedeco.cuda.global.cublas.class);
      org.bytedeco.javacpp.Loader.load(org.bytedeco.cuda.global.nvrtc.class);
      return new Status(true, name + ", driver " + v[0] / 1000 + "." + v[0] % 1000 / 10, count[0]);
    }
  }
}
