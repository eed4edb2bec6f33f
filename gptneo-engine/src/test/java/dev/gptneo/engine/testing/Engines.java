package dev.gptneo.engine.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.ops.cpu.VectorSupport;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Engines shared by all tests of a JVM, one per (model folder, kernels); closed at exit. */
public final class Engines {
  private static final Map<String, Engine> OPEN = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.values().forEach(Engine::close)));
  }

  private Engines() {}

  public static Engine get(Path dir, EngineOptions.Kernels kernels) {
    return get(dir, kernels, EngineOptions.Weights.AUTO);
  }

  /** The kernel paths every golden test runs on. */
  public enum Path3 {
    /** Vector API over weights packed on the heap. */
    PACKED,
    /** Vector API over the memory-mapped checkpoint (the low-memory path). */
    MAPPED,
    /** The scalar reference. */
    SCALAR
  }

  public static Engine get(Path dir, Path3 path) {
    switch (path) {
      case PACKED:
        return get(dir, EngineOptions.Kernels.VECTOR, EngineOptions.Weights.PACKED);
      case MAPPED:
        return get(dir, EngineOptions.Kernels.VECTOR, EngineOptions.Weights.MAPPED);
      default:
        return get(dir, EngineOptions.Kernels.SCALAR, EngineOptions.Weights.AUTO);
    }
  }

  public static Engine get(Path dir, EngineOptions.Kernels kernels, EngineOptions.Weights weights) {
    if (kernels == EngineOptions.Kernels.VECTOR) {
      assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
    }
    return OPEN.computeIfAbsent(dir + "|" + kernels + "|" + weights,
        k -> Engine.open(dir, EngineOptions.builder().threads(2).kernels(kernels).weights(weights).build()));
  }
}
