package dev.gptneo.engine.ops.cuda;

import java.util.function.Supplier;

/** Builds something with a system property set, then restores the property: the backend reads its properties when built. */
final class WithProperty {
  private WithProperty() {}

  static <T> T build(String property, String value, Supplier<T> builder) {
    String before = System.setProperty(property, value);
    try {
      return builder.get();
    } finally {
      if (before == null) {
        System.clearProperty(property);
      } else {
        System.setProperty(property, before);
      }
    }
  }
}
