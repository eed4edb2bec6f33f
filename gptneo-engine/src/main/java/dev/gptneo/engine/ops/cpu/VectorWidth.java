package dev.gptneo.engine.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width of every CPU kernel: the CPU's preferred one, or the one {@code
 * -Dgptneo.cpu.vectorBits} pins. Sums over lanes are trees as wide as the vectors, so CPUs of
 * different widths (AVX2: 256, AVX-512: 512) give different last bits; pinned to the narrower
 * width, every executor of a mixed cluster gives the same bits. Loaded with the Vector API only.
 */
final class VectorWidth {
  static final String PROPERTY = "gptneo.cpu.vectorBits";
  static final int PREFERRED_BITS = FloatVector.SPECIES_PREFERRED.vectorBitSize();
  /** The species of the kernels; an invalid setting falls back here, and {@link #check} says why. */
  static final VectorSpecies<Float> FLOAT = VectorSpecies.of(float.class, VectorShape.forBitSize(bitsOrPreferred()));
  static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, FLOAT.vectorShape()); // for bit casts

  private VectorWidth() {}

  /** Throws, naming the setting and its valid values, when gptneo.cpu.vectorBits is set but not usable. */
  static void check() {
    parse(System.getProperty(PROPERTY), PREFERRED_BITS);
  }

  /** Whether the width was pinned (the backend's name says so). */
  static boolean pinned() {
    return System.getProperty(PROPERTY) != null;
  }

  /** The width a setting asks for: 128, 256 or 512 bits, at most the CPU's; null: the CPU's. */
  static int parse(String setting, int preferredBits) {
    if (setting == null) {
      return preferredBits;
    }
    int bits;
    try {
      bits = Integer.parseInt(setting.trim());
    } catch (NumberFormatException e) {
      bits = -1;
    }
    if (bits != 128 && bits != 256 && bits != 512 || bits > preferredBits) {
      throw new IllegalArgumentException("-D" + PROPERTY + "=" + setting + " is not a vector width this CPU has: give "
          + "128, 256 or 512, at most its own " + preferredBits + " (the narrowest CPU of a cluster, so that every "
          + "executor sums in the same order), or leave it out");
    }
    return bits;
  }

  private static int bitsOrPreferred() {
    try {
      return parse(System.getProperty(PROPERTY), PREFERRED_BITS);
    } catch (IllegalArgumentException e) {
      return PREFERRED_BITS;
    }
  }
}
