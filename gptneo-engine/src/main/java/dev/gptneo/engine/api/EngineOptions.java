package dev.gptneo.engine.api;

import java.util.Locale;

/** How an engine runs. Immutable; build with {@link #builder()}. */
public final class EngineOptions {
  /** Which CPU kernels: the Vector API when the JVM has it, else the scalar reference. */
  public enum Kernels { AUTO, VECTOR, SCALAR }

  /** Where the fast kernels read weights: packed on the heap, or the memory-mapped checkpoint. */
  public enum Weights { AUTO, PACKED, MAPPED }

  public final int threads;            // compute threads; default: available processors
  public final Kernels kernels;        // default AUTO
  public final Weights weights;        // default AUTO: packed when the weights fit in half the heap
  public final String device;          // cpu | cuda | auto; default cpu
  public final int deviceIndex;        // which GPU for cuda/auto ("cuda:N"); default 0
  public final int maxBatchTokens;     // tokens per forward step (prompt chunks + decode tokens); default 512
  public final int maxBatchSequences;  // sequences per step; default 64
  public final long kvCacheBytes;      // KV cache budget; default a quarter of the max heap, at most 4 GB
  public final boolean kvCacheBytesSet; // kvCacheBytes was given (on a GPU it then replaces the fraction)
  public final double kvCacheFraction; // GPU: share of the free device memory (after weights) for the KV cache; 0.9
  public final int maxHeadRows;        // rows per head (LM logits) call; default 32

  private EngineOptions(Builder b) {
    threads = b.threads;
    kernels = b.kernels;
    weights = b.weights;
    device = b.device;
    deviceIndex = b.deviceIndex;
    maxBatchTokens = b.maxBatchTokens;
    maxBatchSequences = b.maxBatchSequences;
    kvCacheBytes = b.kvCacheBytes;
    kvCacheBytesSet = b.kvCacheBytesSet;
    kvCacheFraction = b.kvCacheFraction;
    maxHeadRows = b.maxHeadRows;
  }

  /**
   * The KV-cache budget in bytes: kvCacheBytes when given or when the caches live on the heap
   * ({@code freeDeviceBytes} &lt; 0), else kvCacheFraction of the device's free memory.
   */
  public long kvCacheBudget(long freeDeviceBytes) {
    return kvCacheBytesSet || freeDeviceBytes < 0 ? kvCacheBytes : (long) (freeDeviceBytes * kvCacheFraction);
  }

  public static EngineOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.threads = threads;
    b.kernels = kernels;
    b.weights = weights;
    b.device = device;
    b.deviceIndex = deviceIndex;
    b.maxBatchTokens = maxBatchTokens;
    b.maxBatchSequences = maxBatchSequences;
    b.kvCacheBytes = kvCacheBytes;
    b.kvCacheBytesSet = kvCacheBytesSet;
    b.kvCacheFraction = kvCacheFraction;
    b.maxHeadRows = maxHeadRows;
    return b;
  }

  public static final class Builder {
    private int threads = Runtime.getRuntime().availableProcessors();
    private Kernels kernels = Kernels.AUTO;
    private Weights weights = Weights.AUTO;
    private String device = "cpu";
    private int deviceIndex = 0;
    private int maxBatchTokens = 512;
    private int maxBatchSequences = 64;
    private long kvCacheBytes = Math.min(4L << 30, Runtime.getRuntime().maxMemory() / 4);
    private boolean kvCacheBytesSet;
    private double kvCacheFraction = 0.9;
    private int maxHeadRows = 32;

    public Builder threads(int v) {
      threads = v;
      return this;
    }

    public Builder kernels(Kernels v) {
      kernels = v;
      return this;
    }

    public Builder kernels(String v) {
      try {
        kernels = Kernels.valueOf(v.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("kernels must be auto, vector or scalar; got '" + v + "'");
      }
      return this;
    }

    public Builder weights(Weights v) {
      weights = v;
      return this;
    }

    public Builder weights(String v) {
      try {
        weights = Weights.valueOf(v.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("weights must be auto, packed or mapped; got '" + v + "'");
      }
      return this;
    }

    /** cpu, cuda, auto, or cuda:N / auto:N for GPU N (as torch names devices). */
    public Builder device(String v) {
      String d = v.trim().toLowerCase(Locale.ROOT);
      int colon = d.indexOf(':');
      if (colon >= 0 && !d.startsWith("cpu")) {
        try {
          deviceIndex = Integer.parseInt(d.substring(colon + 1));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("device must be cpu, cuda, auto or cuda:N; got '" + v + "'");
        }
        d = d.substring(0, colon);
      }
      device = d;
      return this;
    }

    public Builder deviceIndex(int v) {
      deviceIndex = v;
      return this;
    }

    public Builder maxBatchTokens(int v) {
      maxBatchTokens = v;
      return this;
    }

    public Builder maxBatchSequences(int v) {
      maxBatchSequences = v;
      return this;
    }

    public Builder kvCacheBytes(long v) {
      kvCacheBytes = v;
      kvCacheBytesSet = true;
      return this;
    }

    public Builder kvCacheFraction(double v) {
      kvCacheFraction = v;
      return this;
    }

    public Builder maxHeadRows(int v) {
      maxHeadRows = v;
      return this;
    }

    public EngineOptions build() {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1, got " + threads);
      }
      if (!device.equals("cpu") && !device.equals("cuda") && !device.equals("auto")) {
        throw new IllegalArgumentException("device must be cpu, cuda, auto or cuda:N; got '" + device + "'");
      }
      if (deviceIndex < 0) {
        throw new IllegalArgumentException("device index must be >= 0, got " + deviceIndex);
      }
      if (!(kvCacheFraction > 0 && kvCacheFraction <= 1)) {
        throw new IllegalArgumentException("kvCacheFraction must be in (0, 1], got " + kvCacheFraction);
      }
      if (maxBatchTokens < 1 || maxBatchSequences < 1 || maxHeadRows < 1) {
        throw new IllegalArgumentException("batch limits must be >= 1");
      }
      if (kvCacheBytes < 1) {
        throw new IllegalArgumentException("kvCacheBytes must be > 0");
      }
      return new EngineOptions(this);
    }
  }

  @Override
  public String toString() {
    return "EngineOptions{threads=" + threads + ", kernels=" + kernels + ", weights=" + weights + ", device=" + device
        + (device.equals("cpu") ? "" : ":" + deviceIndex) + ", maxBatchTokens="
        + maxBatchTokens + ", maxBatchSequences=" + maxBatchSequences + ", kvCacheBytes=" + kvCacheBytes
        + ", kvCacheFraction=" + kvCacheFraction + "}";
  }
}
