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
    if (kernels == EngineOptions.Kernels.VECTOR) {
      assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
    }
    return OPEN.computeIfAbsent(dir + "|" + kernels,
        k -> Engine.open(dir, EngineOptions.builder().threads(2).kernels(kernels).build()));
  }
}
